// The calibration metadata of one checkpoint component, read from the
// `sparse_attention_config` of its config.json (ModelOpt / TensorRT-LLM
// format). Everything is validated and the formula compiled here, once.
#pragma once

#include <spattn/spattn.h>

#include <optional>
#include <string>
#include <vector>

#include "config/sparse_config.hpp"
#include "formula/formula.hpp"
#include "value/value.hpp"

namespace spattn {

// A config group of another algorithm: kept for inspection only.
struct OtherGroup {
  std::string name;
  std::string algorithm;
};

// The `threshold_scale_factor: {formula, coefficients | prefill + decode}`
// of a skip_softmax group. The formula's variables are `target_sparsity`
// followed by `coefficient_names`; `values[phase]` holds, in that order, the
// values to evaluate it with (target_sparsity first, filled in per call).
struct CalibrationFormula {
  Formula formula;
  bool per_phase = false;                    // given as {prefill, decode}
  std::vector<std::string> coefficient_names;
  std::vector<double> coefficients[2];       // [SPATTN_PHASE_PREFILL / _DECODE]
  std::string path;                          // key path, for messages

  // threshold_scale_factor for `target` in `phase`. Throws
  // SPATTN_ERR_FORMULA when the result is not finite or not > 0; `context`
  // ("target_sparsity 0.5 from the user config") goes into the message.
  double threshold(spattn_phase phase, double target, const std::string& origin,
                   const std::string& context) const;
};

struct SkipSoftmaxCalibration {
  std::string group;                            // e.g. "group_0"
  std::string path;                             // ...config_groups.group_0
  std::optional<CalibrationFormula> formula;
  std::optional<PhaseValues> target_sparsity;   // each in [0, 1]
  std::optional<double> disabled_until_timestep;  // in [0, 1]
  std::vector<std::string> ignore;              // fnmatch patterns
};

struct ComponentCalibration {
  bool has_sparse_config = false;  // sparse_attention_config present and not null
  std::optional<SkipSoftmaxCalibration> skip_softmax;
  std::vector<OtherGroup> other_groups;
};

// Reads the calibration of a component from its parsed config.json. Only
// `sparse_attention_config` is looked at; the model's other keys are
// ignored. Errors name `origin` and the key path: SPATTN_ERR_TYPE (root not
// a mapping, ...), _UNKNOWN_KEY / _MISSING_KEY / _OUT_OF_RANGE inside a
// skip_softmax group, _FORMULA, _CHECKPOINT (two skip_softmax groups).
ComponentCalibration read_calibration(const Value& root, const std::string& origin);

}  // namespace spattn
