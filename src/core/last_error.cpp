#include "core/error.hpp"

namespace spattn {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) noexcept {
  try {
    t_last_error = message;
  } catch (...) {
    // Out of memory while storing the message: keep what fits in place.
    t_last_error.clear();
  }
}

const char* last_error() noexcept { return t_last_error.c_str(); }

}  // namespace spattn
