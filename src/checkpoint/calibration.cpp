#include "checkpoint/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "core/log.hpp"
#include "value/document.hpp"
#include "value/json_writer.hpp"
#include "value/schema.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

const char* const kTargetVariable = "target_sparsity";
const char* const kReader = "spattn (an exporter may add fields)";

bool is_skip_softmax(const std::string& algorithm) {
  return algorithm == "skip_softmax" || algorithm == "softmax_skip";
}

bool is_identifier(const std::string& name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name[0])) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// The members of `node` other than the formula's own keys, as coefficients:
// {name: number} in document order, names usable as formula variables.
void read_coefficients(const Node& node, std::vector<std::string>& names, std::vector<double>& values) {
  static const char* const kSkip[] = {"formula", "prefill", "decode", "coefficients"};
  ObjectReader reader(node);
  for (const auto& member : node.value.members) {
    if (std::find(std::begin(kSkip), std::end(kSkip), member.first) != std::end(kSkip)) continue;
    Node item = reader.required(member.first);
    if (!is_identifier(member.first)) {
      item.fail(SPATTN_ERR_FORMULA, "coefficient name '" + member.first +
                                        "' is not an identifier (ASCII letters, digits and '_', "
                                        "not starting with a digit)");
    }
    if (member.first == kTargetVariable) {
      item.fail(SPATTN_ERR_FORMULA,
                "a coefficient may not be named 'target_sparsity': that is the formula's input");
    }
    names.push_back(member.first);
    values.push_back(item.number());
  }
}

// The formula compiled with one phase's coefficients, taken from `source`
// (the phase's block, `coefficients`, or the formula's own mapping, whose
// keys other than these are the coefficients).
PhaseFormula compile_phase(const Node& formula_text, const std::optional<Node>& source, const Node& mapping,
                           spattn_phase phase) {
  const char* phase_name = phase == SPATTN_PHASE_DECODE ? "decode" : "prefill";
  const Node& from = source ? *source : mapping;
  std::vector<std::string> names;
  std::vector<double> values;
  read_coefficients(from, names, values);
  if (names.empty()) {
    mapping.fail(SPATTN_ERR_CALIBRATION_MISSING,
                 std::string("no coefficients for ") + phase_name +
                     " (a '" + phase_name + "' block, 'coefficients', or numbers beside 'formula')");
  }
  std::vector<std::string> variables{kTargetVariable};
  variables.insert(variables.end(), names.begin(), names.end());
  std::optional<Formula> formula;
  try {
    formula = Formula::compile(formula_text.string(), variables);
  } catch (const Error& e) {
    formula_text.fail(e.status(), std::string(phase_name) + " coefficients from " + from.path + ": " + e.what());
  }
  const std::vector<std::string> used = formula->used_variables();
  if (used.empty() || used.front() != kTargetVariable) {
    formula_text.fail(SPATTN_ERR_FORMULA, "formula '" + formula->text() +
                                              "' does not use target_sparsity, so every target would give "
                                              "the same threshold");
  }
  return PhaseFormula{std::move(*formula), std::move(names), std::move(values), from.path};
}

CalibrationFormula read_formula(const Node& node) {
  ObjectReader reader(node);
  CalibrationFormula out;
  out.where = node.where();
  Node text = reader.required("formula");
  out.text = text.string();
  std::optional<Node> blocks[2] = {reader.optional("prefill"), reader.optional("decode")};
  std::optional<Node> shared = reader.optional("coefficients");
  for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
    const std::optional<Node>& source = blocks[phase] ? blocks[phase] : shared;
    out.phases[phase] = Checked<PhaseFormula>::read([&] { return compile_phase(text, source, node, phase); });
  }
  // Keys beside `formula` are the coefficients of a phase that has neither
  // its block nor `coefficients`; said so when no phase takes them.
  if ((blocks[SPATTN_PHASE_PREFILL] && blocks[SPATTN_PHASE_DECODE]) || shared) {
    for (const auto& member : node.value.members) {
      if (member.first == "formula" || member.first == "prefill" || member.first == "decode" ||
          member.first == "coefficients") {
        continue;
      }
      log(SPATTN_LOG_WARNING, Node{member.second, child_path(node.path, member.first), node.origin}.where() +
                                  ": not used: every phase takes its coefficients from a block or 'coefficients'");
    }
  }
  return out;
}

std::vector<std::string> read_patterns(const Node& node) {
  std::vector<std::string> patterns;
  const std::vector<Value>& items = node.list();
  for (size_t i = 0; i < items.size(); ++i) patterns.push_back(node.item(i).string());
  return patterns;
}

// `algorithm`, or Model Optimizer's `sparse_algo` when there is none.
std::optional<std::string> group_algorithm(ObjectReader& group) {
  std::optional<Node> algorithm = group.optional("algorithm");
  std::optional<Node> sparse_algo = group.optional("sparse_algo");
  if (algorithm) return algorithm->string();
  if (sparse_algo) return sparse_algo->string();
  return std::nullopt;
}

