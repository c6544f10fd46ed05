// The operators and functions a formula may apply: a fixed table of plain
// function pointers, immutable and shared by every compiled formula.
#pragma once

#include <string>
#include <string_view>

namespace spattn::formula {

// What a value is: a number, or the true/false of a comparison (held on the
// stack as 1.0 / 0.0, but never usable as a number: numexpr keeps the two
// apart as well).
enum class ValueType { Number, Bool };

struct Operation {
  const char* name;  // "+", "**", "unary -", "exp", ...
  int arity;         // 1 or 2, fixed
  double (*apply)(const double* args);
  // Why a non-finite result came from these (finite) arguments, or nullptr
  // when the only explanation is overflow. May itself be nullptr.
  const char* (*domain_error)(const double* args);
  ValueType operand = ValueType::Number;  // of every argument
  ValueType result = ValueType::Number;
};

// Binary operator for '+', '-', '*', '/', "**", '%', the comparisons
// ('<', "<=", '>', ">=", "==", "!=") and the logical '&' and '|'.
const Operation& binary_operator(std::string_view symbol);
const Operation& negation();
const Operation& logical_not();  // '~'

// Named function ("exp", "max", ...), or nullptr when there is none.
const Operation* find_function(std::string_view name);

// "abs, arccos, ..., tanh": every function name, sorted, for messages.
std::string function_names();

}  // namespace spattn::formula
