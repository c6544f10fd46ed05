// Optional caller-installed log callback; the library is silent without one.
#pragma once

#include <spattn/spattn.h>

#include <string>

namespace spattn {

void set_log_callback(spattn_log_fn fn, spattn_log_level min_level, void* user_data);  // may throw bad_alloc
void log(spattn_log_level level, const std::string& message) noexcept;

}  // namespace spattn
