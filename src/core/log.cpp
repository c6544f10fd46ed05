#include "core/log.hpp"

#include <atomic>
#include <memory>

namespace spattn {
namespace {

struct LogSink {
  spattn_log_fn fn;
  spattn_log_level min_level;
  void* user_data;
};

// The one piece of process-wide state. Sinks are immutable once published;
// replaced sinks are kept alive (a few bytes per set call) so a thread still
// reading an old pointer never touches freed memory.
std::atomic<const LogSink*> g_sink{nullptr};

}  // namespace

void set_log_callback(spattn_log_fn fn, spattn_log_level min_level, void* user_data) noexcept {
  const LogSink* sink = nullptr;
  if (fn != nullptr) {
    sink = new (std::nothrow) LogSink{fn, min_level, user_data};
    if (sink == nullptr) return;
  }
  g_sink.store(sink, std::memory_order_release);
}

void log(spattn_log_level level, const std::string& message) noexcept {
  const LogSink* sink = g_sink.load(std::memory_order_acquire);
  if (sink == nullptr || level < sink->min_level) return;
  sink->fn(level, message.c_str(), sink->user_data);
}

}  // namespace spattn
