// A checkpoint resolved against a user config: the immutable model behind
// the spattn_model handle.
#pragma once

#include <spattn/spattn.h>

#include <optional>
#include <string>
#include <vector>

#include "config/sparse_config.hpp"
#include "resolve/component_resolution.hpp"
#include "value/value.hpp"

namespace spattn {

class Model {
 public:
  // Reads and resolves the checkpoint folder (see spattn_model_open).
  Model(const std::string& checkpoint_dir, const SparseConfig* user);

  const std::vector<ResolvedComponent>& components() const { return components_; }

  // The component named `name` (NULL is ""); SPATTN_ERR_NOT_FOUND listing
  // the known ones otherwise.
  const ResolvedComponent& component(const char* name) const;

  // The document of spattn_model_to_json.
  Value to_value() const;

 private:
  // SPATTN_ERR_CALIBRATION_MISSING when the user asked for a target that
  // no component can map.
  void require_some_target_resolved() const;
  // Reports what was resolved through the caller's log callback, if any.
  void log_component(const ResolvedComponent& component) const;

  std::string directory_;
  std::optional<SparseConfig> user_;
  std::vector<ResolvedComponent> components_;
};

// The JSON form of the parameters of a lookup (NaN written as null).
Value layer_params_to_value(const spattn_layer_params& params);

}  // namespace spattn
