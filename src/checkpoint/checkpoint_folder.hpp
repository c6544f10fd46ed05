// Reading an untrusted checkpoint folder: a plain `config.json`, or a
// diffusers `model_index.json` naming components that each have their own
// `<name>/config.json`. Every path read is checked to stay inside the folder
// (symlinks resolved), and every file is size-limited.
#pragma once

#include <string>
#include <vector>

#include "value/value.hpp"

namespace spattn {

struct ComponentDocument {
  std::string name;     // "" for a plain checkpoint
  std::string origin;   // the config.json path as shown in messages
  Value config;         // parsed config.json, a mapping
};

// Components in model_index.json order (or the one plain component).
// Errors: SPATTN_ERR_NOT_FOUND (neither file), _UNSAFE_PATH (a component
// name that is not a single folder name, a path resolving outside the
// folder), _IO, _LIMIT, _SYNTAX, _TYPE (a JSON file that is not a mapping),
// _CHECKPOINT (model_index.json without any usable component).
std::vector<ComponentDocument> read_checkpoint_folder(const std::string& directory);

// Whether `name` may name a component folder: one path element of
// [A-Za-z0-9_.-], not "." or "..".
bool is_safe_component_name(const std::string& name);

}  // namespace spattn
