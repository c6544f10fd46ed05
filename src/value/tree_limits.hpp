// Shared bookkeeping of the readers: nesting depth and node count, so that
// both formats refuse oversized documents with the same limits and messages.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <string>

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

// Appends `key: value` to a mapping, refusing a key that is already there.
void add_unique_member(Value& object, std::string key, Value value, const std::string& origin,
                       const std::string& path, SourcePos key_pos);

// Dotted path of a child: "" + "a" = "a", "a" + "b" = "a.b", "a" + [3] = "a[3]".
std::string child_path(const std::string& parent, const std::string& key);
std::string item_path(const std::string& parent, size_t index);

}  // namespace spattn