// The skip-softmax fields of `group` (a config group, or in the flat form
// sparse_attention_config itself, whose `ignore` the caller reads).
SkipSoftmaxCalibration read_skip_softmax_group(ObjectReader& group, const std::string& name, bool flat) {
  SkipSoftmaxCalibration calibration;
  calibration.group = name;
  calibration.path = group.node().path;
  if (auto node = group.optional("threshold_scale_factor")) {
    calibration.formula = Checked<CalibrationFormula>::read([&] { return read_formula(*node); });
  }
  if (auto node = group.optional("target_sparsity")) {
    calibration.target_sparsity = Checked<PhaseValues>::read(
        [&] { return read_phase_values(*node, [](const Node& n) { return n.number_in(0.0, 1.0); }); });
  }
  if (auto node = group.optional("disabled_until_timestep")) {
    calibration.disabled_until_timestep = Checked<double>::read([&] { return node->number_in(0.0, 1.0); });
  }
  if (!flat) {
    if (auto node = group.optional("ignore")) calibration.ignore = read_patterns(*node);
  }
  group.accept("targets");  // Model Optimizer's module classes: every attention layer is a candidate
  if (auto node = group.optional("initial_disabled_steps")) {
    log(SPATTN_LOG_WARNING, node->where() + ": Model Optimizer's initial_disabled_steps (a step count, " +
                                node->text() + ") is not a normalized timestep and is not applied; "
                                "set disabled_until_timestep in the user config");
  }
  return calibration;
}

void read_groups(const Node& groups, ComponentCalibration& out) {
  ObjectReader reader(groups);
  for (const auto& member : groups.value.members) {
    ObjectReader group(Node{member.second, child_path(groups.path, member.first), groups.origin});
    std::optional<std::string> algorithm = group_algorithm(group);
    if (!algorithm || !is_skip_softmax(*algorithm)) {
      if (!algorithm) {
        log(SPATTN_LOG_WARNING, group.node().where() + ": group has neither 'algorithm' nor 'sparse_algo'; not read");
      }
      out.other_groups.push_back(OtherGroup{member.first, algorithm.value_or("")});
      continue;
    }
    if (out.skip_softmax) {
      group.node().fail(SPATTN_ERR_CHECKPOINT,
                        "groups '" + out.skip_softmax->group + "' and '" + member.first +
                            "' are both skip-softmax groups (algorithm or sparse_algo skip_softmax / "
                            "softmax_skip); at most one may be");
    }
    out.skip_softmax = read_skip_softmax_group(group, member.first, false);
    group.finish_tolerant(kReader);
  }
}

// The flat form: no config_groups; skip-softmax fields (with or without an
// algorithm) directly in sparse_attention_config.
bool looks_like_skip_softmax(const ObjectReader& sparse) {
  for (const char* key : {"threshold_scale_factor", "target_sparsity", "disabled_until_timestep", "ignore"}) {
    if (sparse.has(key)) return true;
  }
  return false;
}

}  // namespace

double CalibrationFormula::threshold(spattn_phase phase, double target, const std::string& context) const {
  const PhaseFormula& f = phases[phase == SPATTN_PHASE_DECODE ? 1 : 0].get();
  std::vector<double> values{target};
  values.insert(values.end(), f.coefficients.begin(), f.coefficients.end());
  try {
    return f.formula.evaluate(values);
  } catch (const Error& e) {
    fail(e.status(), where + ": " + (phase == SPATTN_PHASE_DECODE ? "decode" : "prefill") + ", " + context +
                         ": " + e.what());
  }
}

ComponentCalibration read_calibration(const Value& root, const std::string& origin) {
  ComponentCalibration calibration;
  // The model's own keys (hidden_size, ...) are not ours: only this one is read.
  ObjectReader top(Node{root, "", origin});
  std::optional<Node> sparse = top.optional("sparse_attention_config");
  if (!sparse) return calibration;
  calibration.has_sparse_config = true;
  ObjectReader reader(*sparse);
  reader.accept("producer");
  if (auto node = reader.optional("ignore")) calibration.ignore = read_patterns(*node);
  if (auto groups = reader.optional("config_groups")) {
    read_groups(*groups, calibration);
    // Older Model Optimizer exports put the formula beside config_groups.
    if (auto beside = reader.optional("threshold_scale_factor")) {
      if (calibration.skip_softmax && !calibration.skip_softmax->formula.present()) {
        calibration.skip_softmax->formula = Checked<CalibrationFormula>::read([&] { return read_formula(*beside); });
      } else {
        log(SPATTN_LOG_WARNING, beside->where() + ": not used: " +
                                    (calibration.skip_softmax ? "the skip-softmax group has its own formula"
                                                              : "there is no skip-softmax group"));
      }
    }
  } else {
    std::optional<std::string> algorithm = group_algorithm(reader);
    if (algorithm ? is_skip_softmax(*algorithm) : looks_like_skip_softmax(reader)) {
      calibration.skip_softmax = read_skip_softmax_group(reader, "", true);
    } else if (algorithm) {
      calibration.other_groups.push_back(OtherGroup{"", *algorithm});
      return calibration;  // another algorithm's fields are not ours to judge
    }
  }
  reader.finish_tolerant(kReader);
  return calibration;
}

}  // namespace spattn
