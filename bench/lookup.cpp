// Lookup latency: spattn_model_lookup on a 100-layer diffusers checkpoint
// (examples/checkpoints/wan-mini, 50 blocks x attn1/attn2 in transformer,
// a mix of ignored and ordinary layers, with timesteps on both sides of the
// cutoff), single thread, through the public C API.
#include <spattn/spattn.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::string checkpoint = argc > 1 ? argv[1] : std::string(SPATTN_SOURCE_DIR) + "/examples/checkpoints/wan-mini";
  spattn_model* model = nullptr;
  if (spattn_model_open(checkpoint.c_str(), nullptr, &model) != SPATTN_OK) {
    std::fprintf(stderr, "bench_lookup: %s\n", spattn_last_error());
    return 1;
  }
  std::vector<std::string> full, relative;
  for (int block = 0; block < 50; ++block) {
    for (const char* attn : {"attn1", "attn2"}) {
      relative.push_back("blocks." + std::to_string(block) + "." + attn);
      full.push_back("transformer." + relative.back());
    }
  }
  const double timesteps[] = {0.95, 0.5, SPATTN_NO_TIMESTEP};
  spattn_layer_params params{};
  params.struct_size = sizeof params;

  auto run = [&](const std::vector<std::string>& names, const char* label) {
    const int rounds = 20000;  // 100 layers x 3 timesteps x rounds lookups
    double checksum = 0;
    auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < rounds; ++round) {
      for (double t : timesteps) {
        for (const std::string& name : names) {
          spattn_model_lookup(model, "transformer", name.c_str(), SPATTN_PHASE_PREFILL, t, &params);
          checksum += params.threshold_scale_factor;
        }
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double lookups = double(rounds) * 3 * double(names.size());
    std::printf("%-38s %10.0f lookups  %7.1f ns/lookup  (checksum %.6g)\n", label, lookups, seconds * 1e9 / lookups,
                checksum);
  };
  run(relative, "100 layers, relative names (blocks.N)");
  run(full, "100 layers, full names (transformer.)");
  spattn_model_destroy(model);
  return 0;
}
