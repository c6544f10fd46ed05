// Internal error model: C++ code throws spattn::Error; the extern "C" layer
// (src/capi/guard.hpp) catches every exception, stores the message in the
// thread-local last error and returns the status. Nothing escapes the ABI.
#pragma once

#include <spattn/spattn.h>

#include <stdexcept>
#include <string>

namespace spattn {

class Error : public std::runtime_error {
 public:
  Error(spattn_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  spattn_status status() const noexcept { return status_; }

 private:
  spattn_status status_;
};

[[noreturn]] inline void fail(spattn_status status, const std::string& message) {
  throw Error(status, message);
}

// Thread-local message behind spattn_last_error().
void set_last_error(const std::string& message) noexcept;
const char* last_error() noexcept;

}  // namespace spattn
