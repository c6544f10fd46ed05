// Calibration formulas from checkpoints, e.g. "a * exp(b * target_sparsity)".
// The text is untrusted: it is tokenized and parsed by our own code into a
// small postfix program (never handed to an interpreter), bounded in length
// (SPATTN_MAX_FORMULA_BYTES) and depth (SPATTN_MAX_FORMULA_DEPTH).
//
// Syntax (numexpr's, for real numbers): numbers (12, 1.5, .5, 5., 1e-3),
// variable names, + - * / ** % (numexpr's float modulo: the sign of the
// divisor), unary + - and ~, comparisons < <= > >= == !=, & and | between
// comparisons, parentheses, where(condition, a, b), and calls of a fixed set
// of functions with fixed arity: abs arccos arccosh arcsin arcsinh arctan
// arctan2(y, x) arctanh ceil cos cosh exp expm1 floor log log10 log1p
// max(x, y) min(x, y) pow(x, y) sin sinh sqrt tan tanh. '**' is
// right-associative and binds tighter than a unary sign on its left
// (-2**2 == -4, 2**-1 == 0.5). '^' is refused (numexpr reads it as xor).
// Precedence and typing: formula/parser.hpp.
//
// Every error throws spattn::Error(SPATTN_ERR_FORMULA) with a message that
// quotes the formula and gives the 1-based column.
#pragma once

#include "formula/program.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spattn {

class Formula {
 public:
  // Parses `text`. Its names may only be `variable_names` (distinct
  // identifiers, e.g. {"target_sparsity", "a", "b"}); a declared name the
  // formula does not use is fine.
  static Formula compile(std::string_view text, std::vector<std::string> variable_names);

  // Value for `values` given in the order of the declared names. Throws when
  // a value used is not finite or when any step (intermediate or final) is
  // NaN or infinite (division by zero, log of 0, overflow, ...); the message
  // names the formula, the reason, its column and every value. Const,
  // allocation-free unless it throws, and safe from many threads at once.
  double evaluate(const double* values) const;  // variable_names().size() values
  double evaluate(const std::vector<double>& values) const;  // size must match

  const std::string& text() const { return text_; }
  const std::vector<std::string>& variable_names() const { return names_; }
  // The declared names the formula actually uses, in declared order.
  std::vector<std::string> used_variables() const;

 private:
  Formula() = default;

  [[noreturn]] void throw_non_finite(const formula::Instruction& instruction, const double* args,
                                     double result, const double* values) const;
  [[noreturn]] void throw_non_finite_input(const formula::Instruction& instruction,
                                           const double* values) const;
  std::string describe_values(const double* values) const;

  std::string text_;
  std::vector<std::string> names_;
  formula::Program program_;
};

}  // namespace spattn
