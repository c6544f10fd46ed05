// The caller's KV cache on the device (spattn_kv_cache, contiguous or paged,
// 16-bit or FP8 E4M3), shared by the kernels that read a cache: addressing
// of a key's row and the cp.async copy of a 128-key tile (the mma.sync
// prefill kernel), the layout of TMA-copied tiles and the exact FP8 to
// 16-bit conversion (the decode kernel).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>

#include "attention/kv_cache.hpp"
#include "common/mma_sync.cuh"

namespace spattn::attention {

// What a kernel needs of a KvCache: plain values, strides in bytes.
struct KvDevice {
  const uint8_t* k;
  const uint8_t* v;
  int64_t k_stride[3];  // contiguous: batch, token, head; paged: page, slot, head (bytes)
  int64_t v_stride[3];
  const int32_t* seqlens;  // NULL: every sequence has max_seqlen
  int32_t max_seqlen;
  int32_t paged;
  int32_t page_shift;  // log2(page_size)
  int32_t num_pages;
  const int32_t* block_table;
  int32_t max_pages_per_seq;
};

inline KvDevice kv_device(const KvCache& c) {
  KvDevice d;
  d.k = static_cast<const uint8_t*>(c.k);
  d.v = static_cast<const uint8_t*>(c.v);
  for (int i = 0; i < 3; ++i) {
    d.k_stride[i] = c.k_strides[i] * c.element_bytes();
    d.v_stride[i] = c.v_strides[i] * c.element_bytes();
  }
  d.seqlens = c.seqlens_kv;
  d.max_seqlen = c.max_seqlen_kv;
  d.paged = c.paged() ? 1 : 0;
  d.page_shift = 0;
  while (c.paged() && (1 << d.page_shift) < c.page_size) ++d.page_shift;
  d.num_pages = c.num_pages;
  d.block_table = c.block_table;
  d.max_pages_per_seq = c.max_pages_per_seq;
  return d;
}

// Keys of sequence b, clamped to [0, max_seqlen] (spattn.h: device values the
// host cannot check).
__device__ __forceinline__ int32_t kv_seqlen(const KvDevice& kv, int b) {
  if (kv.seqlens == nullptr) return kv.max_seqlen;
  return min(max(kv.seqlens[b], 0), kv.max_seqlen);
}

// Where key `key` (< its sequence's length) of sequence b lives: the byte
// offsets of its row in the K and V pools for KV head 0 (add head *
// stride[2]); false for a page id outside [0, num_pages), a masked key.
__device__ __forceinline__ bool kv_row(const KvDevice& kv, int b, int key, int64_t& k_offset,
                                       int64_t& v_offset) {
  if (!kv.paged) {
    k_offset = b * kv.k_stride[0] + key * kv.k_stride[1];
    v_offset = b * kv.v_stride[0] + key * kv.v_stride[1];
    return true;
  }
  const int32_t page = kv.block_table[int64_t(b) * kv.max_pages_per_seq + (key >> kv.page_shift)];
  const int32_t slot = key & ((1 << kv.page_shift) - 1);
  const bool ok = page >= 0 && page < kv.num_pages;
  const int64_t p = ok ? page : 0;
  k_offset = p * kv.k_stride[0] + slot * kv.k_stride[1];
  v_offset = p * kv.v_stride[0] + slot * kv.v_stride[1];
  return ok;
}

// Copies keys [key0, key0 + 128) of sequence b, KV head `head`, from one pool
// (kValues: V, else K) into shared memory with cp.async (the caller commits):
// 16-bit caches into the swizzled [128][D] tile of the mma.sync kernels, FP8
// caches into a linear [128][D] byte staging tile (fp8_to_swizzled_tile
// converts it). Rows past the sequence end or on a bad page are zero-filled;
// when `key_ok` is not NULL it gets 1/0 per row (the mask of the tile).
template <int D, int kElemBytes, int kThreads, bool kValues>
__device__ __forceinline__ void load_kv_tile(const KvDevice& kv, int b, int head, int key0, int lk, uint8_t* smem,
                                             uint8_t* key_ok) {
  constexpr int kChunks = D * kElemBytes / 16;  // 16-byte chunks per row
  static_assert((128 * kChunks) % kThreads == 0, "whole passes");
  const uint8_t* pool = kValues ? kv.v : kv.k;
  const int64_t head_offset = head * (kValues ? kv.v_stride[2] : kv.k_stride[2]);
  const uint32_t base = smem_addr(smem);
#pragma unroll 4
  for (int it = 0; it < 128 * kChunks / kThreads; ++it) {
    const int i = it * kThreads + threadIdx.x;
    const int row = i / kChunks;
    const int chunk = i % kChunks;
    const int key = key0 + row;
    int64_t k_off = 0, v_off = 0;
    const bool ok = key < lk && kv_row(kv, b, key, k_off, v_off);
    const uint8_t* src = pool + head_offset + (kValues ? v_off : k_off) + chunk * 16;
    const uint32_t dst = kElemBytes == 2 ? base + 2u * swizzled<D>(row, chunk * 8) : base + row * D + chunk * 16;
    cp_async_16(dst, ok ? src : pool, ok ? 16 : 0);
    if (key_ok != nullptr && chunk == 0) key_ok[row] = ok ? 1 : 0;
  }
}

// Two E4M3 values (the low and high byte of `pair`) as an fp16x2 register,
// the low byte in the low half (exact).
__device__ __forceinline__ uint32_t e4m3x2_to_f16x2(uint32_t pair) {
  const __half2_raw raw = __nv_cvt_fp8x2_to_halfraw2(__nv_fp8x2_storage_t(pair & 0xFFFFu), __NV_E4M3);
  return uint32_t(raw.x) | (uint32_t(raw.y) << 16);
}

// Eight E4M3 values (8 bytes) as eight exact 16-bit values of the query type,
// packed as the four 32-bit registers of a 16-byte chunk.
template <bool kBf16>
__device__ __forceinline__ uint4 e4m3x8_to_16bit(uint2 in) {
  const uint32_t words[2] = {in.x, in.y};
  uint32_t out[4];
#pragma unroll
  for (int w = 0; w < 2; ++w) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint32_t f16x2 = e4m3x2_to_f16x2(words[w] >> (16 * h));
      if constexpr (kBf16) {
        const __nv_bfloat162 b = __float22bfloat162_rn(__half22float2(*reinterpret_cast<const __half2*>(&f16x2)));
        out[2 * w + h] = *reinterpret_cast<const uint32_t*>(&b);
      } else {
        out[2 * w + h] = f16x2;
      }
    }
  }
  return make_uint4(out[0], out[1], out[2], out[3]);
}

