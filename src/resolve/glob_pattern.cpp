#include "resolve/glob_pattern.hpp"

namespace spattn {

uint32_t next_code_point(std::string_view text, size_t& pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  uint32_t first = byte(pos);
  size_t length = first < 0x80 ? 1 : (first >> 5) == 0x6 ? 2 : (first >> 4) == 0xE ? 3 : (first >> 3) == 0x1E ? 4 : 0;
  if (length == 1) {
    ++pos;
    return first;
  }
  if (length == 0 || pos + length > text.size()) {
    ++pos;
    return 0x110000 + first;  // not valid UTF-8: the byte stands for itself
  }
  uint32_t code_point = first & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) {
      ++pos;
      return 0x110000 + first;
    }
    code_point = (code_point << 6) | (byte(pos + i) & 0x3F);
  }
  pos += length;
  return code_point;
}

GlobPattern::GlobPattern(std::string text) : text_(std::move(text)) {
  size_t pos = 0;
  while (pos < text_.size()) {
    uint32_t c = next_code_point(text_, pos);
    if (c == '*') {
      if (tokens_.empty() || tokens_.back().kind != Kind::Star) tokens_.push_back({Kind::Star, 0, false, 0, 0});
    } else if (c == '?') {
      tokens_.push_back({Kind::AnyOne, 0, false, 0, 0});
    } else if (c == '[' && parse_set(pos)) {
      // parse_set added the token and moved past ']'.
    } else {
      tokens_.push_back({Kind::Literal, c, false, 0, 0});
    }
  }
}

bool GlobPattern::parse_set(size_t& pos) {
  // Find the closing ']' as fnmatch does: a '!' and then a ']' right after
  // '[' belong to the set.
  size_t end = pos;
  if (end < text_.size() && text_[end] == '!') ++end;
  if (end < text_.size() && text_[end] == ']') ++end;
  while (end < text_.size() && text_[end] != ']') ++end;
  if (end >= text_.size()) return false;

  Token token{Kind::Set, 0, false, static_cast<uint32_t>(ranges_.size()), 0};
  size_t i = pos;
  if (text_[i] == '!') {
    token.negated = true;
    ++i;
  }
  std::string_view body(text_.data() + i, end - i);
  size_t p = 0;
  while (p < body.size()) {
    uint32_t low = next_code_point(body, p);
    uint32_t high = low;
    // `x-y` is a range when something follows the '-'; a final '-' is literal.
    if (p + 1 < body.size() && body[p] == '-') {
      ++p;
      high = next_code_point(body, p);
    }
    if (low <= high) ranges_.push_back({low, high});  // a reversed range is empty
  }
  token.range_count = static_cast<uint32_t>(ranges_.size()) - token.first_range;
  tokens_.push_back(token);
  pos = end + 1;
  return true;
}

bool GlobPattern::matches_one(const Token& token, uint32_t c) const {
  switch (token.kind) {
    case Kind::Literal: return c == token.code_point;
    case Kind::AnyOne: return true;
    case Kind::Set: {
      bool in = false;
      for (uint32_t r = token.first_range; r < token.first_range + token.range_count; ++r) {
        if (c >= ranges_[r].low && c <= ranges_[r].high) {
          in = true;
          break;
        }
      }
      return in != token.negated;
    }
    case Kind::Star: break;
  }
  return false;
}

bool GlobPattern::matches(std::string_view name) const {
  const size_t none = static_cast<size_t>(-1);
  size_t t = 0, n = 0;
  size_t star_token = none, star_name = 0;  // where to resume after the last '*'
  while (n < name.size()) {
    if (t < tokens_.size() && tokens_[t].kind == Kind::Star) {
      star_token = t++;
      star_name = n;
      continue;
    }
    size_t next = n;
    if (t < tokens_.size() && matches_one(tokens_[t], next_code_point(name, next))) {
      ++t;
      n = next;
      continue;
    }
    if (star_token == none) return false;
    // Let the last '*' swallow one more character and retry from there.
    next_code_point(name, star_name);
    t = star_token + 1;
    n = star_name;
  }
  while (t < tokens_.size() && tokens_[t].kind == Kind::Star) ++t;
  return t == tokens_.size();
}

}  // namespace spattn
