// Reading a caller's extensible struct (spattn.h "Conventions") for the
// index-sparse entry points: any struct_size from the struct's first layout
// up is accepted; the fields it covers are copied, the ones it lacks read as
// 0, bytes past the library's layout are not read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace spattn::attention {

template <class T>
T read_caller_struct(const T* in, size_t first_layout_end, const char* function, const char* argument,
                     const char* type_name) {
  if (in == nullptr) fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + argument + " is NULL");
  if (in->struct_size < first_layout_end) {
    fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + argument + ": " + type_name +
                                          ".struct_size is " + std::to_string(in->struct_size) +
                                          ", expected at least " + std::to_string(first_layout_end) +
                                          " (set it to sizeof(" + type_name + "))");
  }
  T copy;
  std::memset(static_cast<void*>(&copy), 0, sizeof copy);
  std::memcpy(static_cast<void*>(&copy), in, std::min<size_t>(in->struct_size, sizeof copy));
  return copy;
}

}  // namespace spattn::attention
