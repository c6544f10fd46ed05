// Recursive-descent parser: tokens -> postfix program. Grammar (lowest
// precedence first; '**' is right-associative and binds tighter than a unary
// sign on its left, as in Python and numexpr: -2**2 == -4, 2**-1 == 0.5):
//
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '/') unary)*
//   unary      := ('+' | '-') unary | power
//   power      := primary ['**' unary]
//   primary    := number | name | name '(' [expression (',' expression)*] ')'
//               | '(' expression ')'
//
// Parentheses, calls, unary signs and '**' right operands each count one
// level of depth; deeper than SPATTN_MAX_FORMULA_DEPTH is an error, so the
// recursion is bounded whatever the input.
#pragma once

#include "formula/program.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace spattn::formula {

// `variable_names` must be valid, distinct identifiers (checked by the caller).
Program parse(std::string_view formula, const std::vector<std::string>& variable_names);

}  // namespace spattn::formula
