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

// Reads the file `relative` ("a/b/config.json") below the open folder
// `folder_fd` one path element at a time, following no symlink and opening
// no FIFO or device: SPATTN_ERR_UNSAFE_PATH when an element is a symlink,
// _IO when something is missing or not a regular file, _LIMIT when the file
// is larger than max_bytes. `shown` names the file in messages. The folder
// reader resolves paths (symlinks allowed inside the folder) and then reads
// the resolved path with this, so that a folder changed between the two
// steps cannot lead it outside.
std::string read_below(int folder_fd, const std::string& relative, const std::string& shown, size_t max_bytes);

}  // namespace spattn
