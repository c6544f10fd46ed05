// Shared bookkeeping of the readers: nesting depth and node count, so that
// both formats refuse oversized documents with the same limits and messages.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <string>
#include <unordered_set>

#include "core/error.hpp"
#include "value/document.hpp"

namespace spattn {

class TreeLimits {
 public:
  explicit TreeLimits(const std::string& origin) : origin_(origin) {}

  void enter(SourcePos pos) {
    if (++depth_ > SPATTN_MAX_NESTING_DEPTH) {
      fail(SPATTN_ERR_LIMIT, location(origin_, pos) + ": nesting deeper than " +
                                 std::to_string(SPATTN_MAX_NESTING_DEPTH) + " levels");
    }
  }
  void leave() { --depth_; }

  void add_nodes(size_t count, SourcePos pos) {
    nodes_ += count;
    if (nodes_ > SPATTN_MAX_DOCUMENT_NODES) {
      fail(SPATTN_ERR_LIMIT, location(origin_, pos) + ": document has more than " +
                                 std::to_string(SPATTN_MAX_DOCUMENT_NODES) +
                                 " values (YAML aliases count once per use)");
    }
  }

 private:
  const std::string& origin_;
  int depth_ = 0;
  size_t nodes_ = 0;
};

// Fills a mapping member by member, refusing a key given twice
// (SPATTN_ERR_DUPLICATE_KEY naming the place); lookups are hashed, so a
// mapping with many members costs no more than a list.
class MappingBuilder {
 public:
  MappingBuilder(Value& object, const std::string& origin, const std::string& path)
      : object_(object), origin_(origin), path_(path) {}
  bool has(const std::string& key) const { return keys_.count(key) != 0; }
  void add(std::string key, Value value, SourcePos key_pos);

 private:
  Value& object_;
  const std::string& origin_;
  const std::string& path_;
  std::unordered_set<std::string> keys_;
};

// Dotted path of a child: "" + "a" = "a", "a" + "b" = "a.b", "a" + [3] = "a[3]".
std::string child_path(const std::string& parent, const std::string& key);
std::string item_path(const std::string& parent, size_t index);

}  // namespace spattn
