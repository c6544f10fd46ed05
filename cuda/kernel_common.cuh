// Device helpers that both forward kernels use (the mma.sync one and the
// sm_90a one), so that their arithmetic and their reading of packed batches
// are one piece of code.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace spattn::attention {

// 2^x with the hardware approximation (MUFU.EX2), flushing denormals; the
// softmax runs on log2-scaled logits so that this is its only exp.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// One row's online-softmax step for a kept tile: the running maximum takes
// in the tile's maximum (log2-scaled logits), the running sum is rescaled,
// and the factor the row's output accumulators must be scaled by is returned.
// `m_use` is what this tile's logits are shifted by: 0 for a row that is
// still fully masked, so that exp2(-inf - m_use) is 0 rather than NaN.
__device__ __forceinline__ float online_softmax_rescale(float& m_run, float& l_run, float tile_max,
                                                        float& m_use) {
  const float m_new = fmaxf(m_run, tile_max);
  m_use = m_new == -INFINITY ? 0.0f : m_new;
  const float alpha = fast_exp2(m_run - m_use);
  m_run = m_new;
  l_run *= alpha;
  return alpha;
}

// The unnormalized probability of one raw logit: exp2(logit * scale_log2 - m_use).
__device__ __forceinline__ float softmax_weight(float logit, float scale_log2, float m_use) {
  return fast_exp2(fmaf(logit, scale_log2, -m_use));
}

// Two floats rounded to a pair of 16-bit elements (bf16 or fp16), packed as
// the 32-bit register the matrix instructions take.
template <bool kBf16>
__device__ __forceinline__ uint32_t pack_pair(float lo, float hi) {
  if constexpr (kBf16) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  } else {
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
  }
}

// One sequence of a packed batch: where its queries and keys start on the
// packed token axis and how many there are. Lengths are clamped to the
// declared maxima, which bound the grid and the shared-memory tiles.
struct PackedSequence {
  int32_t q_token0, kv_token0;
  int32_t lq, lk;
};

__device__ __forceinline__ PackedSequence packed_sequence(const int32_t* cu_q, const int32_t* cu_kv, int b,
                                                          int32_t seqlen_q, int32_t seqlen_kv) {
  PackedSequence s;
  s.q_token0 = cu_q[b];
  s.kv_token0 = cu_kv[b];
  s.lq = min(cu_q[b + 1] - s.q_token0, seqlen_q);
  s.lk = min(cu_kv[b + 1] - s.kv_token0, seqlen_kv);
  return s;
}

}  // namespace spattn::attention
