// extern "C" entry points of the model handle (checkpoint + user config,
// resolved per layer).
#include <spattn/spattn.h>

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

#include "capi/config_handle.hpp"
#include "capi/guard.hpp"
#include "capi/model_handle.hpp"
#include "capi/struct_size.hpp"
#include "value/json_writer.hpp"

using spattn::fail;
using spattn::guarded;
using spattn::require_arg;

namespace {

const spattn::ResolvedComponent* component_at(const spattn_model* model, size_t index) {
  if (model == nullptr || index >= model->model.components().size()) return nullptr;
  return &model->model.components()[index];
}

void require_lookup_arguments(spattn_phase phase, double timestep, const char* function) {
  if (phase != SPATTN_PHASE_PREFILL && phase != SPATTN_PHASE_DECODE) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         std::string(function) + ": phase " + std::to_string(int(phase)) + " is not a spattn_phase");
  }
  if (std::isnan(timestep) || timestep > 1.0) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         std::string(function) + ": timestep " + spattn::format_number(timestep) +
             " must be in [0, 1], or negative (SPATTN_NO_TIMESTEP) for none");
  }
}

}  // namespace

extern "C" {

spattn_status spattn_model_open(const char* checkpoint_dir, const spattn_config* user_config,
                                spattn_model** out_model) {
  return guarded([&] {
    require_arg(out_model, "spattn_model_open", "out_model");
    *out_model = nullptr;
    require_arg(checkpoint_dir, "spattn_model_open", "checkpoint_dir");
    const spattn::SparseConfig* user = user_config != nullptr ? &user_config->config : nullptr;
    *out_model = new spattn_model{spattn::Model(checkpoint_dir, user)};
  });
}

void spattn_model_destroy(spattn_model* model) { delete model; }

size_t spattn_model_component_count(const spattn_model* model) {
  return model == nullptr ? 0 : model->model.components().size();
}

const char* spattn_model_component_name(const spattn_model* model, size_t index) {
  const spattn::ResolvedComponent* component = component_at(model, index);
  return component == nullptr ? nullptr : component->name.c_str();
}

size_t spattn_model_ignore_count(const spattn_model* model, size_t component_index) {
  const spattn::ResolvedComponent* component = component_at(model, component_index);
  return component == nullptr ? 0 : component->ignore.size();
}

const char* spattn_model_ignore_pattern(const spattn_model* model, size_t component_index,
                                        size_t pattern_index) {
  const spattn::ResolvedComponent* component = component_at(model, component_index);
  if (component == nullptr || pattern_index >= component->ignore.size()) return nullptr;
  return component->ignore[pattern_index].text().c_str();
}

spattn_status spattn_model_lookup(const spattn_model* model, const char* component,
                                  const char* layer_name, spattn_phase phase, double timestep,
                                  spattn_layer_params* out) {
  return guarded([&] {
    static const char* const function = "spattn_model_lookup";
    require_arg(model, function, "model");
    require_arg(layer_name, function, "layer_name");
    require_arg(out, function, "out");
    spattn::require_struct(out, function, "out");
    require_lookup_arguments(phase, timestep, function);
    spattn_layer_params result;
    result.struct_size = sizeof result;
    spattn::lookup_layer(model->model.component(component), layer_name, phase, timestep, result);
    spattn::write_struct(out, result, function, "out");  // only on success: untouched on failure
  });
}

spattn_status spattn_model_phase_key(const spattn_model* model, const char* component, spattn_phase phase,
                                     double timestep, spattn_phase_key* out_key) {
  return guarded([&] {
    require_arg(model, "spattn_model_phase_key", "model");
    require_arg(out_key, "spattn_model_phase_key", "out_key");
    require_lookup_arguments(phase, timestep, "spattn_model_phase_key");
    *out_key = spattn::component_phase_key(model->model.component(component), phase, timestep);
  });
}

spattn_status spattn_model_to_json(const spattn_model* model, char** out_json) {
  return guarded([&] {
    require_arg(out_json, "spattn_model_to_json", "out_json");
    *out_json = nullptr;
    require_arg(model, "spattn_model_to_json", "model");
    *out_json = spattn::copy_out_string(spattn::write_json(model->model.to_value()));
  });
}

}  // extern "C"