// Byte offset of element (row, col) of a 16-bit [128][D] tile laid out as
// TMA writes it with the 128-byte swizzle (D / 64 column blocks of [128][64];
// in each, the 16-byte chunk c of row r sits at chunk position c ^ (r % 8)):
// the layout of the decode kernel's K and V tiles, read with ldmatrix.
template <int D>
__device__ __forceinline__ uint32_t tma_tile_offset(int row, int col) {
  return uint32_t((col >> 6) * (128 * 128) + row * 128 + ((((col & 63) >> 3) ^ (row & 7)) << 4) + ((col & 7) << 1));
}

// Byte offset of element (row, col) of an FP8 [rows][D] tile as TMA writes
// it with the swizzle of fp8_tile_swizzle_bytes (rows of D bytes; the
// 16-byte chunk c of row r at c ^ (r % 8) for D = 128, at c ^ (r / 2 % 4) for
// D = 64), so that ldmatrix reads of 8 rows hit 8 different bank groups.
template <int D>
__device__ __forceinline__ uint32_t fp8_tile_offset(int row, int col) {
  static_assert(D == 64 || D == 128, "FP8 tiles of 64 or 128 bytes per row");
  const int swz = D == 128 ? (row & 7) : ((row >> 1) & 3);
  return uint32_t(row * D + ((((col >> 4) ^ swz)) << 4) + (col & 15));
}
// The TMA swizzle span that yields fp8_tile_offset<D>: 128 or 64 bytes.
constexpr int fp8_tile_swizzle_bytes(int head_dim) { return head_dim == 128 ? 128 : 64; }

// Converts an FP8 [kRows][D] tile laid out by fp8_tile_offset into a 16-bit
// tile whose element (row, col) sits at byte offset(row, col) (exact: every
// E4M3 value is a bf16 and an fp16 value). Shared memory only; the caller
// synchronizes around it. kLinear: the FP8 tile is a plain [kRows][D] instead.
template <bool kBf16, int D, int kThreads, int kRows, bool kLinear, class Offset>
__device__ __forceinline__ void fp8_to_16bit_tile(const uint8_t* staging, uint8_t* tile, Offset offset) {
  constexpr int kChunks = D / 8;  // 8-byte input chunks per row (16 output bytes)
  static_assert((kRows * kChunks) % kThreads == 0, "whole passes");
#pragma unroll 4
  for (int it = 0; it < kRows * kChunks / kThreads; ++it) {
    const int i = it * kThreads + threadIdx.x;
    const int row = i / kChunks;
    const int chunk = i % kChunks;
    uint32_t src = uint32_t(row * D + chunk * 8);
    if constexpr (!kLinear) src = fp8_tile_offset<D>(row, chunk * 8);
    const uint2 in = *reinterpret_cast<const uint2*>(staging + src);
    *reinterpret_cast<uint4*>(tile + offset(row, chunk * 8)) = e4m3x8_to_16bit<kBf16>(in);
  }
}

// From the TMA layout of an FP8 tile (fp8_tile_offset) into the TMA layout
// of a 16-bit one (tma_tile_offset): the decode kernel's large row tiles.
template <bool kBf16, int D, int kThreads>
__device__ __forceinline__ void fp8_to_tile(const uint8_t* staging, uint8_t* tile) {
  fp8_to_16bit_tile<kBf16, D, kThreads, 128, false>(staging, tile,
                                                    [](int row, int col) { return tma_tile_offset<D>(row, col); });
}

// Into the swizzled layout of the mma.sync kernels (swizzled<D>).
template <bool kBf16, int D, int kThreads, int kRows>
__device__ __forceinline__ void fp8_to_swizzled_tile(const uint8_t* staging, uint16_t* tile) {
  fp8_to_16bit_tile<kBf16, D, kThreads, kRows, true>(staging, reinterpret_cast<uint8_t*>(tile),
                                                      [](int row, int col) { return 2 * swizzled<D>(row, col); });
}

}  // namespace spattn::attention
