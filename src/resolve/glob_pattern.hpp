// Shell-style patterns with the semantics of Python's fnmatch.fnmatchcase,
// which ModelOpt / TensorRT-LLM use for checkpoint `ignore` lists:
// case-sensitive; `*` matches any run of characters, dots and slashes
// included; `?` one character; `[seq]` / `[!seq]` a character in / not in a
// set (ranges `a-z`, a leading `]` or a leading/trailing `-` literal, a
// reversed range empty); a `[` without a closing `]` is literal; no
// backslash escapes. Text is UTF-8; a character is a code point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spattn {

class GlobPattern {
 public:
  explicit GlobPattern(std::string text);

  // Whether the whole of `name` matches. Allocation-free; safe from many threads.
  bool matches(std::string_view name) const;

  const std::string& text() const { return text_; }

 private:
  enum class Kind { Literal, AnyOne, Star, Set };
  struct Range {
    uint32_t low, high;
  };
  struct Token {
    Kind kind;
    uint32_t code_point;   // Literal
    bool negated;          // Set
    uint32_t first_range;  // Set: ranges_[first_range, first_range + range_count)
    uint32_t range_count;
  };

  // Parses the set starting just after '[' at `pos`; false when it has no
  // closing ']' (the '[' is then literal).
  bool parse_set(size_t& pos);
  bool matches_one(const Token& token, uint32_t code_point) const;

  std::string text_;
  std::vector<Token> tokens_;
  std::vector<Range> ranges_;
};

// The next character of UTF-8 text at `pos` (advanced past it). A byte
// that does not start a valid sequence is one character of its own,
// distinct from every valid code point.
uint32_t next_code_point(std::string_view text, size_t& pos);

}  // namespace spattn
