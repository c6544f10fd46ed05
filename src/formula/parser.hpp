// Recursive-descent parser: tokens -> postfix program. Grammar (lowest
// precedence first, as Python and so numexpr parse it; '**' is
// right-associative and binds tighter than a unary sign on its left:
// -2**2 == -4, 2**-1 == 0.5):
//
//   expression := or [('<' | '<=' | '>' | '>=' | '==' | '!=') or]
//   or         := and ('|' and)*
//   and        := arith ('&' arith)*
//   arith      := term (('+' | '-') term)*
//   term       := unary (('*' | '/' | '%') unary)*
//   unary      := ('+' | '-' | '~') unary | power
//   power      := primary ['**' unary]
//   primary    := number | name | name '(' [expression (',' expression)*] ')'
//               | 'where' '(' expression ',' expression ',' expression ')'
//               | '(' expression ')'
//
// Every value is a number or, from a comparison, a truth value; '&', '|',
// '~' and where's condition take truth values, everything else numbers, and
// the whole formula must give a number (checked here, with the column).
// Chained comparisons are refused, as numexpr refuses them.
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
