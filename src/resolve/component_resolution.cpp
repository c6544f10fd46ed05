#include "resolve/component_resolution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/enum_names.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "resolve/layer_names.hpp"
#include "value/json_writer.hpp"

namespace spattn {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string describe_component(const std::string& name) {
  return name.empty() ? "the checkpoint" : "component '" + name + "'";
}

spattn_layer_params blank_params(spattn_algorithm algorithm) {
  spattn_layer_params params{};
  params.struct_size = sizeof(spattn_layer_params);
  params.algorithm = algorithm;
  params.enabled = 0;
  params.disabled_reason = SPATTN_DISABLED_NOT_CONFIGURED;
  params.phase_key = SPATTN_PHASE_KEY_DENSE;
  params.threshold_scale_factor = 0.0;
  params.threshold_source = SPATTN_SOURCE_NONE;
  params.target_sparsity = kNaN;
  params.target_source = SPATTN_SOURCE_NONE;
  params.disabled_until_timestep = kNaN;
  params.timestep_source = SPATTN_SOURCE_NONE;
  return params;
}

void copy_user_extras(const SkipSoftmaxSettings& settings, spattn_layer_params& params) {
  params.sparsity_n = settings.sparsity_n;
  params.sparsity_m = settings.sparsity_m;
  params.num_sink_tokens = settings.num_sink_tokens;
  params.dense_window_size = settings.dense_window_size;
  params.quantize_p = settings.quantize_p ? 1 : 0;
  if (params.sparsity_m != 0) params.phase_key = SPATTN_PHASE_KEY_SPARSE;  // N:M alone is sparse too
}

// A threshold for the kernel: > 0 turns skip-softmax on; 0 or less (a user
// 0, a formula result <= 0) is off for this phase, as in TensorRT-LLM.
void apply_threshold(spattn_layer_params& params, double threshold, spattn_source source) {
  params.threshold_source = source;
  if (!(threshold > 0.0)) {
    params.disabled_reason = SPATTN_DISABLED_ZERO_THRESHOLD;
    return;
  }
  params.enabled = 1;
  params.disabled_reason = SPATTN_DISABLED_NOT;
  params.phase_key = SPATTN_PHASE_KEY_SPARSE;
  params.threshold_scale_factor = threshold;
}

bool is_sparse(const spattn_layer_params& params) { return params.enabled != 0 || params.sparsity_m != 0; }

// Which checkpoint parts a resolution consulted, so that a defect in any
// other is logged rather than raised.
struct Uses {
  bool target = false;
  bool cutoff = false;
  bool formula[2] = {false, false};
};

const SkipSoftmaxSettings kNothingSet;

// skip_softmax in one phase: a user threshold, else a target (the user's,
// else the checkpoint's) mapped through the formula.
ResolvedPhase resolve_skip_softmax(const ResolvedComponent& component, const SparseConfig* user, spattn_phase phase,
                                   Uses& uses) {
  const SkipSoftmaxSettings& settings = user != nullptr ? user->skip_softmax : kNothingSet;
  const std::optional<SkipSoftmaxCalibration>& calibration = component.calibration.skip_softmax;
  // Diffusion has no decode phase: both phases take the prefill entry.
  const spattn_phase value_phase = component.diffusion ? SPATTN_PHASE_PREFILL : phase;
  ResolvedPhase resolved;
  spattn_layer_params& params = resolved.params;
  params = blank_params(SPATTN_ALGORITHM_SKIP_SOFTMAX);
  copy_user_extras(settings, params);

  if (settings.disabled_until_timestep) {
    params.disabled_until_timestep = *settings.disabled_until_timestep;
    params.timestep_source = SPATTN_SOURCE_USER;
  } else if (calibration && calibration->disabled_until_timestep.present()) {
    uses.cutoff = true;
    params.disabled_until_timestep = calibration->disabled_until_timestep.get();
    params.timestep_source = SPATTN_SOURCE_CHECKPOINT;
  }

  if (settings.threshold_scale_factor) {
    // The user's value replaces the checkpoint's; a phase not given is off.
    if (const std::optional<double>& threshold = settings.threshold_scale_factor->of(value_phase)) {
      apply_threshold(params, *threshold, SPATTN_SOURCE_USER);
    }
    return resolved;
  }
  std::string context;
  if (settings.target_sparsity) {
    const std::optional<double>& target = settings.target_sparsity->of(value_phase);
    if (!target) return resolved;
    params.target_sparsity = *target;
    params.target_source = SPATTN_SOURCE_USER;
    context = "target_sparsity " + format_number(*target) + " from the user config (" + settings.target_location + ")";
  } else if (calibration && calibration->target_sparsity.present()) {
    uses.target = true;
    const std::optional<double>& target = calibration->target_sparsity.get().of(value_phase);
    if (!target) return resolved;
    params.target_sparsity = *target;
    params.target_source = SPATTN_SOURCE_CHECKPOINT;
    context = "target_sparsity " + format_number(*target) + " from the checkpoint";
  } else {
    return resolved;  // nothing asked for: off, not an error
  }
  const char* phase_text = phase_name(phase);
  auto missing = [&](const std::string& why) {
    resolved.status = SPATTN_ERR_CALIBRATION_MISSING;
    resolved.error = component.origin + ": " + phase_text + ": " + context + " needs a calibration formula, but " +
                     describe_component(component.name) + " " + why;
    return resolved;
  };
  if (!calibration || !calibration->formula.present()) {
    return missing("has none (sparse_attention_config.config_groups.<group> with algorithm 'skip_softmax' and "
                   "threshold_scale_factor.formula)");
  }
  uses.formula[value_phase] = true;
  const CalibrationFormula& formula = calibration->formula.get();
  const Error* phase_error = formula.phases[value_phase].error();
  if (phase_error != nullptr && phase_error->status() == SPATTN_ERR_CALIBRATION_MISSING) {
    return missing(std::string("lacks coefficients for this phase: ") + phase_error->what());
  }
  apply_threshold(params, formula.threshold(value_phase, params.target_sparsity, context), SPATTN_SOURCE_FORMULA);
  return resolved;
}

ResolvedPhase resolve_vsa(const VsaSettings& vsa) {
  ResolvedPhase resolved;
  spattn_layer_params& params = resolved.params;
  params = blank_params(SPATTN_ALGORITHM_VSA);
  params.enabled = 1;
  params.disabled_reason = SPATTN_DISABLED_NOT;
  params.phase_key = SPATTN_PHASE_KEY_SPARSE;
  params.vsa_sparsity = vsa.vsa_sparsity;
  for (int i = 0; i < 3; ++i) params.vsa_cube_shape[i] = vsa.cube_shape[size_t(i)];
  if (vsa.disabled_until_timestep) {
    params.disabled_until_timestep = *vsa.disabled_until_timestep;
    params.timestep_source = SPATTN_SOURCE_USER;
  }
  return resolved;
}

ResolvedPhase resolve_phase(const ResolvedComponent& component, const SparseConfig* user, spattn_phase phase,
                            Uses& uses) {
  if (user != nullptr && user->algorithm == SPATTN_ALGORITHM_VSA) return resolve_vsa(user->vsa);
  if (user != nullptr && user->algorithm != SPATTN_ALGORITHM_SKIP_SOFTMAX) {
    // rocket / dsa (or an empty config): not something our kernels run.
    return ResolvedPhase{SPATTN_OK, "", blank_params(user->algorithm)};
  }
  if (user == nullptr && !component.calibration.skip_softmax) {
    return ResolvedPhase{SPATTN_OK, "", blank_params(SPATTN_ALGORITHM_NONE)};
  }
  return resolve_skip_softmax(component, user, phase, uses);
}

// Whether the user's algorithm reads the checkpoint's calibration at all.
bool uses_calibration(const SparseConfig* user) {
  return user == nullptr || user->algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX || user->algorithm == SPATTN_ALGORITHM_VSA;
}

void log_unused(const Error* error, const std::string& why) {
  if (error != nullptr) log(SPATTN_LOG_WARNING, std::string(error->what()) + " (not used: " + why + ")");
}

// Logs each defect of the calibration that no resolution consulted.
void log_unused_defects(const ResolvedComponent& component, const Uses& uses) {
  const std::optional<SkipSoftmaxCalibration>& calibration = component.calibration.skip_softmax;
  if (!calibration) return;
  if (!uses.target) log_unused(calibration->target_sparsity.error(), "the user config sets the value");
  if (!uses.cutoff) log_unused(calibration->disabled_until_timestep.error(), "the user config sets the cutoff");
  const bool formula_used = uses.formula[0] || uses.formula[1];
  if (!formula_used) log_unused(calibration->formula.error(), "no target needs the formula");
  if (!calibration->formula.present() || calibration->formula.error() != nullptr) return;
  const CalibrationFormula& formula = calibration->formula.get();
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    if (uses.formula[phase]) continue;
    const std::string why = std::string("no target needs the formula in ") + phase_name(phase);
    const Error* error = formula.phases[phase].error();
    // A phase without coefficients is an absence, not a defect.
    if (error != nullptr && error->status() != SPATTN_ERR_CALIBRATION_MISSING) log_unused(error, why);
    // The checkpoint's own target shows whether the formula works for it.
    if (error != nullptr || !calibration->target_sparsity.present() || calibration->target_sparsity.error()) continue;
    const std::optional<double>& target = calibration->target_sparsity.get().of(phase);
    if (!target) continue;
    try {
      formula.threshold(phase, *target, "target_sparsity " + format_number(*target) + " from the checkpoint");
    } catch (const Error& e) {
      log_unused(&e, why);
    }
  }
}

