// Benchmark-only entry of libspattn_attention_bench.so: the attention forward
// pass with the kernel forced (0: the dispatcher's choice, as
// spattn_attention_forward; 1: the mma.sync kernel; 2: the sm_90a kernel), so
// attention_bench.py can time both kernels in one run. Not part of libspattn.
#include <spattn/spattn.h>

#include "attention/attention_cuda.hpp"
#include "attention/attention_problem.hpp"
#include "capi/guard.hpp"

extern "C" __attribute__((visibility("default"))) spattn_status spattn_bench_attention_forward_path(
    const spattn_attention_args* args, void* stream, int path) {
  return spattn::guarded([&] {
    using spattn::attention::KernelPath;
    static const char* const kFunction = "spattn_bench_attention_forward_path";
    const spattn::attention::Problem problem = spattn::attention::resolve_problem(args, kFunction);
    spattn::attention::check_kernel_alignment(problem, kFunction);
    const KernelPath kp = path == 1 ? KernelPath::kMmaSync
                          : path == 2 ? KernelPath::kSm90
                                      : KernelPath::kAuto;
    spattn::attention::launch_forward_cuda(problem, stream, kFunction, kp);
  });
}
