// Text helpers shared by the formula tokenizer, parser and evaluator: every
// formula error is a spattn::Error(SPATTN_ERR_FORMULA) whose message quotes
// the formula (escaped and shortened, since the text is untrusted).
#pragma once

#include <string>
#include <string_view>

namespace spattn::formula {

// The formula as it appears in messages: printable ASCII kept, other bytes
// written as \xNN, cut after a few hundred bytes with "...".
std::string quote(std::string_view text);

// Shortest text that reads back as the same double ("0.5", "1000", "inf").
std::string format_number(double value);

// Throws Error(SPATTN_ERR_FORMULA, "formula '<quoted>': <what>").
[[noreturn]] void formula_error(std::string_view formula, const std::string& what);

}  // namespace spattn::formula
