#include "core/error.hpp"

namespace spattn {
namespace {
thread_local std::string t_last_error;
}

void set_last_error(const std::string& message) noexcept {
  try {
    t_last_error = message;
  } catch (...) {
    // Out of memory while storing the message: leave no message at all
    // rather than the previous call's, which would name the wrong error.
    t_last_error.clear();
  }
}

const char* last_error() noexcept { return t_last_error.c_str(); }

}  // namespace spattn