std::vector<GlobPattern> applying_patterns(const ComponentCalibration& calibration, const SparseConfig* user) {
  std::vector<std::string> texts = calibration.ignore;
  // The skip-softmax group's patterns apply to skip-softmax only.
  bool skip_softmax = user == nullptr || user->algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX;
  if (skip_softmax && calibration.skip_softmax) {
    for (const std::string& text : calibration.skip_softmax->ignore) {
      if (std::find(texts.begin(), texts.end(), text) == texts.end()) texts.push_back(text);
    }
  }
  std::vector<GlobPattern> patterns;
  if (!uses_calibration(user)) return patterns;
  for (const std::string& text : texts) patterns.emplace_back(text);
  return patterns;
}

// An ignored layer or a step before the cutoff runs with no sparsity of any
// kind: skip-softmax, N:M and VSA off; NVFP4 P (a quantization) stays.
void disable(spattn_layer_params& params, spattn_disabled_reason reason) {
  params.enabled = 0;
  params.disabled_reason = reason;
  params.phase_key = SPATTN_PHASE_KEY_DENSE;
  params.threshold_scale_factor = 0.0;
  params.sparsity_n = 0;
  params.sparsity_m = 0;
  params.num_sink_tokens = 0;
  params.dense_window_size = 0;
  params.vsa_sparsity = 0.0;
  for (int32_t& extent : params.vsa_cube_shape) extent = 0;
}

