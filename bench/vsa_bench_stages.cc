// Benchmark-only entry of libspattn_attention_bench.so: the VSA forward pass
// restricted to some of its stages (bit mask, attention/vsa_cuda.hpp: 1 means,
// 2 scores, 4 selection, 8 coarse attention, 16 fine stage; 31 all), so that
// vsa_bench.py can time each stage on the workspace the earlier ones filled.
// Not part of libspattn.
#include <spattn/spattn.h>

#include "attention/vsa_cuda.hpp"
#include "attention/vsa_problem.hpp"
#include "capi/guard.hpp"

extern "C" __attribute__((visibility("default"))) spattn_status spattn_bench_vsa_forward_stages(
    const spattn_vsa_args* args, void* stream, unsigned stages) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_bench_vsa_forward_stages";
    const auto problem = spattn::attention::vsa::resolve_problem(args, kFunction, true);
    spattn::attention::vsa::launch_forward_cuda(problem, stream, kFunction, spattn::attention::vsa::Mutation::kNone,
                                                stages);
  });
}
