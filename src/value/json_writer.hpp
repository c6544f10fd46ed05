// Value -> JSON text, deterministic: members in the order they were added,
// numbers in the shortest form that reads back to the same double.
#pragma once

#include <string>

#include "value/value.hpp"

namespace spattn {

// indent 0: one line; otherwise pretty-printed with that many spaces.
std::string write_json(const Value& value, int indent = 2);

// The shortest decimal text that reads back to `number` (locale-independent).
std::string format_number(double number);

}  // namespace spattn
