// Typed, key-path-aware access to a Value tree, for applying a schema to
// untrusted documents. Every failure names the origin, the position where
// known, and the dotted key path (`sparse_attention_config.target_sparsity`).
#pragma once

#include <spattn/spattn.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <optional>

#include "value/value.hpp"

namespace spattn {

// A value together with where it sits, for messages.
struct Node {
  const Value& value;
  std::string path;            // dotted key path from the document root
  const std::string& origin;   // file path or "<string>"

  [[noreturn]] void fail(spattn_status status, const std::string& what) const;

  double number() const;                                   // TYPE unless a number
  double number_in(double lo, double hi) const;            // ... and in [lo, hi]
  double positive_number() const;                          // ... and > 0
  int32_t integer_in(int64_t lo, int64_t hi) const;        // integral number in [lo, hi]
  bool boolean() const;
  const std::string& string() const;
  // One of `choices`; OUT_OF_RANGE listing them otherwise.
  const std::string& string_in(const std::vector<std::string>& choices) const;
  const std::vector<Value>& list() const;
};

// Reads the members of a mapping. Each get()/require() marks its key as part
// of the schema; finish() then refuses any member that no call asked for,
// listing the keys that were asked for.
class ObjectReader {
 public:
  explicit ObjectReader(const Node& node);  // TYPE unless a mapping

  bool has(std::string_view key) const;
  // The member, or nothing when absent or null (null means "not set", as
  // Python's None does in the configs this schema mirrors).
  std::optional<Node> optional(std::string_view key);
  Node required(std::string_view key);  // MISSING_KEY when absent or null
  void finish() const;                 // UNKNOWN_KEY for members nobody asked for

  const Node& node() const { return node_; }

 private:
  Node node_;
  std::vector<std::string> known_;
};

}  // namespace spattn
