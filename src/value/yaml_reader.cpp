// YAML text -> Value, through libyaml's event parser. Scalars are typed as
// PyYAML's safe loader types them, which is what reads TensorRT-LLM's option
// files: the YAML 1.2 core schema plus YAML 1.1's yes/no/on/off booleans
// (plain scalars only; quoted ones are strings), and merge keys (`<<`).
// Aliases are expanded with every copy counted against the node limit, so an
// alias bomb is refused instead of exhausting memory. Tags other than the
// core schema's are refused on every node, and so is U+0000 in any string.
#include <yaml.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "value/document.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto option : options) {
    if (s == option) return true;
  }
  return false;
}

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c < char('0' + base));
    if (!ok) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_decimal_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (i >= s.size() || !all_digits(s.substr(i), 10)) return false;
    return true;
  }
  return i == s.size();
}

double parse_radix(std::string_view digits, int base) {
  double value = 0.0;
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
    value = value * base + d;
  }
  return value;
}

// The YAML 1.2 core schema for a plain scalar, with YAML 1.1's other
// booleans as PyYAML reads them.
Value resolve_plain(std::string_view s, SourcePos pos) {
  if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return Value::make_null(pos);
  if (is_one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return Value::make_bool(true, pos);
  if (is_one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) return Value::make_bool(false, pos);
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s.substr(2), 16)) {
    return Value::make_number(parse_radix(s.substr(2), 16), pos);
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s.substr(2), 8)) {
    return Value::make_number(parse_radix(s.substr(2), 8), pos);
  }
  if (is_decimal_number(s)) return Value::make_number(decimal_to_double(s), pos);
  std::string_view unsigned_s = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
  if (is_one_of(unsigned_s, {".inf", ".Inf", ".INF"})) {
    double inf = std::numeric_limits<double>::infinity();
    return Value::make_number(s[0] == '-' ? -inf : inf, pos);
  }
  if (is_one_of(s, {".nan", ".NaN", ".NAN"})) {
    return Value::make_number(std::numeric_limits<double>::quiet_NaN(), pos);
  }
  return Value::make_string(std::string(s), pos);
}

size_t count_nodes(const Value& v) {
  size_t n = 1;
  for (const auto& member : v.members) n += count_nodes(member.second);
  for (const auto& item : v.items) n += count_nodes(item);
  return n;
}

class YamlReader {
 public:
  YamlReader(std::string_view text, const std::string& origin) : origin_(origin), limits_(origin) {
    if (!yaml_parser_initialize(&parser_)) fail(SPATTN_ERR_OUT_OF_MEMORY, "cannot create a YAML parser");
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~YamlReader() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  Value read() {
    expect(next(), YAML_STREAM_START_EVENT);
    if (next() == YAML_STREAM_END_EVENT) return Value::make_null();  // empty text
    expect(event_.type, YAML_DOCUMENT_START_EVENT);
    next();
    Value root = node("");
    expect(next(), YAML_DOCUMENT_END_EVENT);
    if (next() != YAML_STREAM_END_EVENT) {
      fail(SPATTN_ERR_SYNTAX, location(origin_, pos()) + ": more than one YAML document");
    }
    return root;
  }

 private:
  yaml_event_type_t next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (!yaml_parser_parse(&parser_, &event_)) syntax_error();
    has_event_ = true;
    return event_.type;
  }

  [[noreturn]] void syntax_error() {
    SourcePos at{static_cast<int>(parser_.problem_mark.line) + 1,
                 static_cast<int>(parser_.problem_mark.column) + 1};
    std::string message = location(origin_, at) + ": YAML syntax error: " +
                          (parser_.problem ? parser_.problem : "malformed text");
    if (parser_.context) message += std::string(" (") + parser_.context + ")";
    fail(parser_.error == YAML_MEMORY_ERROR ? SPATTN_ERR_OUT_OF_MEMORY : SPATTN_ERR_SYNTAX, message);
  }

  void expect(yaml_event_type_t got, yaml_event_type_t wanted) {
    if (got != wanted) fail(SPATTN_ERR_SYNTAX, location(origin_, pos()) + ": unexpected YAML structure");
  }

