#include "value/schema.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"
#include "value/document.hpp"
#include "value/json_writer.hpp"
#include "value/tree_limits.hpp"

namespace spattn {
namespace {

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Number: return format_number(v.number);
    case Value::Kind::String: return "'" + v.string + "'";
    case Value::Kind::Bool: return v.boolean ? "true" : "false";
    default: return kind_description(v.kind);
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

void Node::fail(spattn_status status, const std::string& what) const {
  spattn::fail(status, where() + ": " + what);
}

std::string Node::where() const {
  return location(origin, value.pos) + ": " + (path.empty() ? "(root)" : path);
}

std::string Node::text() const { return describe(value); }

double Node::number() const {
  if (value.kind != Value::Kind::Number) {
    fail(SPATTN_ERR_TYPE, "expected a number, got " + std::string(kind_description(value.kind)));
  }
  if (!std::isfinite(value.number)) fail(SPATTN_ERR_OUT_OF_RANGE, "value " + describe(value) + " is not finite");
  return value.number;
}

double Node::number_in(double lo, double hi) const {
  double n = number();
  if (!(n >= lo && n <= hi)) {
    fail(SPATTN_ERR_OUT_OF_RANGE, "value " + describe(value) + " is outside [" + format_number(lo) +
                                      ", " + format_number(hi) + "]");
  }
  return n;
}

double Node::positive_number() const {
  double n = number();
  if (!(n > 0)) fail(SPATTN_ERR_OUT_OF_RANGE, "value " + describe(value) + " must be > 0");
  return n;
}

int32_t Node::integer_in(int64_t lo, int64_t hi) const {
  if (value.kind != Value::Kind::Number || std::trunc(value.number) != value.number) {
    fail(SPATTN_ERR_TYPE, "expected an integer, got " +
                              (value.kind == Value::Kind::Number ? describe(value)
                                                                  : std::string(kind_description(value.kind))));
  }
  if (value.number < double(lo) || value.number > double(hi)) {
    fail(SPATTN_ERR_OUT_OF_RANGE, "value " + describe(value) + " is outside [" + std::to_string(lo) +
                                      ", " + std::to_string(hi) + "]");
  }
  return static_cast<int32_t>(value.number);
}

bool Node::boolean() const {
  if (value.kind != Value::Kind::Bool) {
    fail(SPATTN_ERR_TYPE, "expected true or false, got " + describe(value));
  }
  return value.boolean;
}

const std::string& Node::string() const {
  if (value.kind != Value::Kind::String) {
    fail(SPATTN_ERR_TYPE, "expected a string, got " + std::string(kind_description(value.kind)));
  }
  return value.string;
}

const std::string& Node::string_in(const std::vector<std::string>& choices) const {
  const std::string& s = string();
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    fail(SPATTN_ERR_OUT_OF_RANGE, "value '" + s + "' is not one of: " + join(choices));
  }
  return s;
}

const std::vector<Value>& Node::list() const {
  if (value.kind != Value::Kind::Array) {
    fail(SPATTN_ERR_TYPE, "expected a list, got " + std::string(kind_description(value.kind)));
  }
  return value.items;
}

Node Node::item(size_t index) const { return Node{value.items[index], item_path(path, index), origin}; }

ObjectReader::ObjectReader(const Node& node) : node_(node) {
  if (!node.value.is_object()) {
    node.fail(SPATTN_ERR_TYPE, "expected a mapping, got " + std::string(kind_description(node.value.kind)));
  }
}

bool ObjectReader::has(std::string_view key) const { return node_.value.find(key) != nullptr; }

std::optional<Node> ObjectReader::optional(std::string_view key) {
  known_.emplace_back(key);
  const Value* v = node_.value.find(key);
  if (v == nullptr || v->kind == Value::Kind::Null) return std::nullopt;
  return Node{*v, child_path(node_.path, std::string(key)), node_.origin};
}

std::optional<Node> ObjectReader::optional_alias(std::string_view key, std::string_view alias) {
  std::optional<Node> first = optional(key);
  std::optional<Node> second = optional(alias);
  if (first && second) {
    second->fail(SPATTN_ERR_OUT_OF_RANGE, "'" + std::string(alias) + "' is another name for '" + std::string(key) +
                                              "'; give one of them");
  }
  return first ? first : second;
}

Node ObjectReader::required(std::string_view key) {
  std::optional<Node> member = optional(key);
  if (!member) node_.fail(SPATTN_ERR_MISSING_KEY, "missing required key '" + std::string(key) + "'");
  return *member;
}

void ObjectReader::finish() const {
  for (const auto& member : node_.value.members) {
    if (std::find(known_.begin(), known_.end(), member.first) == known_.end()) {
      Node{member.second, child_path(node_.path, member.first), node_.origin}.fail(
          SPATTN_ERR_UNKNOWN_KEY, "unknown key '" + member.first + "'; known keys here: " + join(known_));
    }
  }
}

void ObjectReader::finish_tolerant(const std::string& what) const {
  for (const auto& member : node_.value.members) {
    if (std::find(known_.begin(), known_.end(), member.first) == known_.end()) {
      Node unknown{member.second, child_path(node_.path, member.first), node_.origin};
      log(SPATTN_LOG_WARNING, unknown.where() + ": unknown key '" + member.first + "' ignored by " + what +
                                  "; known keys here: " + join(known_));
    }
  }
}

}  // namespace spattn
