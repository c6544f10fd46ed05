#include "core/log.hpp"

#include <memory>

namespace spattn {
namespace {

struct LogSink {
  spattn_log_fn fn;
  spattn_log_level min_level;
  void* user_data;
};

// The one piece of process-wide state. Sinks are immutable once published
// and swapped atomically; a thread still logging through a replaced sink
// holds its own reference, so the sink is freed only after that call ends.
std::shared_ptr<const LogSink> g_sink;

}  // namespace

void set_log_callback(spattn_log_fn fn, spattn_log_level min_level, void* user_data) {
  std::shared_ptr<const LogSink> sink;
  if (fn != nullptr) sink = std::make_shared<const LogSink>(LogSink{fn, min_level, user_data});
  std::atomic_store(&g_sink, std::move(sink));
}

void log(spattn_log_level level, const std::string& message) noexcept {
  std::shared_ptr<const LogSink> sink = std::atomic_load(&g_sink);
  if (!sink || level < sink->min_level) return;
  sink->fn(level, message.c_str(), sink->user_data);
}

}  // namespace spattn
