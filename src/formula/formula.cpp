#include "formula/formula.hpp"

#include "core/error.hpp"
#include "formula/messages.hpp"
#include "formula/parser.hpp"

#include <algorithm>
#include <cmath>

namespace spattn {

namespace {

bool is_identifier(const std::string& name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || digit(c); });
}

void check_names(std::string_view text, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!is_identifier(names[i])) {
      formula::formula_error(text, "variable name '" + formula::quote(names[i]) +
                                       "' is not an identifier (ASCII letters, digits and '_', "
                                       "not starting with a digit)");
    }
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i)) {
      formula::formula_error(text, "variable '" + names[i] + "' is declared twice");
    }
  }
}

}  // namespace

Formula Formula::compile(std::string_view text, std::vector<std::string> variable_names) {
  if (text.size() > SPATTN_MAX_FORMULA_BYTES) {
    formula::formula_error(text, "it is " + std::to_string(text.size()) +
                                     " bytes long; the limit is " +
                                     std::to_string(SPATTN_MAX_FORMULA_BYTES) +
                                     " (SPATTN_MAX_FORMULA_BYTES)");
  }
  check_names(text, variable_names);
  Formula formula;
  formula.program_ = formula::parse(text, variable_names);
  formula.text_ = std::string(text);
  formula.names_ = std::move(variable_names);
  return formula;
}

double Formula::evaluate(const std::vector<double>& values) const {
  if (values.size() != names_.size()) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         "formula '" + formula::quote(text_) + "' takes " + std::to_string(names_.size()) +
             " values, got " + std::to_string(values.size()));
  }
  return evaluate(values.data());
}

double Formula::evaluate(const double* values) const {
  using formula::Instruction;
  double stack[formula::kMaxStack];
  std::size_t top = 0;
  const std::size_t size = program_.code.size();
  for (std::size_t pc = 0; pc < size; ++pc) {
    const Instruction& instruction = program_.code[pc];
    switch (instruction.kind) {
      case Instruction::Kind::JumpIfFalse:
        if (stack[--top] == 0) pc = instruction.variable - 1;  // the loop's ++pc lands on the target
        break;
      case Instruction::Kind::Jump:
        pc = instruction.variable - 1;
        break;
      case Instruction::Kind::Number:
        stack[top++] = instruction.number;
        break;
      case Instruction::Kind::Variable: {
        double value = values[instruction.variable];
        if (!std::isfinite(value)) throw_non_finite_input(instruction, values);
        stack[top++] = value;
        break;
      }
      case Instruction::Kind::Apply: {
        const formula::Operation& operation = *instruction.operation;
        top -= static_cast<std::size_t>(operation.arity);
        const double* args = stack + top;
        double result = operation.apply(args);
        if (!std::isfinite(result)) throw_non_finite(instruction, args, result, values);
        stack[top++] = result;
        break;
      }
    }
  }
  return stack[0];
}

std::vector<std::string> Formula::used_variables() const {
  std::vector<std::string> used;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (program_.used[i]) used.push_back(names_[i]);
  }
  return used;
}

std::string Formula::describe_values(const double* values) const {
  std::string text;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    text += (i == 0 ? " for " : ", ") + names_[i] + "=" + formula::format_number(values[i]);
  }
  return text;
}

void Formula::throw_non_finite(const formula::Instruction& instruction, const double* args,
                               double result, const double* values) const {
  const formula::Operation& operation = *instruction.operation;
  const char* reason = operation.domain_error ? operation.domain_error(args) : nullptr;
  std::string why = reason ? reason : "overflow in '" + std::string(operation.name) + "'";
  fail(SPATTN_ERR_FORMULA, "formula '" + formula::quote(text_) + "' gives " +
                               formula::format_number(result) + " (" + why + " at column " +
                               std::to_string(instruction.column) + ")" +
                               describe_values(values));
}

void Formula::throw_non_finite_input(const formula::Instruction& instruction,
                                     const double* values) const {
  const std::string& name = names_[instruction.variable];
  fail(SPATTN_ERR_FORMULA, "formula '" + formula::quote(text_) + "' cannot use " + name + "=" +
                               formula::format_number(values[instruction.variable]) +
                               " (column " + std::to_string(instruction.column) +
                               "): values must be finite;" + describe_values(values));
}

}  // namespace spattn
