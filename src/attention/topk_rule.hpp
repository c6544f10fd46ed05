// The ranking of spattn_topk, in the one form the CPU reference and the
// kernel both use: a score is a candidate when it is neither -inf nor NaN;
// candidates are ordered by an unsigned 32-bit key that grows with the score
// (+0 and -0 share a key), and equal keys by increasing column.
#pragma once

#include <stdint.h>

#include "attention/fp8.hpp"  // float_bits, SPATTN_HOST_DEVICE

namespace spattn::attention {

// -inf and NaN scores mark masked entries: never selected.
SPATTN_HOST_DEVICE inline bool topk_candidate(float score) { return score > -INFINITY; }

// Order-preserving key of a candidate score: larger score, larger key.
SPATTN_HOST_DEVICE inline uint32_t topk_key(float score) {
  uint32_t u = float_bits(score);
  if (u == 0x80000000u) u = 0;  // -0 ranks as +0
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

}  // namespace spattn::attention