  SourcePos pos() const {
    return {static_cast<int>(event_.start_mark.line) + 1, static_cast<int>(event_.start_mark.column) + 1};
  }

  // Builds the node that starts at the current event; leaves the current
  // event at the node's last event.
  Value node(const std::string& path) {
    SourcePos at = pos();
    switch (event_.type) {
      case YAML_ALIAS_EVENT: return alias(at);
      case YAML_SCALAR_EVENT: limits_.add_nodes(1, at); return scalar(at);
      case YAML_SEQUENCE_START_EVENT:
        check_collection_tag(event_.data.sequence_start.tag, YAML_SEQ_TAG, at);
        return sequence(path, at, event_.data.sequence_start.anchor);
      case YAML_MAPPING_START_EVENT:
        check_collection_tag(event_.data.mapping_start.tag, YAML_MAP_TAG, at);
        return mapping(path, at, event_.data.mapping_start.anchor);
      default: fail(SPATTN_ERR_SYNTAX, location(origin_, at) + ": unexpected YAML event");
    }
  }

  // A mapping or sequence may carry no tag, "!", or its own core tag.
  void check_collection_tag(const unsigned char* tag_bytes, const char* own_tag, SourcePos at) const {
    if (tag_bytes == nullptr) return;
    std::string tag = reinterpret_cast<const char*>(tag_bytes);
    if (tag == "!" || tag == own_tag) return;
    fail(SPATTN_ERR_SYNTAX, location(origin_, at) + ": unsupported YAML tag '" + tag + "'");
  }

  // The text of the current scalar event; U+0000 is refused (a C string
  // would end there, silently dropping the rest).
  std::string scalar_text(SourcePos at) const {
    std::string text(reinterpret_cast<const char*>(event_.data.scalar.value), event_.data.scalar.length);
    if (text.find('\0') != std::string::npos) {
      fail(SPATTN_ERR_SYNTAX, location(origin_, at) + ": U+0000 in a string is not allowed");
    }
    return text;
  }

  void remember(const std::string& anchor, const Value& value) { anchors_[anchor] = value; }

  Value alias(SourcePos at) {
    std::string name = reinterpret_cast<const char*>(event_.data.alias.anchor);
    auto found = anchors_.find(name);
    if (found == anchors_.end()) {
      fail(SPATTN_ERR_SYNTAX, location(origin_, at) + ": YAML alias '*" + name + "' has no anchor");
    }
    limits_.add_nodes(count_nodes(found->second), at);
    Value copy = found->second;
    copy.pos = at;
    return copy;
  }

  Value scalar(SourcePos at) {
    std::string text = scalar_text(at);
    std::string tag = event_.data.scalar.tag ? reinterpret_cast<const char*>(event_.data.scalar.tag) : "";
    bool plain = event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    Value value;
    if (tag.empty()) {
      value = plain ? resolve_plain(text, at) : Value::make_string(text, at);
    } else if (tag == "!" || tag == YAML_STR_TAG) {
      value = Value::make_string(text, at);
    } else if (tag == YAML_INT_TAG || tag == YAML_FLOAT_TAG || tag == YAML_BOOL_TAG || tag == YAML_NULL_TAG) {
      value = resolve_plain(text, at);
      bool matches = (tag == YAML_BOOL_TAG && value.kind == Value::Kind::Bool) ||
                     (tag == YAML_NULL_TAG && value.kind == Value::Kind::Null) ||
                     ((tag == YAML_INT_TAG || tag == YAML_FLOAT_TAG) && value.kind == Value::Kind::Number);
      if (!matches) fail(SPATTN_ERR_TYPE, location(origin_, at) + ": '" + text + "' is not a valid " + tag);
    } else {
      fail(SPATTN_ERR_SYNTAX, location(origin_, at) + ": unsupported YAML tag '" + tag + "'");
    }
    if (event_.data.scalar.anchor) remember(reinterpret_cast<const char*>(event_.data.scalar.anchor), value);
    return value;
  }

