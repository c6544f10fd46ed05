// JSON text -> Value, through cJSON. cJSON keeps duplicate keys and reports no
// positions of values, so duplicates are caught here and parse errors get a
// line/column computed from the offset cJSON stopped at.
#include <cjson/cJSON.h>

#include <cmath>
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
    size_t offset = end != nullptr ? static_cast<size_t>(end - terminated.c_str()) : 0;
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
