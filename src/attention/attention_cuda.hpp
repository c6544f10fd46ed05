// The entries into the CUDA launchers (cuda/prefill/, cuda/decode/), defined
// only when the library is built with CUDA (SPATTN_HAVE_CUDA=1). No CUDA types.
#pragma once

#include "attention/attention_problem.hpp"
#include "attention/decode_problem.hpp"
#include "attention/merge.hpp"

namespace spattn::attention {

// Which kernel runs a problem. kAuto: the Hopper (wgmma/TMA) kernel when the
// device is sm_90 and the problem is one it handles, else the mma.sync
// kernel. The forced paths are for tests and benchmarks; kSm90 throws
// SPATTN_ERR_UNSUPPORTED when that kernel cannot run the problem.
enum class KernelPath { kAuto, kMmaSync, kSm90 };

// Enqueues the forward pass of a validated problem on `stream` (a
// cudaStream_t). Throws spattn::Error: SPATTN_ERR_UNSUPPORTED when no CUDA
// device is usable, SPATTN_ERR_CUDA (with cudaGetErrorString) when a CUDA
// call fails. Asynchronous: allocates nothing and never synchronizes.
void launch_forward_cuda(const Problem& problem, void* stream, const char* function,
                         KernelPath path = KernelPath::kAuto);

// Enqueues a validated decode step (the split kernel, then, with more than
// one split, the merge of the splits from the workspace). Same errors.
void launch_decode_cuda(const DecodeProblem& problem, void* stream, const char* function);

// Enqueues a validated merge. Same errors.
void launch_merge_cuda(const MergeProblem& problem, void* stream, const char* function);

}  // namespace spattn::attention
