// The tensor map the sm_90a attention kernels load Q, K and V with: one
// over a strided [batch][token][head][dim] tensor of 16-bit elements
// (the generic 4-D map and the driver entry point: common/tma.hpp).
#pragma once

#include <cuda.h>  // CUtensorMap and its enums only

#include "attention/attention_problem.hpp"

namespace spattn::attention::sm90 {

// A 4-D map (dim, token, head, batch) over `t`, boxes of 64 columns x
// `box_rows` tokens with the 128-byte swizzle (the wgmma operand layout of
// cuda/common/sm90_ptx.cuh); rows past the tensor read as zeros. False when
// TMA cannot describe the tensor (strides not multiples of 16 bytes, or no
// driver entry point): the caller then uses another kernel or refuses.
bool make_map(CUtensorMap* map, const TensorView& t, bool bf16, int dim, int tokens, int heads, int batch,
              int box_rows);

}  // namespace spattn::attention::sm90
