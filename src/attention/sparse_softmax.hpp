// The rules of N:M sparse softmax and NVFP4 P quantization (the Model
// Optimizer extras of skip_softmax), written once for the CPU reference
// (src/attention/attention_reference.cpp) and both CUDA kernels (through
// prune_nm / round_p_block in cuda/common/kernel_common.cuh), like skip_rule.hpp
// does for the skip rule.
// The public description is in include/spattn/spattn.h (spattn_layer_params).
//
// N:M: in every group of M keys starting at a multiple of M (key index within
// the sequence), a row keeps the N scores that no more than N - 1 others
// outrank, where a outranks b when it is larger, or equal and at a lower key
// index (so exactly N are kept, ties to the lower index). Masked keys (causal,
// past the sequence end) are -inf and rank last. Sink keys and keys in the
// dense window are kept whatever their rank. Ranks are taken on the raw
// float32 logits q.k; a positive softmax scale does not change the order.
//
// NVFP4 P: the unnormalized probabilities of a tile, p = exp2(l - m_running)
// in [0, 1], are rounded in blocks of 16 keys (starting at multiples of 16)
// of one row: the block scale is the FP8 E4M3 value of 448 * max(p) (round to
// nearest even, saturated at 448) times the per-tensor global scale 1/2688
// (= amax 1 / (6 * 448)), and each p becomes the nearest E2M1 value
// {0, 0.5, 1, 1.5, 2, 3, 4, 6} (ties to even, saturated at 6) of p / scale,
// times the scale. A block whose scale rounds to 0 becomes all 0.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "attention/fp8.hpp"  // round_e4m3
#include "attention/skip_rule.hpp"  // SPATTN_HOST_DEVICE

namespace spattn::attention {

// ---------------------------------------------------------------------------
// N:M sparse softmax

// Whether score `a` at group position `ia` outranks score `b` at `ib`.
SPATTN_HOST_DEVICE inline bool nm_outranks(float a, int ia, float b, int ib) {
  return a > b || (a == b && ia < ib);
}

// Whether key `key` lies in the dense region of a query row whose diagonal
// key (bottom-right alignment) is `diagonal` = row + Lk - Lq: one of the first
// `sinks` keys, or one of the `window` keys ending at the diagonal
// (diagonal - window < key <= diagonal). `diagonal` may be negative (a row
// above the first key when Lq > Lk); diagonal - key is only formed when it
// is >= 0, so nothing overflows.
SPATTN_HOST_DEVICE inline bool nm_dense_key(int32_t key, int32_t diagonal, int32_t sinks, int32_t window) {
  return key < sinks || (key <= diagonal && diagonal - key < window);
}

// Whether a score that `rank` others of its group outrank survives N:M with
// `n` kept per group; dense keys always survive.
SPATTN_HOST_DEVICE inline bool nm_keeps(int rank, int n, bool dense) { return dense || rank < n; }

// ---------------------------------------------------------------------------
// NVFP4 P quantization

// The per-tensor global scale of P: its amax bound 1 over (6 * 448).
constexpr float kNvfp4PGlobalScale = 1.0f / 2688.0f;

// A block's dequantization scale: 0 when the E4M3 block scale is 0, which
// turns the whole block into zeros.
struct Nvfp4Scale {
  float scale;
};

// The scale of a block of P whose largest value is `amax` (>= 0).
SPATTN_HOST_DEVICE inline Nvfp4Scale nvfp4_p_scale(float amax) {
  return Nvfp4Scale{round_e4m3(448.0f * amax) * kNvfp4PGlobalScale};
}

// One value p >= 0 of that block, quantized and dequantized: E2M1(p / scale)
// * scale, where E2M1(y) is the nearest of {0, 0.5, 1, 1.5, 2, 3, 4, 6}, ties
// to the even one (0, 1, 2, 4), saturated at 6. Evaluated without a
// division, by comparing p with the midpoints times the scale (the same
// comparisons as Model Optimizer's fp4_round_magnitude on p / scale).
SPATTN_HOST_DEVICE inline float nvfp4_p_round(float p, Nvfp4Scale s) {
  const float x = s.scale;
  return p <= 0.25f * x  ? 0.0f
         : p < 0.75f * x ? 0.5f * x
         : p <= 1.25f * x ? x
         : p < 1.75f * x ? 1.5f * x
         : p <= 2.5f * x ? 2.0f * x
         : p < 3.5f * x ? 3.0f * x
         : p <= 5.0f * x ? 4.0f * x
                          : 6.0f * x;
}

}  // namespace spattn::attention
