// Time to parse a typical user config, YAML and JSON, through the public API.
// usage: bench_config_parse [iterations]
#include <spattn/spattn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Case {
  const char* name;
  std::string text;
};

// Median over `rounds` of the mean time of `iterations` parses, in microseconds.
double time_parse(const std::string& text, int iterations, int rounds) {
  std::vector<double> means;
  for (int r = 0; r < rounds; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) {
      spattn_config* config = nullptr;
      if (spattn_config_parse(text.data(), text.size(), SPATTN_FORMAT_AUTO, &config) != SPATTN_OK) {
        std::fprintf(stderr, "parse failed: %s\n", spattn_last_error());
        std::exit(1);
      }
      spattn_config_destroy(config);
    }
    std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    means.push_back(elapsed.count() / iterations);
  }
  std::sort(means.begin(), means.end());
  return means[means.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const Case cases[] = {
      {"llm target (YAML)",
       "sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity:\n    prefill: 0.5\n    decode: 0.3\n"},
      {"visualgen target (YAML)",
       "attention_config:\n  backend: TRTLLM\n  sparse_attention_config:\n    algorithm: skip_softmax\n"
       "    target_sparsity: 0.5\n    disabled_until_timestep: 0.6\n"},
      {"llm threshold (JSON)",
       R"({"sparse_attention_config": {"algorithm": "skip_softmax", "threshold_scale_factor": {"prefill": 1000.0, "decode": 500.0}}})"},
      {"rocket + options (YAML)",
       "sparse_attention_config:\n  algorithm: rocket\n  prompt_budget: 2048\n  kt_cache_dtype: float8_e5m2\n"
       "kv_cache_config:\n  enable_block_reuse: false\nenable_chunked_prefill: false\n"},
  };
  std::printf("| config | bytes | us per parse (median of 7) |\n|---|---|---|\n");
  for (const Case& c : cases) {
    std::printf("| %s | %zu | %.2f |\n", c.name, c.text.size(), time_parse(c.text, iterations, 7));
  }
  return 0;
}
