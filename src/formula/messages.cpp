#include "formula/messages.hpp"

#include "core/error.hpp"

#include <charconv>
#include <cmath>

namespace spattn::formula {

namespace {
constexpr std::size_t kQuotedBytes = 200;
}

std::string quote(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t shown = text.size() < kQuotedBytes ? text.size() : kQuotedBytes;
  for (std::size_t i = 0; i < shown; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void formula_error(std::string_view formula, const std::string& what) {
  fail(SPATTN_ERR_FORMULA, "formula '" + quote(formula) + "': " + what);
}

}  // namespace spattn::formula
