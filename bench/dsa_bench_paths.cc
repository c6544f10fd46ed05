// Benchmark-only entry of libspattn_attention_bench.so: index-sparse attention
// with the kernel forced (0: the dispatcher's choice, as spattn_sparse_attention;
// 1: the mma.sync kernel; 2: the sm_90a MLA kernel), so dsa_bench.py can time
// both kernels in one run. Not part of libspattn.
#include <spattn/spattn.h>

#include "attention/index_sparse_cuda.hpp"
#include "attention/sparse_problem.hpp"
#include "capi/guard.hpp"

extern "C" __attribute__((visibility("default"))) spattn_status spattn_bench_sparse_attention_path(
    const spattn_sparse_attention_args* args, void* stream, int path) {
  return spattn::guarded([&] {
    using spattn::attention::SparsePath;
    static const char* const kFunction = "spattn_bench_sparse_attention_path";
    const spattn::attention::SparseProblem problem = spattn::attention::resolve_sparse(args, kFunction);
    spattn::attention::check_sparse_launch(problem, kFunction);
    const SparsePath sp = path == 1 ? SparsePath::kMmaSync : path == 2 ? SparsePath::kSm90 : SparsePath::kAuto;
    spattn::attention::launch_sparse_cuda(problem, stream, kFunction, sp);
  });
}
