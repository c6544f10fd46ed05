// Merging partial attention results of one output row by their log-sum-exp,
// one warp per row: what the decode kernel's split merge and
// spattn_attention_merge share (CPU version: src/attention/merge.cpp).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace spattn::attention {

template <bool kBf16>
__device__ __forceinline__ uint16_t float_to_16bit(float x) {
  if constexpr (kBf16) {
    const __nv_bfloat16 h = __float2bfloat16_rn(x);
    return *reinterpret_cast<const uint16_t*>(&h);
  } else {
    const __half h = __float2half_rn(x);
    return *reinterpret_cast<const uint16_t*>(&h);
  }
}

// With lse_of(p) the natural-log LSE of part p and value_of(p, d) its
// (normalized) output, stores out[d] = sum_p exp(lse_p - lse) value_p[d]
// through store(d, x) and returns lse = log(sum_p exp(lse_p)): -inf, and
// zeros stored, when every part is -inf. A part of weight 0 is not read.
// Every lane of the warp calls it with the same row.
template <class LseOf, class ValueOf, class Store>
__device__ __forceinline__ float merge_row(int num_parts, int dim, LseOf lse_of, ValueOf value_of, Store store) {
  const int lane = threadIdx.x % 32;
  float lse_max = -INFINITY;
  for (int i = lane; i < num_parts; i += 32) lse_max = fmaxf(lse_max, lse_of(i));
#pragma unroll
  for (int x = 16; x > 0; x /= 2) lse_max = fmaxf(lse_max, __shfl_xor_sync(0xffffffffu, lse_max, x));
  if (lse_max == -INFINITY) {
    for (int d = lane; d < dim; d += 32) store(d, 0.0f);
    return -INFINITY;
  }
  float total = 0.0f;
  for (int i = lane; i < num_parts; i += 32) total += expf(lse_of(i) - lse_max);
#pragma unroll
  for (int x = 16; x > 0; x /= 2) total += __shfl_xor_sync(0xffffffffu, total, x);
  const float lse = lse_max + logf(total);
  for (int d = lane; d < dim; d += 32) {
    float acc = 0.0f;
    for (int i = 0; i < num_parts; ++i) {
      const float w = expf(lse_of(i) - lse);
      if (w != 0.0f) acc += w * value_of(i, d);
    }
    store(d, acc);
  }
  return lse;
}

}  // namespace spattn::attention
