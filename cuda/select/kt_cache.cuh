// RocketKV's KT cache on the device (spattn_kt_cache, contiguous or paged,
// E5M2 or bf16 entries of [2][head_dim]: min then max): an entry's address,
// and the conversions of its values. Shared by the context-phase and decode
// kernels of cuda/select/.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>

#include "attention/rocket_problem.hpp"

namespace spattn::attention {

struct KtDevice {
  uint8_t* data;
  int64_t stride[3];  // bytes: contiguous batch, entry, head; paged block, entry in block, head
  int32_t paged;
  int32_t entries_per_block;
  const int32_t* block_table;
  int32_t max_blocks_per_seq;
  int32_t num_blocks;
};

inline KtDevice kt_device(const KtCache& c) {
  KtDevice d;
  d.data = static_cast<uint8_t*>(c.data);
  for (int i = 0; i < 3; ++i) d.stride[i] = c.strides[i] * c.element_bytes();
  d.paged = c.paged() ? 1 : 0;
  d.entries_per_block = c.entries_per_block;
  d.block_table = c.block_table;
  d.max_blocks_per_seq = c.max_blocks_per_seq;
  d.num_blocks = c.num_blocks;
  return d;
}

// The row of entry e of KV head g of sequence b; NULL when its block id is
// outside [0, num_blocks) (the entry is then neither read nor written).
__device__ __forceinline__ uint8_t* kt_row(const KtDevice& kt, int b, int e, int g) {
  if (!kt.paged) return kt.data + b * kt.stride[0] + int64_t(e) * kt.stride[1] + g * kt.stride[2];
  const int32_t block = kt.block_table[int64_t(b) * kt.max_blocks_per_seq + e / kt.entries_per_block];
  if (block < 0 || block >= kt.num_blocks) return nullptr;
  return kt.data + block * kt.stride[0] + int64_t(e % kt.entries_per_block) * kt.stride[1] + g * kt.stride[2];
}

// Value i of a row (min: i < head_dim, max: head_dim + i). An E5M2 byte is
// the top byte of the binary16 of the same value, so it widens exactly.
template <bool kE5m2>
__device__ __forceinline__ float kt_load(const uint8_t* row, int i) {
  if constexpr (kE5m2) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(row[i] << 8)));
  } else {
    return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(row)[i]);
  }
}

// Stores x rounded to the entry dtype: round to nearest even, E5M2 saturated
// at +-57344 (the conversion instruction's SATFINITE mode; the host's
// float_to_e5m2 in attention/fp8.hpp rounds the same way, and the tests
// compare the bytes). A zero is stored as +0, as the host does (a min or max
// of keys may come out as -0 on one side and +0 on the other).
template <bool kE5m2>
__device__ __forceinline__ void kt_store(uint8_t* row, int i, float x) {
  if constexpr (kE5m2) {
    row[i] = __nv_cvt_float_to_fp8(x + 0.0f, __NV_SATFINITE, __NV_E5M2);
  } else {
    reinterpret_cast<__nv_bfloat16*>(row)[i] = __float2bfloat16_rn(x);
  }
}

}  // namespace spattn::attention