  Value sequence(const std::string& path, SourcePos at, const unsigned char* anchor) {
    std::string anchor_name = anchor ? reinterpret_cast<const char*>(anchor) : "";
    limits_.add_nodes(1, at);
    limits_.enter(at);
    Value array = Value::make_array(at);
    while (next() != YAML_SEQUENCE_END_EVENT) {
      array.items.push_back(node(item_path(path, array.items.size())));
    }
    limits_.leave();
    if (!anchor_name.empty()) remember(anchor_name, array);
    return array;
  }

  // Whether the current scalar event is a merge key: a plain `<<`, or one
  // tagged !!merge.
  bool is_merge_key() const {
    const char* tag = reinterpret_cast<const char*>(event_.data.scalar.tag);
    if (tag != nullptr) return std::string(tag) == "tag:yaml.org,2002:merge";
    return event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && event_.data.scalar.length == 2 &&
           std::memcmp(event_.data.scalar.value, "<<", 2) == 0;
  }

  // The mappings a merge key's value names: a mapping, or a list of them.
  std::vector<Value> merge_sources(Value value, const std::string& path) const {
    std::vector<Value> sources;
    if (value.kind == Value::Kind::Object) {
      sources.push_back(std::move(value));
      return sources;
    }
    if (value.kind == Value::Kind::Array) {
      for (Value& item : value.items) {
        if (item.kind != Value::Kind::Object) break;
        sources.push_back(std::move(item));
      }
      if (sources.size() == value.items.size()) return sources;
    }
    fail(SPATTN_ERR_TYPE, location(origin_, value.pos) + ": " + child_path(path, "<<") +
                              ": a merge key takes a mapping or a list of mappings, got " +
                              kind_description(value.kind));
  }

  Value mapping(const std::string& path, SourcePos at, const unsigned char* anchor) {
    std::string anchor_name = anchor ? reinterpret_cast<const char*>(anchor) : "";
    limits_.add_nodes(1, at);
    limits_.enter(at);
    Value object = Value::make_object(at);
    MappingBuilder members(object, origin_, path);
    std::vector<Value> merged;
    bool has_merge = false;
    while (next() != YAML_MAPPING_END_EVENT) {
      SourcePos key_pos = pos();
      if (event_.type != YAML_SCALAR_EVENT) {
        fail(SPATTN_ERR_SYNTAX, location(origin_, key_pos) + ": " + path +
                                    (path.empty() ? "" : ": ") + "mapping keys must be plain scalars");
      }
      std::string key = scalar_text(key_pos);
      bool merge = is_merge_key();
      next();
      Value value = node(child_path(path, key));
      if (!merge) {
        members.add(std::move(key), std::move(value), key_pos);
        continue;
      }
      if (has_merge) {
        fail(SPATTN_ERR_DUPLICATE_KEY, location(origin_, key_pos) + ": " + child_path(path, key) +
                                           ": duplicate merge key '<<' (give one, with a list of mappings)");
      }
      has_merge = true;
      merged = merge_sources(std::move(value), path);
    }
    // As PyYAML merges: keys written in the mapping win, then the merged
    // mappings in order, the first that has a key winning.
    for (Value& source : merged) {
      for (auto& member : source.members) {
        if (members.has(member.first)) continue;
        SourcePos key_pos = member.second.pos;
        members.add(member.first, std::move(member.second), key_pos);
      }
    }
    limits_.leave();
    if (!anchor_name.empty()) remember(anchor_name, object);
    return object;
  }

  const std::string& origin_;
  TreeLimits limits_;
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
  std::map<std::string, Value> anchors_;
};

}  // namespace

Value parse_yaml(std::string_view text, const std::string& origin, size_t max_bytes) {
  if (text.size() > max_bytes) {
    fail(SPATTN_ERR_LIMIT, origin + ": text is " + std::to_string(text.size()) +
                               " bytes; the limit is " + std::to_string(max_bytes));
  }
  YamlReader reader(text, origin);
  return reader.read();
}

}  // namespace spattn
