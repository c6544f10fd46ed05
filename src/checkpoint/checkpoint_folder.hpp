// Reading an untrusted checkpoint folder: a plain `config.json`, or a
// diffusers `model_index.json` naming components. Every path read is checked
// to stay inside the folder (symlinks resolved; a Hugging Face cache
// snapshot may also point into its repository's blobs/), and every file is
// size-limited. Components that are not sparse-attention targets (text
// encoders, VAEs, ...) are listed without reading their files.
#pragma once

#include <string>
#include <vector>

#include "value/value.hpp"

namespace spattn {

struct ComponentDocument {
  std::string name;     // "" for a plain checkpoint
  std::string origin;   // the config.json path as shown in messages ("" when none was read)
  bool target = true;   // a sparse-attention target; otherwise always dense
  Value config;         // parsed config.json of a target, a mapping
};

// Components in model_index.json order (or the one plain component). Targets
// are the denoisers (transformer, transformer_<N>, unet), whose config.json
// must be there, and any other component whose config.json carries a
// sparse_attention_config; the known non-targets (is_known_non_target) are
// not read, and another component's unreadable config.json is logged.
// Errors: SPATTN_ERR_NOT_FOUND (neither file), _UNSAFE_PATH (a component
// name that is not a single folder name, a path resolving outside the
// folder), _IO, _LIMIT, _SYNTAX, _TYPE (a JSON file that is not a mapping),
// _CHECKPOINT (model_index.json naming no component, a denoiser without
// config.json).
std::vector<ComponentDocument> read_checkpoint_folder(const std::string& directory);

// Whether a component is a denoiser by its name: transformer,
// transformer_<digits>, unet.
bool is_denoiser_name(const std::string& name);
// Whether a component is never a target by its name: text_encoder*, vae*,
// tokenizer*, scheduler*, image_encoder*, image_processor*,
// feature_extractor*, safety_checker*.
bool is_known_non_target(const std::string& name);

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
