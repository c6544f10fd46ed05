#include "formula/tokenizer.hpp"

#include "formula/messages.hpp"

#include <charconv>
#include <string>
#include <system_error>

namespace spattn::formula {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string at_column(std::size_t offset) { return " at column " + std::to_string(offset + 1); }

std::string hex_byte(char c) {
  static const char kHex[] = "0123456789ABCDEF";
  auto byte = static_cast<unsigned char>(c);
  return std::string("0x") + kHex[byte >> 4] + kHex[byte & 0xF];
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view formula) : text_(formula) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      if (pos_ == text_.size()) break;
      tokens.push_back(next());
    }
    tokens.push_back(make(TokenKind::End, pos_, 0));
    return tokens;
  }

 private:
  Token make(TokenKind kind, std::size_t start, std::size_t length, double number = 0) const {
    return Token{kind, text_.substr(start, length), static_cast<std::uint32_t>(start + 1), number};
  }

  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  Token next() {
    std::size_t start = pos_;
    char c = text_[pos_];
    if (is_digit(c) || (c == '.' && is_digit(peek(1)))) return number();
    if (is_name_start(c)) return name();
    ++pos_;
    switch (c) {
      case '+': return make(TokenKind::Plus, start, 1);
      case '-': return make(TokenKind::Minus, start, 1);
      case '/': return make(TokenKind::Slash, start, 1);
      case '(': return make(TokenKind::LeftParen, start, 1);
      case ')': return make(TokenKind::RightParen, start, 1);
      case ',': return make(TokenKind::Comma, start, 1);
      case '*': return one_or_two(TokenKind::Star, '*', TokenKind::Power, start);
      case '%': return make(TokenKind::Percent, start, 1);
      case '<': return one_or_two(TokenKind::Less, '=', TokenKind::LessEqual, start);
      case '>': return one_or_two(TokenKind::Greater, '=', TokenKind::GreaterEqual, start);
      case '&': return make(TokenKind::And, start, 1);
      case '|': return make(TokenKind::Or, start, 1);
      case '~': return make(TokenKind::Not, start, 1);
      case '=':
        if (peek() == '=') return one_or_two(TokenKind::Equal, '=', TokenKind::Equal, start);
        formula_error(text_, "'='" + at_column(start) + " is not an operator; write '==' to compare");
      case '!':
        if (peek() == '=') return one_or_two(TokenKind::NotEqual, '=', TokenKind::NotEqual, start);
        formula_error(text_, "'!'" + at_column(start) + " is not an operator; write '~' for not, '!=' to compare");
      default: break;
    }
    bad_character(start);
  }

  // The one-character token `single`, or `pair` when `second` follows.
  Token one_or_two(TokenKind single, char second, TokenKind pair, std::size_t start) {
    if (peek() != second) return make(single, start, 1);
    ++pos_;
    return make(pair, start, 2);
  }

  [[noreturn]] void bad_character(std::size_t offset) const {
    char c = text_[offset];
    auto byte = static_cast<unsigned char>(c);
    if (c == '^') {
      formula_error(text_, "'^'" + at_column(offset) +
                               " is not a power operator (numexpr reads it as bitwise xor); "
                               "write '**' for a power");
    }
    if (byte >= 0x80) {
      formula_error(text_, "non-ASCII byte " + hex_byte(c) + at_column(offset) +
                               " (a formula is plain ASCII)");
    }
    if (byte < 0x20 || byte == 0x7F) {
      formula_error(text_, "unexpected control byte " + hex_byte(c) + at_column(offset));
    }
    formula_error(text_, std::string("unexpected character '") + c + "'" + at_column(offset));
  }

  // digits [ '.' digits ] [ ('e'|'E') ['+'|'-'] digits ], with at least one
  // mantissa digit; a number glued to a name character or a second '.' is malformed.
  Token number() {
    std::size_t start = pos_;
    while (is_digit(peek())) ++pos_;
    if (peek() == '.') {
      ++pos_;
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
      if (!is_digit(peek(1 + sign))) malformed_number(start, pos_ + 1 + sign);
      pos_ += 1 + sign;
      while (is_digit(peek())) ++pos_;
    }
    if (is_name_char(peek()) || peek() == '.') malformed_number(start, pos_ + 1);
    return make(TokenKind::Number, start, pos_ - start, convert(start));
  }

  double convert(std::size_t start) const {
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    double value = 0;
    std::from_chars_result result = std::from_chars(first, last, value);
    if (result.ec == std::errc::result_out_of_range) {
      formula_error(text_, "number '" + std::string(first, last) + "'" + at_column(start) +
                               " is out of the range of a double");
    }
    if (result.ec != std::errc() || result.ptr != last) malformed_number(start, pos_);
    return value;
  }

  [[noreturn]] void malformed_number(std::size_t start, std::size_t end) const {
    if (end > text_.size()) end = text_.size();
    formula_error(text_, "malformed number '" + quote(text_.substr(start, end - start)) + "'" +
                             at_column(start));
  }

  Token name() {
    std::size_t start = pos_;
    while (is_name_char(peek())) ++pos_;
    return make(TokenKind::Name, start, pos_ - start);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view formula) { return Tokenizer(formula).run(); }

}  // namespace spattn::formula
