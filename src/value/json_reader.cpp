// JSON text -> Value, through cJSON. cJSON keeps duplicate keys and reports no
// positions of values, so duplicates are caught here and parse errors get a
// line/column computed from the offset cJSON stopped at.
#include <cjson/cJSON.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/error.hpp"
#include "value/document.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

SourcePos position_of_offset(std::string_view text, size_t offset) {
  SourcePos pos{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

// The offset of the first byte at which `text` stops being one JSON value
// (RFC 8259) surrounded by blanks, or npos when it is one. cJSON decides
// validity; this only places the error, since the offset cJSON reports is
// sometimes a byte past the culprit (a trailing comma in an object). Run
// after check_depth, so the recursion is bounded.
class SyntaxScanner {
 public:
  explicit SyntaxScanner(std::string_view text) : t_(text) {}

  size_t first_error() {
    if (!value()) return pos_;
    blanks();
    return pos_ < t_.size() ? pos_ : std::string_view::npos;
  }

 private:
  bool at(char c) const { return pos_ < t_.size() && t_[pos_] == c; }
  bool digit() const { return pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9'; }
  void blanks() {
    while (at(' ') || at('\t') || at('\n') || at('\r')) ++pos_;
  }
  bool word(const char* w) {
    for (; *w != '\0'; ++w, ++pos_)
      if (!at(*w)) return false;
    return true;
  }
  bool string() {
    if (!at('"')) return false;
    for (++pos_; pos_ < t_.size(); ++pos_) {
      const unsigned char c = static_cast<unsigned char>(t_[pos_]);
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      ++pos_;
      if (at('u')) {
        for (int i = 0; i < 4; ++i) {
          ++pos_;
          if (pos_ >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[pos_]))) return false;
        }
      } else if (pos_ >= t_.size() || t_[pos_] == '\0' || std::strchr("\"\\/bfnrt", t_[pos_]) == nullptr) {
        return false;
      }
    }
    return false;
  }
  bool digits() {
    if (!digit()) return false;
    while (digit()) ++pos_;
    return true;
  }
  bool number() {
    if (at('-')) ++pos_;
    if (at('0')) {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    if (at('.') && (++pos_, !digits())) return false;
    if (at('e') || at('E')) {
      ++pos_;
      if (at('+') || at('-')) ++pos_;
      if (!digits()) return false;
    }
    return true;
  }
  // A '{' or '[' sequence of members or items, ending in `close`.
  bool sequence(char close, bool members) {
    ++pos_;
    blanks();
    if (at(close)) return ++pos_, true;
    while (true) {
      if (members) {
        blanks();
        if (!string()) return false;
        blanks();
        if (!at(':')) return false;
        ++pos_;
      }
      if (!value()) return false;
      blanks();
      if (at(close)) return ++pos_, true;
      if (!at(',')) return false;
      ++pos_;
    }
  }
  bool value() {
    blanks();
    if (at('{')) return sequence('}', true);
    if (at('[')) return sequence(']', false);
    if (at('"')) return string();
    if (at('t')) return word("true");
    if (at('f')) return word("false");
    if (at('n')) return word("null");
    return number();
  }

  std::string_view t_;
  size_t pos_ = 0;
};

// Refuses NUL bytes (cJSON would stop there and ignore the rest) and
// invalid UTF-8 (it would pass through to messages and exports).
void check_bytes(std::string_view text, const std::string& origin) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = length != 0 && i + length <= text.size() && !(length == 2 && c < 0xC2);
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!valid || c == 0) {
      fail(SPATTN_ERR_SYNTAX, location(origin, position_of_offset(text, i)) +
                                  (c == 0 ? ": NUL byte in JSON text" : ": invalid UTF-8 in JSON text"));
    }
    i += length;
  }
}

// Nesting depth of brackets outside strings, checked before cJSON recurses.
void check_depth(std::string_view text, const std::string& origin) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > SPATTN_MAX_NESTING_DEPTH) {
        fail(SPATTN_ERR_LIMIT, location(origin, position_of_offset(text, i)) +
                                   ": nesting deeper than " +
                                   std::to_string(SPATTN_MAX_NESTING_DEPTH) + " levels");
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

struct Converter {
  const std::string& origin;
  TreeLimits limits;

  Value convert(const cJSON* node, const std::string& path) {
    limits.add_nodes(1, {});
    if (cJSON_IsNull(node)) return Value::make_null();
    if (cJSON_IsBool(node)) return Value::make_bool(cJSON_IsTrue(node) != 0);
    if (cJSON_IsNumber(node)) {
      if (!std::isfinite(node->valuedouble)) {
        fail(SPATTN_ERR_OUT_OF_RANGE, origin + ": " + path + ": number is outside the range of a double");
      }
      return Value::make_number(node->valuedouble);
    }
    if (cJSON_IsString(node)) return Value::make_string(node->valuestring);
    if (cJSON_IsArray(node)) {
      limits.enter({});
      Value array = Value::make_array();
      size_t index = 0;
      for (const cJSON* item = node->child; item != nullptr; item = item->next) {
        array.items.push_back(convert(item, item_path(path, index++)));
      }
      limits.leave();
      return array;
    }
    if (cJSON_IsObject(node)) {
      limits.enter({});
      Value object = Value::make_object();
      for (const cJSON* member = node->child; member != nullptr; member = member->next) {
        std::string key = member->string;
        Value value = convert(member, child_path(path, key));
        add_unique_member(object, std::move(key), std::move(value), origin, path, {});
      }
      limits.leave();
      return object;
    }
    fail(SPATTN_ERR_SYNTAX, origin + ": " + path + ": unsupported JSON value");
  }
};

}  // namespace

Value parse_json(std::string_view text, const std::string& origin, size_t max_bytes) {
  if (text.size() > max_bytes) {
    fail(SPATTN_ERR_LIMIT, origin + ": text is " + std::to_string(text.size()) +
                               " bytes; the limit is " + std::to_string(max_bytes));
  }
  check_bytes(text, origin);
  check_depth(text, origin);
  // cJSON checks that the value is followed only by blanks and a NUL, so it
  // is given the NUL-terminated copy including its terminator.
  std::string terminated(text);
  const char* end = nullptr;
  std::unique_ptr<cJSON, void (*)(cJSON*)> root(
      cJSON_ParseWithLengthOpts(terminated.c_str(), terminated.size() + 1, &end, 1), cJSON_Delete);
  if (!root) {
    size_t offset = SyntaxScanner(text).first_error();
    if (offset == std::string_view::npos) offset = end != nullptr ? static_cast<size_t>(end - terminated.c_str()) : 0;
    std::string near = terminated.substr(offset, 20);
    fail(SPATTN_ERR_SYNTAX, location(origin, position_of_offset(text, offset)) +
                                ": JSON syntax error" +
                                (offset >= text.size() ? std::string(" (unexpected end of text)")
                                                       : " near '" + near + "'"));
  }
  Converter converter{origin, TreeLimits(origin)};
  return converter.convert(root.get(), "");
}

}  // namespace spattn
