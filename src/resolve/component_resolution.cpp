#include "resolve/component_resolution.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "value/json_writer.hpp"

namespace spattn {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* phase_name(spattn_phase phase) { return phase == SPATTN_PHASE_DECODE ? "decode" : "prefill"; }

std::string describe_component(const std::string& name) {
  return name.empty() ? "the checkpoint" : "component '" + name + "'";
}

spattn_layer_params blank_params() {
  spattn_layer_params params{};
  params.struct_size = sizeof(spattn_layer_params);
  params.algorithm = SPATTN_ALGORITHM_NONE;
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

void enable(spattn_layer_params& params, double threshold, spattn_source source) {
  params.enabled = 1;
  params.disabled_reason = SPATTN_DISABLED_NOT;
  params.phase_key = SPATTN_PHASE_KEY_SPARSE;
  params.threshold_scale_factor = threshold;
  params.threshold_source = source;
}

// skip_softmax in one phase: user threshold, else a target (user, then
// checkpoint) mapped through the formula.
ResolvedPhase resolve_skip_softmax(const ResolvedComponent& component, const SkipSoftmaxSettings& settings,
                                   spattn_phase phase) {
  const std::optional<SkipSoftmaxCalibration>& calibration = component.calibration.skip_softmax;
  ResolvedPhase resolved;
  spattn_layer_params& params = resolved.params;
  params = blank_params();
  params.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
  copy_user_extras(settings, params);

  if (settings.disabled_until_timestep) {
    params.disabled_until_timestep = *settings.disabled_until_timestep;
    params.timestep_source = SPATTN_SOURCE_USER;
  } else if (calibration && calibration->disabled_until_timestep) {
    params.disabled_until_timestep = *calibration->disabled_until_timestep;
    params.timestep_source = SPATTN_SOURCE_CHECKPOINT;
  }

  if (settings.threshold_scale_factor) {
    enable(params, settings.threshold_scale_factor->of(phase), SPATTN_SOURCE_USER);
    return resolved;
  }
  std::string context;
  if (settings.target_sparsity) {
    params.target_sparsity = settings.target_sparsity->of(phase);
    params.target_source = SPATTN_SOURCE_USER;
    context = "target_sparsity " + format_number(params.target_sparsity) + " from the user config";
  } else if (calibration && calibration->target_sparsity) {
    params.target_sparsity = calibration->target_sparsity->of(phase);
    params.target_source = SPATTN_SOURCE_CHECKPOINT;
    context = "target_sparsity " + format_number(params.target_sparsity) + " from the checkpoint";
  } else {
    return resolved;  // nothing asked for: off, not an error
  }
  if (!calibration || !calibration->formula) {
    resolved.status = SPATTN_ERR_CALIBRATION_MISSING;
    resolved.error = component.origin + ": " + phase_name(phase) + ": " + context +
                     " needs a calibration formula, but " + describe_component(component.name) +
                     " has none (sparse_attention_config.config_groups.<group> with algorithm "
                     "'skip_softmax' and threshold_scale_factor.formula)";
    return resolved;
  }
  double threshold = calibration->formula->threshold(phase, params.target_sparsity, component.origin, context);
  enable(params, threshold, SPATTN_SOURCE_FORMULA);
  return resolved;
}

ResolvedPhase resolve_phase(const ResolvedComponent& component, const SparseConfig* user, spattn_phase phase) {
  if (user != nullptr && user->algorithm != SPATTN_ALGORITHM_SKIP_SOFTMAX) {
    // rocket / dsa (or an empty config): not something our kernel runs.
    ResolvedPhase resolved;
    resolved.params = blank_params();
    resolved.params.algorithm = user->algorithm;
    return resolved;
  }
  if (user == nullptr && !component.calibration.skip_softmax) {
    ResolvedPhase resolved;
    resolved.params = blank_params();
    return resolved;
  }
  static const SkipSoftmaxSettings kNothingSet;
  return resolve_skip_softmax(component, user != nullptr ? user->skip_softmax : kNothingSet, phase);
}

// Evaluates the formula for every known target, so that a bad formula is an
// open-time error even where a user threshold means it is not used.
void check_formula(const ResolvedComponent& component, const SparseConfig* user) {
  const std::optional<SkipSoftmaxCalibration>& calibration = component.calibration.skip_softmax;
  if (!calibration || !calibration->formula) return;
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    if (calibration->target_sparsity) {
      double target = calibration->target_sparsity->of(phase);
      calibration->formula->threshold(phase, target, component.origin,
                                      "target_sparsity " + format_number(target) + " from the checkpoint");
    }
    if (user != nullptr && user->skip_softmax.target_sparsity) {
      double target = user->skip_softmax.target_sparsity->of(phase);
      calibration->formula->threshold(phase, target, component.origin,
                                      "target_sparsity " + format_number(target) + " from the user config");
    }
  }
}

// A small buffer on the stack for "<component>.<layer>", with a heap
// fallback for very long names.
class JoinedName {
 public:
  JoinedName(const std::string& prefix, std::string_view rest) {
    size_t size = prefix.size() + 1 + rest.size();
    char* out = size <= sizeof(buffer_) ? buffer_ : (heap_.resize(size), &heap_[0]);
    std::memcpy(out, prefix.data(), prefix.size());
    out[prefix.size()] = '.';
    if (!rest.empty()) std::memcpy(out + prefix.size() + 1, rest.data(), rest.size());
    view_ = std::string_view(out, size);
  }
  std::string_view view() const { return view_; }

