/* A stand-in libspattn.so.0 that reports major version 1: the bindings must refuse it at load
 * with a message naming both versions (tests in bindings/CMakeLists.txt). */
#include <stdint.h>

uint32_t spattn_version(void) { return 10000; }
const char *spattn_version_string(void) { return "1.0.0"; }
