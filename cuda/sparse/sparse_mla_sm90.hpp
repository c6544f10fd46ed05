// Host entry of the sm_90a index-sparse MLA kernel (cuda/sparse/sparse_mla_sm90.cu),
// used by the dispatcher in cuda/sparse/sparse_attention.cu.
#pragma once

#include <cuda_runtime.h>

#include "attention/sparse_problem.hpp"

namespace spattn::attention::sm90 {

// Longest list the kernel keeps in registers (8 entries per thread).
constexpr int kMaxSm90TopK = 2048;

// True when this build compiled the kernel (SPATTN_CUDA_ARCHS has 90a) and it
// runs `problem`: MLA 576/512, a list per query token, one split, heads a
// multiple of 64, 16-bit cache, topk <= kMaxSm90TopK. The caller checks the
// device (sm90::device_supported).
bool sparse_mla_supported(const SparseProblem& problem);

// Enqueues the kernel (check sparse_mla_supported first). Throws spattn::Error.
void launch_sparse_mla(const SparseProblem& problem, cudaStream_t stream, const char* function);

}  // namespace spattn::attention::sm90
