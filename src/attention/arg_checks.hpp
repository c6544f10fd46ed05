// Checks of caller-filled argument structs, each failing with
// SPATTN_ERR_INVALID_ARGUMENT (unsupported: SPATTN_ERR_UNSUPPORTED) and a
// message "<function>: <field> ..." that names the field as the caller wrote
// it (`args.q_strides[1]`). Every argument validator in src/attention uses
// these (and require_arg of capi/guard.hpp for NULL pointers).
#pragma once

#include <spattn/spattn.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace spattn::attention::checks {

[[noreturn]] inline void invalid(const char* function, const std::string& what) {
  fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + what);
}

[[noreturn]] inline void unsupported(const char* function, const std::string& what) {
  fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": " + what);
}

inline void in_range(int64_t value, int64_t lo, int64_t hi, const std::string& field, const char* function) {
  if (value < lo || value > hi) {
    invalid(function, field + " is " + std::to_string(value) + "; must be in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  }
}

inline void positive(int64_t value, const std::string& field, const char* function) {
  if (value <= 0) invalid(function, field + " is " + std::to_string(value) + "; must be > 0");
}

inline void dtype(spattn_dtype dt, const std::string& field, const char* function) {
  if (dt != SPATTN_DTYPE_FLOAT16 && dt != SPATTN_DTYPE_BFLOAT16) {
    invalid(function, field + " is " + std::to_string(int(dt)) +
                          "; expected SPATTN_DTYPE_FLOAT16 (1) or SPATTN_DTYPE_BFLOAT16 (2)");
  }
}

// {batch, token, head} element strides, each >= 0.
inline void strides(const int64_t s[3], const std::string& field, const char* function) {
  static const char* const kNames[3] = {"batch", "token", "head"};
  for (int i = 0; i < 3; ++i) {
    if (s[i] < 0) {
      invalid(function, field + "[" + std::to_string(i) + "] (" + kNames[i] + " stride) is " +
                            std::to_string(s[i]) + "; strides must be >= 0");
    }
  }
}

// What the CUDA kernels load rows with: 16-byte aligned data, strides in
// multiples of 8 elements (16 bytes of a 16-bit type).
inline void rows_16b(const void* data, const int64_t s[3], const std::string& name,
                     const char* function) {
  if (reinterpret_cast<uintptr_t>(data) % 16 != 0) {
    invalid(function, name + " is not 16-byte aligned; the kernel loads 16-byte rows");
  }
  for (int i = 0; i < 3; ++i) {
    if (s[i] % 8 != 0) {
      invalid(function, name + "_strides[" + std::to_string(i) + "] is " + std::to_string(s[i]) +
                            "; the kernel needs multiples of 8 elements (16-byte rows)");
    }
  }
}

inline void aligned(const void* data, size_t alignment, const std::string& field, const char* function) {
  if (reinterpret_cast<uintptr_t>(data) % alignment != 0) {
    invalid(function, field + " is not " + std::to_string(alignment) + "-byte aligned");
  }
}

}  // namespace spattn::attention::checks
