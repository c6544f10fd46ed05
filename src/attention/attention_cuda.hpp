// The entry into the CUDA launcher (cuda/attention_forward.cu), defined only
// when the library is built with CUDA (SPATTN_HAVE_CUDA=1). No CUDA types.
#pragma once

#include "attention/attention_problem.hpp"

namespace spattn::attention {

// Enqueues the forward pass of a validated problem on `stream` (a
// cudaStream_t). Throws spattn::Error: SPATTN_ERR_UNSUPPORTED when no CUDA
// device is usable, SPATTN_ERR_CUDA (with cudaGetErrorString) when a CUDA
// call fails. Asynchronous: allocates nothing and never synchronizes.
void launch_forward_cuda(const Problem& problem, void* stream, const char* function);

}  // namespace spattn::attention
