// Reading untrusted YAML/JSON text into a Value tree, with the limits of
// spattn.h (size, nesting depth, node count) and duplicate-key detection.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "value/value.hpp"

namespace spattn {

// `origin` names the text in messages: a file path, or "<string>".
Value parse_json(std::string_view text, const std::string& origin, size_t max_bytes);
Value parse_yaml(std::string_view text, const std::string& origin, size_t max_bytes);

// JSON or YAML by `format`; SPATTN_FORMAT_AUTO picks JSON when the first
// non-blank byte is '{' or '[' (JSON is then required to parse), else YAML.
Value parse_document(std::string_view text, spattn_format format, const std::string& origin,
                     size_t max_bytes);

// Format implied by a file name's extension (.json / .yaml / .yml), else AUTO.
spattn_format format_from_path(const std::string& path);

// Whole file as bytes. SPATTN_ERR_IO when it cannot be opened or is not a
// regular file; SPATTN_ERR_LIMIT when larger than max_bytes.
std::string read_file(const std::string& path, size_t max_bytes);

// The same for a file already open as `fd` (not closed here); `shown` names
// it in messages.
std::string read_open_file(int fd, const std::string& shown, size_t max_bytes);

// "origin:line:column" where the position is known, else "origin".
std::string location(const std::string& origin, SourcePos pos);

// The double nearest to decimal text `[-+]?digits[.digits][(e|E)[-+]digits]`:
// too large is +-infinity, too small +-0 (as Python's float() reads it).
double decimal_to_double(std::string_view text);

}  // namespace spattn
