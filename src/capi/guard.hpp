// The boundary between C++ internals and the C ABI: every exported function
// that can fail runs its body through guarded(), which turns any exception
// into a status and a thread-local message.
#pragma once

#include <spattn/spattn.h>

#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"

namespace spattn {

template <class Body>
spattn_status guarded(Body&& body) noexcept {
  try {
    body();
    return SPATTN_OK;
  } catch (const Error& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return SPATTN_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string("internal error: ") + e.what());
    return SPATTN_ERR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return SPATTN_ERR_INTERNAL;
  }
}

// What every kernel entry point answers in a library built without CUDA.
[[noreturn]] inline void fail_without_cuda(const char* function) {
  fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": the library was built without CUDA");
}

// Checks an argument pointer; the message names the function and argument.
inline void require_arg(const void* ptr, const char* function, const char* argument) {
  if (ptr == nullptr) {
    fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + argument + " is NULL");
  }
}

}  // namespace spattn

#include <cstdlib>
#include <cstring>

namespace spattn {

// Hands a string to the caller as malloc'ed memory, released by spattn_free().
inline char* copy_out_string(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

}  // namespace spattn
