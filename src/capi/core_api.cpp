// extern "C" entry points for version, status strings, errors, memory, logging.
#include <spattn/spattn.h>

#include <cstdlib>

#include "capi/guard.hpp"
#include "core/enum_names.hpp"
#include "core/log.hpp"

#define SPATTN_STR2(x) #x
#define SPATTN_STR(x) SPATTN_STR2(x)

extern "C" {

uint32_t spattn_version(void) { return SPATTN_VERSION_NUMBER; }

const char* spattn_version_string(void) {
  return SPATTN_STR(SPATTN_VERSION_MAJOR) "." SPATTN_STR(SPATTN_VERSION_MINOR) "." SPATTN_STR(
      SPATTN_VERSION_PATCH);
}

const char* spattn_status_string(spattn_status status) {
  switch (status) {
    case SPATTN_OK: return "SPATTN_OK";
    case SPATTN_ERR_INVALID_ARGUMENT: return "SPATTN_ERR_INVALID_ARGUMENT";
    case SPATTN_ERR_OUT_OF_MEMORY: return "SPATTN_ERR_OUT_OF_MEMORY";
    case SPATTN_ERR_IO: return "SPATTN_ERR_IO";
    case SPATTN_ERR_SYNTAX: return "SPATTN_ERR_SYNTAX";
    case SPATTN_ERR_UNKNOWN_KEY: return "SPATTN_ERR_UNKNOWN_KEY";
    case SPATTN_ERR_TYPE: return "SPATTN_ERR_TYPE";
    case SPATTN_ERR_OUT_OF_RANGE: return "SPATTN_ERR_OUT_OF_RANGE";
    case SPATTN_ERR_DUPLICATE_KEY: return "SPATTN_ERR_DUPLICATE_KEY";
    case SPATTN_ERR_LIMIT: return "SPATTN_ERR_LIMIT";
    case SPATTN_ERR_MISSING_KEY: return "SPATTN_ERR_MISSING_KEY";
    case SPATTN_ERR_FORMULA: return "SPATTN_ERR_FORMULA";
    case SPATTN_ERR_CALIBRATION_MISSING: return "SPATTN_ERR_CALIBRATION_MISSING";
    case SPATTN_ERR_CHECKPOINT: return "SPATTN_ERR_CHECKPOINT";
    case SPATTN_ERR_UNSAFE_PATH: return "SPATTN_ERR_UNSAFE_PATH";
    case SPATTN_ERR_NOT_FOUND: return "SPATTN_ERR_NOT_FOUND";
    case SPATTN_ERR_UNSUPPORTED: return "SPATTN_ERR_UNSUPPORTED";
    case SPATTN_ERR_CUDA: return "SPATTN_ERR_CUDA";
    case SPATTN_ERR_WRONG_ALGORITHM: return "SPATTN_ERR_WRONG_ALGORITHM";
    case SPATTN_ERR_INTERNAL: return "SPATTN_ERR_INTERNAL";
    case SPATTN_STATUS_MAX_ENUM: break;
  }
  return "SPATTN_ERR_UNKNOWN_STATUS";
}

const char* spattn_last_error(void) { return spattn::last_error(); }

void spattn_free(void* ptr) { std::free(ptr); }

spattn_status spattn_set_log_callback(spattn_log_fn fn, spattn_log_level min_level,
                                      void* user_data) {
  return spattn::guarded([&] {
    if (min_level < SPATTN_LOG_DEBUG || min_level > SPATTN_LOG_ERROR) {
      spattn::fail(SPATTN_ERR_INVALID_ARGUMENT,
                   "spattn_set_log_callback: min_level " + std::to_string(int(min_level)) +
                       " is not a spattn_log_level");
    }
    spattn::set_log_callback(fn, min_level, user_data);
  });
}

const char* spattn_algorithm_name(spattn_algorithm algorithm) { return spattn::algorithm_name(algorithm); }

}  // extern "C"
