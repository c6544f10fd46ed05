// One checkpoint component resolved against the user config: everything a
// lookup needs is computed here, at open time, so that a lookup is a copy of
// precomputed parameters plus the ignore-pattern and timestep checks.
#pragma once

#include <spattn/spattn.h>

#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/calibration.hpp"
#include "config/sparse_config.hpp"
#include "resolve/glob_pattern.hpp"
#include "value/value.hpp"

namespace spattn {

// The parameters of an ordinary layer (no ignore match, no timestep) in one
// phase, or why they could not be resolved.
struct ResolvedPhase {
  spattn_status status = SPATTN_OK;  // SPATTN_ERR_CALIBRATION_MISSING when unresolved
  std::string error;                 // its message
  spattn_layer_params params{};
};

struct ResolvedComponent {
  std::string name;     // "" for a plain checkpoint
  std::string origin;   // its config.json, as shown in messages ("" when none was read)
  bool target = true;   // a sparse-attention target; otherwise always dense
  bool diffusion = false;  // a diffusers component: per-phase values use their prefill entry
  ComponentCalibration calibration;
  std::vector<GlobPattern> ignore;  // the checkpoint patterns that apply to the user's algorithm
  ResolvedPhase phases[2];  // [SPATTN_PHASE_PREFILL / _DECODE]
  // The user asked for a target_sparsity (and no threshold) and this
  // component could map it through its formula.
  bool user_target_requested = false;
  bool user_target_resolved = false;
};

// Reads the calibration of a target component's config.json (`config`,
// already parsed; `origin` names it) and resolves it against `user` (NULL:
// the checkpoint's defaults, as if the user asked for skip_softmax with
// nothing set). A component named "" is a plain (LLM) checkpoint, any other
// a diffusers component. Throws on calibration that is used and invalid; a
// missing formula is recorded in `phases`, not thrown; a defect in a part
// that is not used is logged. Needs no file system: the fuzz target calls it.
ResolvedComponent resolve_component(std::string name, const Value& config, const std::string& origin,
                                    const SparseConfig* user);

// A component that is not a sparse-attention target: dense in every phase.
ResolvedComponent dense_component(std::string name);

// Parameters of `layer_name` (see spattn_model_lookup for the names matched)
// in `phase` at `timestep` (negative: none; the caller has checked it is not
// NaN and <= 1). Fills every field of `out` after struct_size. Throws the
// recorded error of an unresolved component. Allocation-free for names under
// 200 bytes.
void lookup_layer(const ResolvedComponent& component, std::string_view layer_name, spattn_phase phase,
                  double timestep, spattn_layer_params& out);

// The CUDA-graph phase of the whole component (see spattn_model_phase_key).
spattn_phase_key component_phase_key(const ResolvedComponent& component, spattn_phase phase, double timestep);

// Whether a checkpoint ignore pattern of `component` matches the layer.
bool is_ignored(const ResolvedComponent& component, std::string_view layer_name);

}  // namespace spattn
