// Model::to_value: the resolved table as a document, for spattn_model_to_json.
#include <cmath>

#include "resolve/model.hpp"

namespace spattn {
namespace {

Value number_or_null(double number) {
  return std::isnan(number) ? Value::make_null() : Value::make_number(number);
}

const char* source_name(spattn_source source) {
  switch (source) {
    case SPATTN_SOURCE_USER: return "user";
    case SPATTN_SOURCE_CHECKPOINT: return "checkpoint";
    case SPATTN_SOURCE_FORMULA: return "formula";
    default: return "none";
  }
}

const char* reason_name(spattn_disabled_reason reason) {
  switch (reason) {
    case SPATTN_DISABLED_NOT: return "enabled";
    case SPATTN_DISABLED_IGNORED: return "ignored";
    case SPATTN_DISABLED_TIMESTEP: return "timestep";
    default: return "not_configured";
  }
}

Value phase_values(const PhaseValues& values) {
  Value out = Value::make_object();
  out.add_member("prefill", Value::make_number(values.prefill));
  out.add_member("decode", Value::make_number(values.decode));
  return out;
}

Value coefficients(const CalibrationFormula& formula, int phase) {
  Value out = Value::make_object();
  for (size_t i = 0; i < formula.coefficient_names.size(); ++i) {
    out.add_member(formula.coefficient_names[i], Value::make_number(formula.coefficients[phase][i]));
  }
  return out;
}

Value calibration_value(const SkipSoftmaxCalibration& calibration) {
  Value out = Value::make_object();
  out.add_member("group", Value::make_string(calibration.group));
  if (calibration.formula) {
    out.add_member("formula", Value::make_string(calibration.formula->formula.text()));
    Value per_phase = Value::make_object();
    per_phase.add_member("prefill", coefficients(*calibration.formula, SPATTN_PHASE_PREFILL));
    per_phase.add_member("decode", coefficients(*calibration.formula, SPATTN_PHASE_DECODE));
    out.add_member("coefficients", std::move(per_phase));
  } else {
    out.add_member("formula", Value::make_null());
  }
  out.add_member("target_sparsity",
                 calibration.target_sparsity ? phase_values(*calibration.target_sparsity) : Value::make_null());
  out.add_member("disabled_until_timestep", calibration.disabled_until_timestep
                                                ? Value::make_number(*calibration.disabled_until_timestep)
                                                : Value::make_null());
  Value ignore = Value::make_array();
  for (const std::string& pattern : calibration.ignore) ignore.items.push_back(Value::make_string(pattern));
  out.add_member("ignore", std::move(ignore));
  return out;
}

Value resolved_phase_value(const ResolvedPhase& phase) {
  if (phase.status == SPATTN_OK) return layer_params_to_value(phase.params);
  Value error = Value::make_object();
  error.add_member("status", Value::make_string(spattn_status_string(phase.status)));
  error.add_member("message", Value::make_string(phase.error));
  Value out = Value::make_object();
  out.add_member("error", std::move(error));
  return out;
}

Value component_value(const ResolvedComponent& component) {
  Value out = Value::make_object();
  out.add_member("name", Value::make_string(component.name));
  out.add_member("config", Value::make_string(component.origin));
  const ComponentCalibration& calibration = component.calibration;
  out.add_member("calibration",
                 calibration.skip_softmax ? calibration_value(*calibration.skip_softmax) : Value::make_null());
  Value others = Value::make_array();
  for (const OtherGroup& group : calibration.other_groups) {
    Value item = Value::make_object();
    item.add_member("group", Value::make_string(group.name));
    item.add_member("algorithm", Value::make_string(group.algorithm));
    others.items.push_back(std::move(item));
  }
  out.add_member("other_groups", std::move(others));
  Value resolved = Value::make_object();
  resolved.add_member("prefill", resolved_phase_value(component.phases[SPATTN_PHASE_PREFILL]));
  resolved.add_member("decode", resolved_phase_value(component.phases[SPATTN_PHASE_DECODE]));
  out.add_member("resolved", std::move(resolved));
  return out;
}

}  // namespace

Value layer_params_to_value(const spattn_layer_params& params) {
  Value out = Value::make_object();
  const char* algorithm = spattn_algorithm_name(params.algorithm);
  out.add_member("algorithm", Value::make_string(algorithm != nullptr ? algorithm : "unknown"));
  out.add_member("enabled", Value::make_bool(params.enabled != 0));
  out.add_member("disabled_reason", Value::make_string(reason_name(params.disabled_reason)));
  out.add_member("phase_key",
                 Value::make_string(params.phase_key == SPATTN_PHASE_KEY_SPARSE ? "sparse" : "dense"));
  out.add_member("threshold_scale_factor", Value::make_number(params.threshold_scale_factor));
  out.add_member("threshold_source", Value::make_string(source_name(params.threshold_source)));
  out.add_member("target_sparsity", number_or_null(params.target_sparsity));
  out.add_member("target_source", Value::make_string(source_name(params.target_source)));
  out.add_member("disabled_until_timestep", number_or_null(params.disabled_until_timestep));
  out.add_member("timestep_source", Value::make_string(source_name(params.timestep_source)));
  out.add_member("sparsity_n", Value::make_number(params.sparsity_n));
  out.add_member("sparsity_m", Value::make_number(params.sparsity_m));
  out.add_member("num_sink_tokens", Value::make_number(params.num_sink_tokens));
  out.add_member("dense_window_size", Value::make_number(params.dense_window_size));
  out.add_member("quantize_p", Value::make_bool(params.quantize_p != 0));
  return out;
}

Value Model::to_value() const {
  Value out = Value::make_object();
  out.add_member("checkpoint", Value::make_string(directory_));
  const char* algorithm = user_ ? spattn_algorithm_name(user_->algorithm) : nullptr;
  out.add_member("user_algorithm", algorithm != nullptr ? Value::make_string(algorithm) : Value::make_null());
  Value components = Value::make_array();
  for (const ResolvedComponent& component : components_) components.items.push_back(component_value(component));
  out.add_member("components", std::move(components));
  return out;
}

}  // namespace spattn
