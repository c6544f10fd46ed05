// Model::to_value: the resolved table as a document, for spattn_model_to_json.
#include <cmath>

#include "core/enum_names.hpp"
#include "resolve/model.hpp"

namespace spattn {
namespace {

Value number_or_null(double number) {
  return std::isnan(number) ? Value::make_null() : Value::make_number(number);
}

Value string_or_null(const char* text) { return text != nullptr ? Value::make_string(text) : Value::make_null(); }

Value phase_values(const PhaseValues& values) {
  Value out = Value::make_object();
  if (values.prefill) out.add_member("prefill", Value::make_number(*values.prefill));
  if (values.decode) out.add_member("decode", Value::make_number(*values.decode));
  return out;
}

// A part of the calibration: its value, null when absent, or {"error": ...}.
template <class T, class Describe>
Value checked_value(const Checked<T>& part, Describe describe) {
  if (!part.present()) return Value::make_null();
  if (const Error* error = part.error()) {
    Value out = Value::make_object();
    out.add_member("error", Value::make_string(error->what()));
    return out;
  }
  return describe(part.get());
}

Value phase_coefficients(const Checked<PhaseFormula>& phase) {
  return checked_value(phase, [](const PhaseFormula& f) {
    Value out = Value::make_object();
    for (size_t i = 0; i < f.coefficient_names.size(); ++i) {
      out.add_member(f.coefficient_names[i], Value::make_number(f.coefficients[i]));
    }
    return out;
  });
}

Value patterns_value(const std::vector<std::string>& patterns) {
  Value out = Value::make_array();
  for (const std::string& pattern : patterns) out.items.push_back(Value::make_string(pattern));
  return out;
}

Value calibration_value(const SkipSoftmaxCalibration& calibration) {
  Value out = Value::make_object();
  out.add_member("group", Value::make_string(calibration.group));
  out.add_member("formula", checked_value(calibration.formula, [](const CalibrationFormula& f) {
                   Value formula = Value::make_object();
                   formula.add_member("text", Value::make_string(f.text));
                   formula.add_member("prefill", phase_coefficients(f.phases[SPATTN_PHASE_PREFILL]));
                   formula.add_member("decode", phase_coefficients(f.phases[SPATTN_PHASE_DECODE]));
                   return formula;
                 }));
  out.add_member("target_sparsity", checked_value(calibration.target_sparsity, phase_values));
  out.add_member("disabled_until_timestep",
                 checked_value(calibration.disabled_until_timestep, [](double t) { return Value::make_number(t); }));
  out.add_member("ignore", patterns_value(calibration.ignore));
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
  out.add_member("target", Value::make_bool(component.target));
  out.add_member("config", component.origin.empty() ? Value::make_null() : Value::make_string(component.origin));
  const ComponentCalibration& calibration = component.calibration;
  out.add_member("calibration",
                 calibration.skip_softmax ? calibration_value(*calibration.skip_softmax) : Value::make_null());
  out.add_member("ignore", patterns_value(calibration.ignore));
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
  out.add_member("algorithm", string_or_null(algorithm_name(params.algorithm)));
  out.add_member("enabled", Value::make_bool(params.enabled != 0));
  out.add_member("disabled_reason", string_or_null(disabled_reason_name(params.disabled_reason)));
  out.add_member("phase_key", string_or_null(phase_key_name(params.phase_key)));
  out.add_member("threshold_scale_factor", Value::make_number(params.threshold_scale_factor));
  out.add_member("threshold_source", string_or_null(source_name(params.threshold_source)));
  out.add_member("target_sparsity", number_or_null(params.target_sparsity));
  out.add_member("target_source", string_or_null(source_name(params.target_source)));
  out.add_member("disabled_until_timestep", number_or_null(params.disabled_until_timestep));
  out.add_member("timestep_source", string_or_null(source_name(params.timestep_source)));
  out.add_member("sparsity_n", Value::make_number(params.sparsity_n));
  out.add_member("sparsity_m", Value::make_number(params.sparsity_m));
  out.add_member("num_sink_tokens", Value::make_number(params.num_sink_tokens));
  out.add_member("dense_window_size", Value::make_number(params.dense_window_size));
  out.add_member("quantize_p", Value::make_bool(params.quantize_p != 0));
  out.add_member("vsa_sparsity", Value::make_number(params.vsa_sparsity));
  Value shape = Value::make_array();
  for (int32_t extent : params.vsa_cube_shape) shape.items.push_back(Value::make_number(extent));
  out.add_member("vsa_cube_shape", std::move(shape));
  return out;
}

Value Model::to_value() const {
  Value out = Value::make_object();
  out.add_member("checkpoint", Value::make_string(directory_));
  out.add_member("user_algorithm", user_ ? string_or_null(algorithm_name(user_->algorithm)) : Value::make_null());
  Value components = Value::make_array();
  for (const ResolvedComponent& component : components_) components.items.push_back(component_value(component));
  out.add_member("components", std::move(components));
  return out;
}

}  // namespace spattn
