#include "checkpoint/calibration.hpp"

#include <cmath>

#include "core/error.hpp"
#include "value/document.hpp"
#include "value/json_writer.hpp"
#include "value/schema.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

const char* const kSkipSoftmax = "skip_softmax";
const char* const kTargetVariable = "target_sparsity";

bool is_identifier(const std::string& name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name[0])) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// {name: number, ...} in document order; names must be usable as formula
// variables.
void read_coefficient_set(const Node& node, std::vector<std::string>& names,
                          std::vector<double>& values) {
  ObjectReader reader(node);
  for (const auto& member : node.value.members) {
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

// The decode set of per-phase coefficients: exactly the names of prefill.
std::vector<double> read_matching_coefficients(const Node& node, const std::vector<std::string>& names) {
  ObjectReader reader(node);
  std::vector<double> values;
  for (const auto& name : names) values.push_back(reader.required(name).number());
  reader.finish();
  return values;
}

CalibrationFormula read_formula(const Node& node) {
  ObjectReader reader(node);
  Node text = reader.required("formula");
  const std::string& formula_text = text.string();
  bool per_phase = reader.has("prefill") || reader.has("decode");
  std::vector<std::string> names;
  std::vector<double> prefill, decode;
  if (per_phase) {
    if (auto shared = reader.optional("coefficients")) {
      shared->fail(SPATTN_ERR_OUT_OF_RANGE,
                   "'coefficients' cannot be combined with per-phase 'prefill'/'decode' coefficients");
    }
    read_coefficient_set(reader.required("prefill"), names, prefill);
    decode = read_matching_coefficients(reader.required("decode"), names);
  } else if (auto shared = reader.optional("coefficients")) {
    read_coefficient_set(*shared, names, prefill);
    decode = prefill;
  }
  reader.finish();

  std::vector<std::string> variables{kTargetVariable};
  variables.insert(variables.end(), names.begin(), names.end());
  try {
    Formula formula = Formula::compile(formula_text, variables);
    return CalibrationFormula{std::move(formula), per_phase, std::move(names),
                              {std::move(prefill), std::move(decode)}, node.path};
  } catch (const Error& e) {
    text.fail(e.status(), e.what());
  }
}

std::vector<std::string> read_patterns(const Node& node) {
  std::vector<std::string> patterns;
  const std::vector<Value>& items = node.list();
  for (size_t i = 0; i < items.size(); ++i) {
    patterns.push_back(Node{items[i], item_path(node.path, i), node.origin}.string());
  }
  return patterns;
}

SkipSoftmaxCalibration read_skip_softmax_group(ObjectReader& group, const std::string& name) {
  SkipSoftmaxCalibration calibration;
  calibration.group = name;
  calibration.path = group.node().path;
  if (auto node = group.optional("threshold_scale_factor")) calibration.formula = read_formula(*node);
  if (auto node = group.optional("target_sparsity")) {
    calibration.target_sparsity =
        read_phase_values(*node, [](const Node& n) { return n.number_in(0.0, 1.0); });
  }
  if (auto node = group.optional("disabled_until_timestep")) {
    calibration.disabled_until_timestep = node->number_in(0.0, 1.0);
  }
  if (auto node = group.optional("ignore")) calibration.ignore = read_patterns(*node);
  group.finish();
  return calibration;
}

void read_groups(const Node& groups, ComponentCalibration& out) {
  ObjectReader reader(groups);
  for (const auto& member : groups.value.members) {
    ObjectReader group(reader.required(member.first));
    const std::string& algorithm = group.required("algorithm").string();
    if (algorithm != kSkipSoftmax) {
      out.other_groups.push_back(OtherGroup{member.first, algorithm});
      continue;
    }
    if (out.skip_softmax) {
      group.node().fail(SPATTN_ERR_CHECKPOINT,
                        "groups '" + out.skip_softmax->group + "' and '" + member.first +
                            "' both have algorithm 'skip_softmax'; at most one group may");
    }
    out.skip_softmax = read_skip_softmax_group(group, member.first);
  }
}

}  // namespace

double CalibrationFormula::threshold(spattn_phase phase, double target, const std::string& origin,
                                     const std::string& context) const {
  std::vector<double> values{target};
  const std::vector<double>& set = coefficients[phase == SPATTN_PHASE_DECODE ? 1 : 0];
  values.insert(values.end(), set.begin(), set.end());
  const char* phase_name = phase == SPATTN_PHASE_DECODE ? "decode" : "prefill";
  std::string where = location(origin, {}) + ": " + path + ": " + phase_name + ", " + context + ": ";
  double result = 0.0;
  try {
    result = formula.evaluate(values);
  } catch (const Error& e) {
    fail(e.status(), where + e.what());
  }
  if (!(result > 0.0)) {
    fail(SPATTN_ERR_FORMULA, where + "formula '" + formula.text() + "' gives threshold_scale_factor " +
                                 format_number(result) + ", which must be > 0");
  }
  return result;
}

ComponentCalibration read_calibration(const Value& root, const std::string& origin) {
  ComponentCalibration calibration;
  // The model's own keys (hidden_size, ...) are not ours: only this one is read.
  ObjectReader top(Node{root, "", origin});
  std::optional<Node> sparse = top.optional("sparse_attention_config");
  if (!sparse) return calibration;
  calibration.has_sparse_config = true;
  // Other keys beside config_groups (producer, version, ...) are accepted.
  ObjectReader reader(*sparse);
  if (auto groups = reader.optional("config_groups")) read_groups(*groups, calibration);
  return calibration;
}

}  // namespace spattn
