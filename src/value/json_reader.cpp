// JSON text -> Value: a strict RFC 8259 reader that records the line:column
// of every value, so that schema errors in JSON files point at the place as
// they do for YAML. It also reads the NaN / Infinity / -Infinity literals
// that Python's json module writes (config.json files are written by it);
// such a value is refused only where the schema uses it. Refused: invalid
// UTF-8, NUL bytes and U+0000 escapes (a C string would end there, silently
// dropping the rest), lone surrogate escapes, raw control characters in
// strings, trailing commas, duplicate keys. Errors are one line each.
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "value/document.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

class JsonReader {
 public:
  JsonReader(std::string_view text, const std::string& origin) : text_(text), origin_(origin), limits_(origin) {}

  Value read() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;  // UTF-8 byte order mark
    skip_blanks();
    Value root = value("");
    skip_blanks();
    if (pos_ < text_.size()) error("unexpected text after the JSON value");
    return root;
  }

 private:
  SourcePos here() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  // The text at the current position, for messages: printable ASCII as is,
  // anything else as \xNN, at most 20 bytes.
  std::string near() const {
    if (at_end()) return "the end of the text";
    std::string out = "'";
    for (size_t i = pos_; i < text_.size() && i < pos_ + 20; ++i) {
      unsigned char c = static_cast<unsigned char>(text_[i]);
      if (c >= 0x20 && c < 0x7F) {
        out += static_cast<char>(c);
      } else {
        static const char kHex[] = "0123456789ABCDEF";
        out += std::string("\\x") + kHex[c >> 4] + kHex[c & 0xF];
      }
    }
    return out + "'";
  }

  [[noreturn]] void error(const std::string& what) const {
    fail(SPATTN_ERR_SYNTAX, location(origin_, here()) + ": JSON syntax error: " + what + " at " + near());
  }

  void skip_blanks() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  bool consume_word(const char* word) {
    size_t n = std::strlen(word);
    if (text_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Value value(const std::string& path) {
    SourcePos at = here();
    limits_.add_nodes(1, at);
    char c = peek();
    if (c == '{') return object(path, at);
    if (c == '[') return array(path, at);
    if (c == '"') return Value::make_string(string(), at);
    if (c == '-' || (c >= '0' && c <= '9')) return number(at);
    if (consume_word("true")) return Value::make_bool(true, at);
    if (consume_word("false")) return Value::make_bool(false, at);
    if (consume_word("null")) return Value::make_null(at);
    if (consume_word("NaN")) return Value::make_number(std::numeric_limits<double>::quiet_NaN(), at);
    if (consume_word("Infinity")) return Value::make_number(std::numeric_limits<double>::infinity(), at);
    error(at_end() ? "unexpected end of text, expected a value" : "expected a value");
  }

  Value object(const std::string& path, SourcePos at) {
    limits_.enter(at);
    ++pos_;  // '{'
    Value result = Value::make_object(at);
    MappingBuilder members(result, origin_, path);
    skip_blanks();
    if (peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        SourcePos key_pos = here();
        if (peek() != '"') error(at_end() ? "unexpected end of text, expected a key" : "expected a string key");
        std::string key = string();
        skip_blanks();
        if (peek() != ':') error("expected ':' after the key");
        ++pos_;
        skip_blanks();
        Value member = value(child_path(path, key));
        members.add(std::move(key), std::move(member), key_pos);
        skip_blanks();
        if (peek() == '}') {
          ++pos_;
          break;
        }
        if (peek() != ',') error(at_end() ? "unexpected end of text, expected ',' or '}'" : "expected ',' or '}'");
        ++pos_;
        skip_blanks();
        if (peek() == '}') error("trailing comma before '}'");
      }
    }
    limits_.leave();
    return result;
  }

  Value array(const std::string& path, SourcePos at) {
    limits_.enter(at);
    ++pos_;  // '['
    Value result = Value::make_array(at);
    skip_blanks();
    if (peek() == ']') {
      ++pos_;
    } else {
      for (;;) {
        result.items.push_back(value(item_path(path, result.items.size())));
        skip_blanks();
        if (peek() == ']') {
          ++pos_;
          break;
        }
        if (peek() != ',') error(at_end() ? "unexpected end of text, expected ',' or ']'" : "expected ',' or ']'");
        ++pos_;
        skip_blanks();
        if (peek() == ']') error("trailing comma before ']'");
      }
    }
    limits_.leave();
    return result;
  }

  unsigned hex4() {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (digit < 0) error("\\u needs four hexadecimal digits");
      code = code * 16 + unsigned(digit);
      ++pos_;
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // The code point of a \u escape (the "\u" already consumed), surrogate
  // pairs joined.
  unsigned unicode_escape(size_t escape_start) {
    unsigned code = hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) {
      pos_ = escape_start;
      error("lone low surrogate escape");
    }
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (!consume_word("\\u")) {
        pos_ = escape_start;
        error("high surrogate escape without its low surrogate");
      }
      unsigned low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = escape_start;
        error("high surrogate escape without its low surrogate");
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code == 0) {
      pos_ = escape_start;
      error("U+0000 in a string is not allowed (a C string would end there)");
    }
    return code;
  }

  std::string string() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (at_end()) error("unexpected end of text inside a string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) error("control character in a string (write it as an escape)");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      size_t escape_start = pos_;
      ++pos_;
      char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, unicode_escape(escape_start)); break;
        default:
          pos_ = escape_start;
          error("unknown escape");
      }
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, or -Infinity.
  Value number(SourcePos at) {
    size_t start = pos_;
    auto digits = [&] {
      size_t first = pos_;
      while (peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ - first;
    };
    if (peek() == '-') {
      ++pos_;
      if (consume_word("Infinity")) return Value::make_number(-std::numeric_limits<double>::infinity(), at);
    }
    if (peek() == '0') {
      ++pos_;
      if (peek() >= '0' && peek() <= '9') error("leading zero in a number");
    } else if (digits() == 0) {
      error("malformed number");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) error("malformed number: digits expected after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) error("malformed number: digits expected in the exponent");
    }
    return Value::make_number(decimal_to_double(text_.substr(start, pos_ - start)), at);
  }

  std::string_view text_;
  const std::string& origin_;
  TreeLimits limits_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

// Refuses invalid UTF-8 and NUL bytes anywhere in the text, with the place.
void check_bytes(std::string_view text, const std::string& origin) {
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = length != 0 && i + length <= text.size() && !(length == 2 && c < 0xC2);
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!valid || c == 0) {
      SourcePos at{line, static_cast<int>(i - line_start) + 1};
      fail(SPATTN_ERR_SYNTAX, location(origin, at) + (c == 0 ? ": NUL byte in JSON text" : ": invalid UTF-8 in JSON text"));
    }
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    i += length;
  }
}

}  // namespace

Value parse_json(std::string_view text, const std::string& origin, size_t max_bytes) {
  if (text.size() > max_bytes) {
    fail(SPATTN_ERR_LIMIT, origin + ": text is " + std::to_string(text.size()) +
                               " bytes; the limit is " + std::to_string(max_bytes));
  }
  check_bytes(text, origin);
  return JsonReader(text, origin).read();
}

}  // namespace spattn
