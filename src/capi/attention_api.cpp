// extern "C" entry points of the attention forward pass.
#include <spattn/spattn.h>

#include "attention/attention_problem.hpp"
#include "attention/attention_reference.hpp"
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
    spattn::fail(SPATTN_ERR_UNSUPPORTED,
                 std::string(kFunction) + ": the library was built without CUDA");
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

}  // extern "C"