 private:
  char buffer_[256];
  std::string heap_;
  std::string_view view_;
};

bool any_matches(const std::vector<GlobPattern>& patterns, std::string_view a, std::string_view b) {
  for (const GlobPattern& pattern : patterns) {
    if (pattern.matches(a) || pattern.matches(b)) return true;
  }
  return false;
}

}  // namespace

ResolvedComponent resolve_component(std::string name, const Value& config, const std::string& origin,
                                    const SparseConfig* user) {
  ResolvedComponent component;
  component.name = std::move(name);
  component.origin = origin;
  component.calibration = read_calibration(config, origin);
  if (component.calibration.skip_softmax) {
    for (const std::string& pattern : component.calibration.skip_softmax->ignore) {
      component.ignore.emplace_back(pattern);
    }
  }
  check_formula(component, user);
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    component.phases[phase] = resolve_phase(component, user, phase);
  }
  component.user_target_requested = user != nullptr && user->algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX &&
                                     user->skip_softmax.target_sparsity &&
                                     !user->skip_softmax.threshold_scale_factor;
  component.user_target_resolved = component.user_target_requested &&
                                   component.phases[SPATTN_PHASE_PREFILL].status == SPATTN_OK &&
                                   component.phases[SPATTN_PHASE_DECODE].status == SPATTN_OK;
  return component;
}

bool is_ignored(const ResolvedComponent& component, std::string_view layer_name) {
  if (component.ignore.empty()) return false;
  const std::string& prefix = component.name;
  if (prefix.empty()) return any_matches(component.ignore, layer_name, layer_name);
  bool is_full = layer_name.size() > prefix.size() && layer_name[prefix.size()] == '.' &&
                 layer_name.compare(0, prefix.size(), prefix) == 0;
  if (is_full) return any_matches(component.ignore, layer_name, layer_name.substr(prefix.size() + 1));
  JoinedName full(prefix, layer_name);
  return any_matches(component.ignore, full.view(), layer_name);
}

void lookup_layer(const ResolvedComponent& component, std::string_view layer_name, spattn_phase phase,
                  double timestep, spattn_layer_params& out) {
  const ResolvedPhase& resolved = component.phases[phase == SPATTN_PHASE_DECODE ? 1 : 0];
  if (resolved.status != SPATTN_OK) fail(resolved.status, resolved.error);
  uint32_t struct_size = out.struct_size;
  out = resolved.params;
  out.struct_size = struct_size;
  // An ignored layer or a step before the cutoff runs with no sparsity of
  // any kind: skip-softmax and N:M off; NVFP4 P (a quantization) stays.
  auto disable = [&](spattn_disabled_reason reason) {
    out.enabled = 0;
    out.disabled_reason = reason;
    out.phase_key = SPATTN_PHASE_KEY_DENSE;
    out.threshold_scale_factor = 0.0;
    out.sparsity_n = 0;
    out.sparsity_m = 0;
    out.num_sink_tokens = 0;
    out.dense_window_size = 0;
  };
  if (out.algorithm != SPATTN_ALGORITHM_SKIP_SOFTMAX) return;
  const bool sparse = out.enabled || out.sparsity_m != 0;
  if (is_ignored(component, layer_name)) {
    disable(SPATTN_DISABLED_IGNORED);
  } else if (sparse && timestep >= 0.0 && timestep >= out.disabled_until_timestep) {
    disable(SPATTN_DISABLED_TIMESTEP);  // NaN cutoff: the comparison is false
  }
}

}  // namespace spattn