bool before_cutoff(const spattn_layer_params& params, double timestep) {
  return timestep >= 0.0 && timestep >= params.disabled_until_timestep;  // NaN cutoff: false
}

const ResolvedPhase& resolved_phase(const ResolvedComponent& component, spattn_phase phase) {
  const ResolvedPhase& resolved = component.phases[phase == SPATTN_PHASE_DECODE ? 1 : 0];
  if (resolved.status != SPATTN_OK) fail(resolved.status, resolved.error);
  return resolved;
}

}  // namespace

ResolvedComponent resolve_component(std::string name, const Value& config, const std::string& origin,
                                    const SparseConfig* user) {
  ResolvedComponent component;
  component.name = std::move(name);
  component.origin = origin;
  component.diffusion = !component.name.empty();
  try {
    component.calibration = read_calibration(config, origin);
  } catch (const Error& e) {
    if (uses_calibration(user)) throw;
    log(SPATTN_LOG_WARNING, std::string(e.what()) + " (not used: the user config's algorithm is '" +
                                algorithm_name(user->algorithm) + "')");
  }
  component.ignore = applying_patterns(component.calibration, user);
  Uses uses;
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    component.phases[phase] = resolve_phase(component, user, phase, uses);
  }
  log_unused_defects(component, uses);
  component.user_target_requested = user != nullptr && user->algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX &&
                                     user->skip_softmax.target_sparsity &&
                                     !user->skip_softmax.threshold_scale_factor;
  component.user_target_resolved = component.user_target_requested &&
                                   component.phases[SPATTN_PHASE_PREFILL].status == SPATTN_OK &&
                                   component.phases[SPATTN_PHASE_DECODE].status == SPATTN_OK;
  return component;
}

ResolvedComponent dense_component(std::string name) {
  ResolvedComponent component;
  component.name = std::move(name);
  component.target = false;
  component.diffusion = true;
  for (ResolvedPhase& phase : component.phases) {
    phase.params = blank_params(SPATTN_ALGORITHM_NONE);
    phase.params.disabled_reason = SPATTN_DISABLED_NOT_TARGET;
  }
  return component;
}

bool is_ignored(const ResolvedComponent& component, std::string_view layer_name) {
  if (component.ignore.empty()) return false;
  LayerNames names(component.name, layer_name);
  for (const GlobPattern& pattern : component.ignore) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (pattern.matches(names[i])) return true;
    }
  }
  return false;
}

void lookup_layer(const ResolvedComponent& component, std::string_view layer_name, spattn_phase phase,
                  double timestep, spattn_layer_params& out) {
  const ResolvedPhase& resolved = resolved_phase(component, phase);
  uint32_t struct_size = out.struct_size;
  out = resolved.params;
  out.struct_size = struct_size;
  if (out.algorithm != SPATTN_ALGORITHM_SKIP_SOFTMAX && out.algorithm != SPATTN_ALGORITHM_VSA) return;
  if (is_ignored(component, layer_name)) {
    disable(out, SPATTN_DISABLED_IGNORED);
  } else if (is_sparse(out) && before_cutoff(out, timestep)) {
    disable(out, SPATTN_DISABLED_TIMESTEP);
  }
}

spattn_phase_key component_phase_key(const ResolvedComponent& component, spattn_phase phase, double timestep) {
  const spattn_layer_params& params = resolved_phase(component, phase).params;
  return is_sparse(params) && !before_cutoff(params, timestep) ? SPATTN_PHASE_KEY_SPARSE : SPATTN_PHASE_KEY_DENSE;
}

}  // namespace spattn
