// Splits a formula into tokens. ASCII only; every token keeps its 1-based
// column for messages. Throws Error(SPATTN_ERR_FORMULA) on bad input.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace spattn::formula {

enum class TokenKind {
  Number,      // 12, 1.5, .5, 5., 1e-3
  Name,        // variable or function name
  Plus,        // +
  Minus,       // -
  Star,        // *
  Slash,       // /
  Power,       // **
  Percent,     // %
  Less,        // <
  LessEqual,   // <=
  Greater,     // >
  GreaterEqual,  // >=
  Equal,       // ==
  NotEqual,    // !=
  And,         // &
  Or,          // |
  Not,         // ~
  LeftParen,   // (
  RightParen,  // )
  Comma,       // ,
  End,         // after the last token
};

struct Token {
  TokenKind kind;
  std::string_view text;  // points into the formula
  std::uint32_t column;   // 1-based byte column
  double number;          // value of a Number token, 0 otherwise
};

// The tokens of `formula`, always ending with one End token.
std::vector<Token> tokenize(std::string_view formula);

}  // namespace spattn::formula
