#include "formula/operations.hpp"

#include <cmath>

namespace spattn::formula {

namespace {

// ---- domain checks: the reason a finite input gives a non-finite result ----

const char* division_error(const double* v) {
  return v[1] == 0 ? "division by zero" : nullptr;
}

const char* power_error(const double* v) {
  if (v[0] == 0 && v[1] < 0) return "zero to a negative power";
  if (v[0] < 0 && std::trunc(v[1]) != v[1]) return "negative base to a fractional power";
  return nullptr;
}

const char* log_error(const double* v) {
  if (v[0] == 0) return "log of zero";
  if (v[0] < 0) return "log of a negative number";
  return nullptr;
}

const char* log10_error(const double* v) {
  if (v[0] == 0) return "log10 of zero";
  if (v[0] < 0) return "log10 of a negative number";
  return nullptr;
}

const char* log1p_error(const double* v) {
  if (v[0] == -1) return "log1p of -1";
  if (v[0] < -1) return "log1p of a number below -1";
  return nullptr;
}

const char* sqrt_error(const double* v) {
  return v[0] < 0 ? "sqrt of a negative number" : nullptr;
}

const char* arcsin_error(const double* v) {
  return std::fabs(v[0]) > 1 ? "arcsin of a number outside [-1, 1]" : nullptr;
}

const char* arccos_error(const double* v) {
  return std::fabs(v[0]) > 1 ? "arccos of a number outside [-1, 1]" : nullptr;
}

const char* arccosh_error(const double* v) {
  return v[0] < 1 ? "arccosh of a number below 1" : nullptr;
}

const char* arctanh_error(const double* v) {
  if (std::fabs(v[0]) == 1) return "arctanh of -1 or 1";
  if (std::fabs(v[0]) > 1) return "arctanh of a number outside [-1, 1]";
  return nullptr;
}

const char* modulo_error(const double* v) {
  return v[1] == 0 ? "modulo by zero" : nullptr;
}

// numexpr's float modulo: the result has the sign of the divisor.
double modulo(const double* v) { return v[0] - std::floor(v[0] / v[1]) * v[1]; }

// ---- the tables ----

const Operation kAdd{"+", 2, [](const double* v) { return v[0] + v[1]; }, nullptr};
const Operation kSubtract{"-", 2, [](const double* v) { return v[0] - v[1]; }, nullptr};
const Operation kMultiply{"*", 2, [](const double* v) { return v[0] * v[1]; }, nullptr};
const Operation kDivide{"/", 2, [](const double* v) { return v[0] / v[1]; }, division_error};
const Operation kPower{"**", 2, [](const double* v) { return std::pow(v[0], v[1]); }, power_error};
const Operation kModulo{"%", 2, modulo, modulo_error};
const Operation kNegate{"unary -", 1, [](const double* v) { return -v[0]; }, nullptr};

constexpr ValueType kNumber = ValueType::Number;
constexpr ValueType kBool = ValueType::Bool;
const Operation kLess{"<", 2, [](const double* v) { return double(v[0] < v[1]); }, nullptr, kNumber, kBool};
const Operation kLessEqual{"<=", 2, [](const double* v) { return double(v[0] <= v[1]); }, nullptr, kNumber, kBool};
const Operation kGreater{">", 2, [](const double* v) { return double(v[0] > v[1]); }, nullptr, kNumber, kBool};
const Operation kGreaterEqual{">=", 2, [](const double* v) { return double(v[0] >= v[1]); }, nullptr, kNumber, kBool};
const Operation kEqual{"==", 2, [](const double* v) { return double(v[0] == v[1]); }, nullptr, kNumber, kBool};
const Operation kNotEqual{"!=", 2, [](const double* v) { return double(v[0] != v[1]); }, nullptr, kNumber, kBool};
const Operation kAnd{"&", 2, [](const double* v) { return double(v[0] != 0 && v[1] != 0); }, nullptr, kBool, kBool};
const Operation kOr{"|", 2, [](const double* v) { return double(v[0] != 0 || v[1] != 0); }, nullptr, kBool, kBool};
const Operation kNot{"~", 1, [](const double* v) { return double(v[0] == 0); }, nullptr, kBool, kBool};

// Sorted by name (function_names() lists them in this order).
const Operation kFunctions[] = {
    {"abs", 1, [](const double* v) { return std::fabs(v[0]); }, nullptr},
    {"arccos", 1, [](const double* v) { return std::acos(v[0]); }, arccos_error},
    {"arccosh", 1, [](const double* v) { return std::acosh(v[0]); }, arccosh_error},
    {"arcsin", 1, [](const double* v) { return std::asin(v[0]); }, arcsin_error},
    {"arcsinh", 1, [](const double* v) { return std::asinh(v[0]); }, nullptr},
    {"arctan", 1, [](const double* v) { return std::atan(v[0]); }, nullptr},
    {"arctan2", 2, [](const double* v) { return std::atan2(v[0], v[1]); }, nullptr},
    {"arctanh", 1, [](const double* v) { return std::atanh(v[0]); }, arctanh_error},
    {"ceil", 1, [](const double* v) { return std::ceil(v[0]); }, nullptr},
    {"cos", 1, [](const double* v) { return std::cos(v[0]); }, nullptr},
    {"cosh", 1, [](const double* v) { return std::cosh(v[0]); }, nullptr},
    {"exp", 1, [](const double* v) { return std::exp(v[0]); }, nullptr},
    {"expm1", 1, [](const double* v) { return std::expm1(v[0]); }, nullptr},
    {"floor", 1, [](const double* v) { return std::floor(v[0]); }, nullptr},
    {"log", 1, [](const double* v) { return std::log(v[0]); }, log_error},
    {"log10", 1, [](const double* v) { return std::log10(v[0]); }, log10_error},
    {"log1p", 1, [](const double* v) { return std::log1p(v[0]); }, log1p_error},
    {"max", 2, [](const double* v) { return v[0] > v[1] ? v[0] : v[1]; }, nullptr},
    {"min", 2, [](const double* v) { return v[0] < v[1] ? v[0] : v[1]; }, nullptr},
    {"pow", 2, [](const double* v) { return std::pow(v[0], v[1]); }, power_error},
    {"sin", 1, [](const double* v) { return std::sin(v[0]); }, nullptr},
    {"sinh", 1, [](const double* v) { return std::sinh(v[0]); }, nullptr},
    {"sqrt", 1, [](const double* v) { return std::sqrt(v[0]); }, sqrt_error},
    {"tan", 1, [](const double* v) { return std::tan(v[0]); }, nullptr},
    {"tanh", 1, [](const double* v) { return std::tanh(v[0]); }, nullptr},
};

}  // namespace

const Operation& binary_operator(std::string_view symbol) {
  static const Operation* const kBinary[] = {&kAdd,  &kSubtract, &kMultiply,  &kDivide, &kPower,
                                             &kModulo, &kLess,   &kLessEqual, &kGreater, &kGreaterEqual,
                                             &kEqual, &kNotEqual, &kAnd,      &kOr};
  for (const Operation* operation : kBinary) {
    if (symbol == operation->name) return *operation;
  }
  return kPower;  // unreachable: the parser passes operator tokens only
}

const Operation& negation() { return kNegate; }
const Operation& logical_not() { return kNot; }

const Operation* find_function(std::string_view name) {
  for (const Operation& function : kFunctions) {
    if (name == function.name) return &function;
  }
  return nullptr;
}

std::string function_names() {
  std::string names;
  for (const Operation& function : kFunctions) {
    if (!names.empty()) names += ", ";
    names += function.name;
  }
  return names;
}

}  // namespace spattn::formula
