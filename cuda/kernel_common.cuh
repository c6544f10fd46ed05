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
