#include "value/document.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <limits>
#include <cstring>
#include <memory>

#include "core/error.hpp"
#include "value/tree_limits.hpp"

namespace spattn {

std::string location(const std::string& origin, SourcePos pos) {
  if (pos.line <= 0) return origin;
  return origin + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string item_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

void MappingBuilder::add(std::string key, Value value, SourcePos key_pos) {
  if (!keys_.insert(key).second) {
    fail(SPATTN_ERR_DUPLICATE_KEY, location(origin_, key_pos) + ": " + child_path(path_, key) +
                                       ": duplicate key '" + key + "'");
  }
  object_.add_member(std::move(key), std::move(value));
}

double decimal_to_double(std::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  double value = 0.0;
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    // Too large or too small for a double: the decimal exponent of the first
    // nonzero digit says which.
    const size_t e = text.find_first_of("eE");
    long exponent = 0;
    if (e != std::string_view::npos) {
      size_t i = e + 1;
      const bool exponent_negative = i < text.size() && text[i] == '-';
      if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
      for (; i < text.size() && exponent < 100000; ++i) exponent = exponent * 10 + (text[i] - '0');
      if (exponent_negative) exponent = -exponent;
    }
    const std::string_view mantissa = text.substr(0, e);
    const size_t dot = std::min(mantissa.find('.'), mantissa.size());
    long magnitude = 0;  // stays 0 (underflow) for an all-zero mantissa
    for (size_t i = 0; i < mantissa.size(); ++i) {
      if (mantissa[i] == '.' || mantissa[i] == '0') continue;
      magnitude = (i < dot ? long(dot - i) - 1 : -long(i - dot)) + exponent;
      break;
    }
    value = magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return negative ? -value : value;
}

spattn_format format_from_path(const std::string& path) {
  auto ends_with = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return path.size() >= n && path.compare(path.size() - n, n, suffix) == 0;
  };
  if (ends_with(".json")) return SPATTN_FORMAT_JSON;
  if (ends_with(".yaml") || ends_with(".yml")) return SPATTN_FORMAT_YAML;
  return SPATTN_FORMAT_AUTO;
}

Value parse_document(std::string_view text, spattn_format format, const std::string& origin,
                     size_t max_bytes) {
  if (format == SPATTN_FORMAT_AUTO) {
    size_t i = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
    bool looks_json = i < text.size() && (text[i] == '{' || text[i] == '[');
    format = looks_json ? SPATTN_FORMAT_JSON : SPATTN_FORMAT_YAML;
  }
  switch (format) {
    case SPATTN_FORMAT_JSON: return parse_json(text, origin, max_bytes);
    case SPATTN_FORMAT_YAML: return parse_yaml(text, origin, max_bytes);
    default:
      fail(SPATTN_ERR_INVALID_ARGUMENT,
           "format " + std::to_string(int(format)) + " is not a spattn_format");
  }
}

std::string read_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
  // forever; the type check below then refuses anything but a regular file.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(SPATTN_ERR_IO, path + ": cannot open: " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  return read_open_file(fd, path, max_bytes);
}

std::string read_open_file(int fd, const std::string& path, size_t max_bytes) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) fail(SPATTN_ERR_IO, path + ": not a regular file");
  if (static_cast<unsigned long long>(info.st_size) > max_bytes) {
    fail(SPATTN_ERR_LIMIT, path + ": file is " + std::to_string(info.st_size) +
                               " bytes; the limit is " + std::to_string(max_bytes));
  }
  std::string bytes;
  char buffer[65536];
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(SPATTN_ERR_IO, path + ": read error: " + std::strerror(errno));
    }
    bytes.append(buffer, static_cast<size_t>(got));
    if (bytes.size() > max_bytes) {  // the file grew while being read
      fail(SPATTN_ERR_LIMIT, path + ": file is larger than the limit of " +
                                 std::to_string(max_bytes) + " bytes");
    }
  }
  return bytes;
}

}  // namespace spattn
