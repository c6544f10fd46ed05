// libFuzzer target for the user config parser (YAML and JSON front ends and
// the schema). Properties checked beyond "no crash, no leak, no UB": a
// failed parse reports a non-empty message, and an accepted config's
// canonical JSON parses back to the same canonical JSON.
#include <spattn/spattn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string canonical(const spattn_config* config) {
  char* json = nullptr;
  if (spattn_config_to_json(config, &json) != SPATTN_OK) std::abort();
  std::string out = json;
  spattn_free(json);
  return out;
}

void check(const char* text, size_t size, spattn_format format) {
  spattn_config* config = nullptr;
  spattn_status status = spattn_config_parse(text, size, format, &config);
  if (status != SPATTN_OK) {
    if (config != nullptr || spattn_last_error()[0] == '\0') std::abort();
    return;
  }
  std::string first = canonical(config);
  spattn_config_destroy(config);
  spattn_config* again = nullptr;
  if (spattn_config_parse(first.data(), first.size(), SPATTN_FORMAT_JSON, &again) != SPATTN_OK) std::abort();
  if (canonical(again) != first) std::abort();
  spattn_config_destroy(again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  check(text, size, SPATTN_FORMAT_AUTO);
  check(text, size, SPATTN_FORMAT_YAML);
  check(text, size, SPATTN_FORMAT_JSON);
  return 0;
}
