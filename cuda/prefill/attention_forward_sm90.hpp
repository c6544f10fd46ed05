// Host entry of the Hopper kernel (cuda/prefill/attention_forward_sm90.cu), used by
// the dispatcher in cuda/prefill/attention_forward.cu.
#pragma once

#include <cuda_runtime.h>

#include "attention/attention_problem.hpp"

namespace spattn::attention::sm90 {

// True when `device` can run the sm_90a kernel (compute capability 9.0) and
// this build compiled it (SPATTN_CUDA_ARCHS contains 90a).
bool device_supported(int device);

// Launches the Hopper kernel for `problem` when it can handle it (fixed
// lengths, or packed batches with nonzero total_q/total_kv; tensors TMA can
// describe) and returns true; returns false without launching anything
// otherwise (packed batches without totals among them). Throws spattn::Error
// on CUDA errors.
bool try_launch(const Problem& problem, cudaStream_t stream, const char* function);

}  // namespace spattn::attention::sm90
