#include "value/value.hpp"

namespace spattn {

Value Value::make_null(SourcePos pos) {
  Value v;
  v.pos = pos;
  return v;
}

Value Value::make_bool(bool b, SourcePos pos) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  v.pos = pos;
  return v;
}

Value Value::make_number(double n, SourcePos pos) {
  Value v;
  v.kind = Kind::Number;
  v.number = n;
  v.pos = pos;
  return v;
}

Value Value::make_string(std::string s, SourcePos pos) {
  Value v;
  v.kind = Kind::String;
  v.string = std::move(s);
  v.pos = pos;
  return v;
}

Value Value::make_object(SourcePos pos) {
  Value v;
  v.kind = Kind::Object;
  v.pos = pos;
  return v;
}

Value Value::make_array(SourcePos pos) {
  Value v;
  v.kind = Kind::Array;
  v.pos = pos;
  return v;
}

const Value* Value::find(std::string_view key) const {
  if (kind != Kind::Object) return nullptr;
  for (const auto& member : members) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

Value& Value::add_member(std::string key, Value value) {
  members.emplace_back(std::move(key), std::move(value));
  return members.back().second;
}

const char* kind_description(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Number: return "a number";
    case Value::Kind::String: return "a string";
    case Value::Kind::Object: return "a mapping";
    case Value::Kind::Array: return "a list";
  }
  return "a value";
}

}  // namespace spattn
