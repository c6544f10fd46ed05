// The calibration metadata of one checkpoint component, read from the
// `sparse_attention_config` of its config.json in the layouts Model
// Optimizer exports and TensorRT-LLM reads (DESIGN.md, "Semantics: configs
// and checkpoints"). Each part that only some resolutions use (the formula,
// each phase's coefficients, the target, the cutoff) is read into a Checked:
// its defect is raised when it is used and only logged otherwise.
#pragma once

#include <spattn/spattn.h>

#include <optional>
#include <string>
#include <vector>

#include "config/sparse_config.hpp"
#include "core/error.hpp"
#include "formula/formula.hpp"
#include "value/value.hpp"

namespace spattn {

// A part of the calibration: absent, read, or failed to read.
template <class T>
class Checked {
 public:
  Checked() = default;
  static Checked of(T value) {
    Checked c;
    c.value_ = std::move(value);
    return c;
  }
  static Checked failed(const Error& error) {
    Checked c;
    c.error_ = error;
    return c;
  }
  // Runs `read`, keeping its result or the spattn::Error it throws.
  template <class Read>
  static Checked read(Read read) {
    try {
      return of(read());
    } catch (const Error& e) {
      return failed(e);
    }
  }

  bool present() const { return value_.has_value() || error_.has_value(); }
  const Error* error() const { return error_ ? &*error_ : nullptr; }
  // The value; throws the recorded error. Only for a present part.
  const T& get() const {
    if (error_) throw *error_;
    return *value_;
  }

 private:
  std::optional<T> value_;
  std::optional<Error> error_;
};

// A config group of another algorithm: kept for inspection only.
struct OtherGroup {
  std::string name;
  std::string algorithm;  // "" when the group names none
};

// The formula with one phase's coefficients, compiled. Its variables are
// `target_sparsity` followed by `coefficient_names`.
struct PhaseFormula {
  Formula formula;
  std::vector<std::string> coefficient_names;
  std::vector<double> coefficients;
  std::string source;  // key path of the coefficients (...prefill, ...coefficients, or the formula's mapping)
};

// `threshold_scale_factor: {formula, ...}`. A phase's coefficients are its
// block (`prefill` / `decode`), else `coefficients`, else the keys beside
// `formula`; a phase without any is SPATTN_ERR_CALIBRATION_MISSING when used.
struct CalibrationFormula {
  std::string text;
  std::string where;  // "file:line:col: key.path" of threshold_scale_factor
  Checked<PhaseFormula> phases[2];  // [SPATTN_PHASE_PREFILL / _DECODE]

  // threshold_scale_factor for `target` in `phase` (the raw result, which
  // may be <= 0). Throws the phase's recorded error, or SPATTN_ERR_FORMULA
  // when the result is not finite; `context` ("target_sparsity 0.5 from the
  // user config") goes into the message.
  double threshold(spattn_phase phase, double target, const std::string& context) const;
};

struct SkipSoftmaxCalibration {
  std::string group;  // e.g. "group_0"; "" for the flat form
  std::string path;   // ...config_groups.group_0
  Checked<CalibrationFormula> formula;
  Checked<PhaseValues> target_sparsity;        // each in [0, 1]
  Checked<double> disabled_until_timestep;     // in [0, 1]
  std::vector<std::string> ignore;             // the group's fnmatch patterns
};

struct ComponentCalibration {
  bool has_sparse_config = false;  // sparse_attention_config present and not null
  std::optional<SkipSoftmaxCalibration> skip_softmax;
  std::vector<std::string> ignore;  // sparse_attention_config.ignore: every algorithm
  std::vector<OtherGroup> other_groups;
};

// Reads the calibration of a component from its parsed config.json. Only
// `sparse_attention_config` is looked at; the model's other keys are
// ignored, and unknown keys inside it are logged. Throws for what no use can
// do without: SPATTN_ERR_TYPE (a mapping or list that is not one), and
// SPATTN_ERR_CHECKPOINT (two skip-softmax groups).
ComponentCalibration read_calibration(const Value& root, const std::string& origin);

}  // namespace spattn
