// The one internal value model that the YAML and JSON readers both produce,
// so that the config schema is applied to a single representation and the two
// formats cannot drift apart.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spattn {

// Where a value came from. line/column are 1-based; 0 means unknown (a
// value the library made itself).
struct SourcePos {
  int line = 0;
  int column = 0;
};

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Object, Array };

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<std::pair<std::string, Value>> members;  // Object: in source order, keys unique
  std::vector<Value> items;                            // Array
  SourcePos pos;

  static Value make_null(SourcePos pos = {});
  static Value make_bool(bool b, SourcePos pos = {});
  static Value make_number(double n, SourcePos pos = {});
  static Value make_string(std::string s, SourcePos pos = {});
  static Value make_object(SourcePos pos = {});
  static Value make_array(SourcePos pos = {});

  bool is_object() const { return kind == Kind::Object; }
  // Member lookup for objects; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  // Appends a member to an object; the caller has checked the key is new.
  Value& add_member(std::string key, Value value);
};

// Name of a kind for messages: "a mapping", "a number", ...
const char* kind_description(Value::Kind kind);

}  // namespace spattn
