// The skip threshold of the BLASST rule, in the one form that the CPU
// reference and both CUDA kernels compare against, so that their decisions
// cannot drift apart: a key tile is skipped when, for every valid row,
// rowmax_tile - m_running < log2(lambda) on log2-scaled logits, with
// lambda = threshold_scale_factor / kv_len of that sequence.
#pragma once

#include <math.h>

#include <cstdint>

#if defined(__CUDACC__)
#define SPATTN_HOST_DEVICE __host__ __device__
#else
#define SPATTN_HOST_DEVICE
#endif

namespace spattn::attention {

// log2(lambda) as a float; -inf (never skip) when the threshold is 0 or the
// sequence has no keys. Computed in double, rounded once.
SPATTN_HOST_DEVICE inline float skip_log2_lambda(double threshold_scale_factor, int32_t kv_len) {
  if (!(threshold_scale_factor > 0.0) || kv_len <= 0) return -INFINITY;
  return static_cast<float>(log2(threshold_scale_factor / static_cast<double>(kv_len)));
}

}  // namespace spattn::attention
