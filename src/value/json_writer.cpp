#include "value/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace spattn {
namespace {

void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void newline(std::string& out, int indent, int depth) {
  if (indent == 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent * depth), ' ');
}

void write_value(std::string& out, const Value& v, int indent, int depth) {
  switch (v.kind) {
    case Value::Kind::Null: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Number: out += format_number(v.number); return;
    case Value::Kind::String: write_string(out, v.string); return;
    case Value::Kind::Array: {
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out += indent == 0 ? ", " : ",";
        newline(out, indent, depth + 1);
        write_value(out, v.items[i], indent, depth + 1);
      }
      if (!v.items.empty()) newline(out, indent, depth);
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i > 0) out += indent == 0 ? ", " : ",";
        newline(out, indent, depth + 1);
        write_string(out, v.members[i].first);
        out += ": ";
        write_value(out, v.members[i].second, indent, depth + 1);
      }
      if (!v.members.empty()) newline(out, indent, depth);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string format_number(double number) {
  char buffer[64];
  // Whole numbers of ordinary size read best without an exponent (3000000000, not 3e+09).
  bool whole = number > -1e15 && number < 1e15 && number == std::trunc(number);
  auto result = whole ? std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::fixed)
                      : std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, result.ptr);
}

std::string write_json(const Value& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

}  // namespace spattn
