// extern "C" entry points of the attention kernels and their CPU references.
#include <spattn/spattn.h>

#include "attention/attention_problem.hpp"
#include "attention/attention_reference.hpp"
#include "attention/decode_problem.hpp"
#include "attention/decode_reference.hpp"
#include "attention/merge.hpp"
#include "capi/guard.hpp"
#include "core/error.hpp"

#if SPATTN_HAVE_CUDA
#include "attention/attention_cuda.hpp"
#endif

extern "C" {

spattn_status spattn_attention_forward(const spattn_attention_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_attention_forward";
    const spattn::attention::Problem problem = spattn::attention::resolve_problem(args, kFunction);
#if SPATTN_HAVE_CUDA
    spattn::attention::check_kernel_alignment(problem, kFunction);
    spattn::attention::launch_forward_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_attention_reference(const spattn_attention_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_attention_reference";
    const spattn::attention::Problem problem = spattn::attention::resolve_problem(args, kFunction);
    spattn::attention::reference_forward(problem, kFunction);
  });
}

spattn_status spattn_decode_num_splits(const spattn_decode_args* args, int32_t* out_splits) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_decode_num_splits";
    spattn::require_arg(out_splits, kFunction, "out_splits");
    *out_splits = spattn::attention::resolve_decode(args, kFunction).plan.num_splits;
  });
}

spattn_status spattn_decode_workspace_size(const spattn_decode_args* args, size_t* out_bytes) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_decode_workspace_size";
    spattn::require_arg(out_bytes, kFunction, "out_bytes");
    *out_bytes = spattn::attention::decode_workspace_bytes(spattn::attention::resolve_decode(args, kFunction));
  });
}

spattn_status spattn_attention_decode(const spattn_decode_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_attention_decode";
    const spattn::attention::DecodeProblem problem = spattn::attention::resolve_decode(args, kFunction);
#if SPATTN_HAVE_CUDA
    spattn::attention::check_decode_launch(problem, kFunction);
    spattn::attention::launch_decode_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_attention_decode_reference(const spattn_decode_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_attention_decode_reference";
    spattn::attention::reference_decode(spattn::attention::resolve_decode(args, kFunction), kFunction);
  });
}

spattn_status spattn_attention_merge(const spattn_merge_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_attention_merge";
    const spattn::attention::MergeProblem problem = spattn::attention::resolve_merge(args, kFunction);
#if SPATTN_HAVE_CUDA
    spattn::attention::check_merge_launch(problem, kFunction);
    spattn::attention::launch_merge_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_attention_merge_reference(const spattn_merge_args* args) {
  return spattn::guarded([&] {
    spattn::attention::reference_merge(spattn::attention::resolve_merge(args, "spattn_attention_merge_reference"));
  });
}

}  // extern "C"
