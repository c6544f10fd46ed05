// Device helpers that the attention kernels share (the mma.sync one, the
// sm_90a one, the VSA fine stage), so that their arithmetic and their reading
// of packed batches are one piece of code.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "attention/skip_rule.hpp"
#include "attention/sparse_softmax.hpp"

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

// The end of the online softmax for this lane's two rows (a quad of lanes
// shares a row): the full row sums from the quad's partial sums, and the
// factor that normalizes each row's output, 0 for a row that kept nothing.
__device__ __forceinline__ void finish_row_sums(float (&l_run)[2], float (&inv)[2]) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
    inv[i] = l_run[i] > 0.0f ? 1.0f / l_run[i] : 0.0f;
  }
}

// A row's log-sum-exp (natural log) from its running maximum (log2-scaled
// logits) and its full sum; -inf for a row that kept nothing.
__device__ __forceinline__ float row_lse(float m_run, float l_run) {
  return l_run > 0.0f ? (m_run + log2f(l_run)) * 0.6931471805599453f : -INFINITY;
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

// The test hook (Problem::tile_decisions): records the decision on key tile
// `kv_tile` of this CTA's query tile. Both kernels map CTAs the same way:
// query tile gridDim.x - 1 - blockIdx.x (longest first), head blockIdx.y,
// batch blockIdx.z. The coordinates are read again here, with volatile
// moves the compiler cannot hoist or share, so that when `decisions` is
// null (production) the branch keeps nothing extra live across the KV loop.
__device__ __forceinline__ void record_tile_decision(uint8_t* decisions, int kv_tile, bool skip, int num_heads,
                                                     int seqlen_q, int seqlen_kv) {
  uint32_t x, y, z, nx;
  asm volatile("mov.u32 %0, %%ctaid.x;" : "=r"(x));
  asm volatile("mov.u32 %0, %%ctaid.y;" : "=r"(y));
  asm volatile("mov.u32 %0, %%ctaid.z;" : "=r"(z));
  asm volatile("mov.u32 %0, %%nctaid.x;" : "=r"(nx));
  decisions[tile_decision_index(int(z), int(y), int(nx - 1 - x), kv_tile, num_heads, seqlen_q, seqlen_kv)] =
      skip ? kTileSkipped : kTileKept;
}

// The inverse of pack_pair: a 32-bit pair of 16-bit elements as two floats.
template <bool kBf16>
__device__ __forceinline__ float2 unpack_pair(uint32_t bits) {
  if constexpr (kBf16) {
    return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&bits));
  } else {
    return __half22float2(*reinterpret_cast<const __half2*>(&bits));
  }
}

// ---------------------------------------------------------------------------
// One key tile of the online softmax on wgmma accumulators (both sm_90a
// kernels): per warp the m16n8 accumulator layout, so this lane's two rows
// i = 0, 1 are elements 4j + 2i and 4j + 2i + 1 of each 8-column block j,
// for the logits `sc` (kKeyBlocks blocks of 8 keys) and the output `o`
// (kOutBlocks blocks of 8 columns).

// The two rows' maxima of a tile of raw logits, reduced over the quad and
// scaled to log2 units; four independent partial maxima per row keep the
// dependency chain short.
template <int kKeyBlocks>
__device__ __forceinline__ void tile_row_max(const float (&sc)[4 * kKeyBlocks], float scale_log2, float (&mx)[2]) {
  static_assert(kKeyBlocks >= 4, "four partial maxima per row");
  float part[2][4];
#pragma unroll
  for (int j = 0; j < kKeyBlocks; ++j) {
    const float r0 = fmaxf(sc[4 * j + 0], sc[4 * j + 1]);
    const float r1 = fmaxf(sc[4 * j + 2], sc[4 * j + 3]);
    part[0][j % 4] = j < 4 ? r0 : fmaxf(part[0][j % 4], r0);
    part[1][j % 4] = j < 4 ? r1 : fmaxf(part[1][j % 4], r1);
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    mx[i] = fmaxf(fmaxf(part[i][0], part[i][1]), fmaxf(part[i][2], part[i][3]));
    mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
    mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
    mx[i] *= scale_log2;
  }
}

// Takes a kept tile's row maxima into the running maxima (online_softmax_rescale)
// and rescales the output rows and row sums; m_use gets what the tile's
// logits are to be shifted by.
template <int kOutBlocks>
__device__ __forceinline__ void rescale_rows(float (&o)[4 * kOutBlocks], float (&m_run)[2], float (&l_run)[2],
                                             const float (&mx)[2], float (&m_use)[2]) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const float alpha = online_softmax_rescale(m_run[i], l_run[i], mx[i], m_use[i]);
#pragma unroll
    for (int j = 0; j < kOutBlocks; ++j) {
      o[4 * j + 2 * i] *= alpha;
      o[4 * j + 2 * i + 1] *= alpha;
    }
  }
}

// The tile's unnormalized probabilities, in place, added to the row sums.
template <int kKeyBlocks>
__device__ __forceinline__ void exponentiate(float (&sc)[4 * kKeyBlocks], float scale_log2, const float (&m_use)[2],
                                             float (&l_run)[2]) {
#pragma unroll
  for (int j = 0; j < kKeyBlocks; ++j) {
    sc[4 * j + 0] = softmax_weight(sc[4 * j + 0], scale_log2, m_use[0]);
    sc[4 * j + 1] = softmax_weight(sc[4 * j + 1], scale_log2, m_use[0]);
    sc[4 * j + 2] = softmax_weight(sc[4 * j + 2], scale_log2, m_use[1]);
    sc[4 * j + 3] = softmax_weight(sc[4 * j + 3], scale_log2, m_use[1]);
    l_run[0] += sc[4 * j + 0] + sc[4 * j + 1];
    l_run[1] += sc[4 * j + 2] + sc[4 * j + 3];
  }
}

// P as the wgmma A operand in registers: the accumulator layout is the A
// layout, k-step kk (16 keys) taking key blocks 2kk and 2kk + 1.
template <bool kBf16, int kSteps>
__device__ __forceinline__ void pack_p(const float (&sc)[8 * kSteps], uint32_t (&pa)[kSteps][4]) {
#pragma unroll
  for (int kk = 0; kk < kSteps; ++kk) {
    pa[kk][0] = pack_pair<kBf16>(sc[8 * kk + 0], sc[8 * kk + 1]);
    pa[kk][1] = pack_pair<kBf16>(sc[8 * kk + 2], sc[8 * kk + 3]);
    pa[kk][2] = pack_pair<kBf16>(sc[8 * kk + 4], sc[8 * kk + 5]);
    pa[kk][3] = pack_pair<kBf16>(sc[8 * kk + 6], sc[8 * kk + 7]);
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

// ---------------------------------------------------------------------------
// The Model Optimizer extras on a tile of logits / probabilities held in the
// m16n8 accumulator layout both kernels use: for each 8-key block nt of the
// tile, a lane holds elements e = 0, 1 (row r, keys 2c, 2c+1) and e = 2, 3
// (row r + 8, same keys), r = lane / 4, c = lane % 4. `at(nt, e)` returns a
// reference to that element. Rules: src/attention/sparse_softmax.hpp.

struct NmRule {
  int32_t n, sinks, window;
};

// N:M pruning of a tile's raw logits (to -inf). `key0` is the key of this
// lane's element e = 0 of block 0 (the tile's first key + 2c); `diag0` the
// diagonal key of this lane's first row (row + Lk - Lq). kM keys per group:
// 4 = a lane pair, 8 = the quad. Every lane of the warp must call this
// (shuffles).
template <int kM, int kNTiles, typename At>
__device__ __forceinline__ void prune_nm(At&& at, NmRule rule, int lane, int key0, int diag0) {
  const int tig = lane & 3;
  const int ia = (2 * tig) & (kM - 1);  // group position of this lane's first column
  constexpr int kPartners = kM / 2 - 1;  // lanes to exchange with: 1 (M = 4) or 3 (M = 8)
#pragma unroll
  for (int nt = 0; nt < kNTiles; ++nt) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float a = at(nt, 2 * i), b = at(nt, 2 * i + 1);
      int rank_a = nm_outranks(b, ia + 1, a, ia) ? 1 : 0;
      int rank_b = nm_outranks(a, ia, b, ia + 1) ? 1 : 0;
      // Not unrolled: unrolled, the hoisted shuffles of 8-key groups made
      // the head-dim-128 mma.sync instantiations spill; rolled, nothing spills.
#pragma unroll 1
      for (int x = 1; x <= kPartners; ++x) {
        const float pa = __shfl_xor_sync(0xffffffffu, a, x);
        const float pb = __shfl_xor_sync(0xffffffffu, b, x);
        const int ip = (2 * (tig ^ x)) & (kM - 1);
        rank_a += (nm_outranks(pa, ip, a, ia) ? 1 : 0) + (nm_outranks(pb, ip + 1, a, ia) ? 1 : 0);
        rank_b += (nm_outranks(pa, ip, b, ia + 1) ? 1 : 0) + (nm_outranks(pb, ip + 1, b, ia + 1) ? 1 : 0);
      }
      const int key = key0 + nt * 8;
      const int diag = diag0 + 8 * i;
      if (!nm_keeps(rank_a, rule.n, nm_dense_key(key, diag, rule.sinks, rule.window))) at(nt, 2 * i) = -INFINITY;
      if (!nm_keeps(rank_b, rule.n, nm_dense_key(key + 1, diag, rule.sinks, rule.window))) {
        at(nt, 2 * i + 1) = -INFINITY;
      }
    }
  }
}

// NVFP4 rounding of the 16-key block kc of P (8-key blocks 2kc and 2kc + 1)
// for this lane's two rows. Every lane of the warp must call this (shuffles).
template <typename At>
__device__ __forceinline__ void round_p_block(At&& at, int kc) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    float amax = fmaxf(fmaxf(at(2 * kc, 2 * i), at(2 * kc, 2 * i + 1)),
                       fmaxf(at(2 * kc + 1, 2 * i), at(2 * kc + 1, 2 * i + 1)));
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 1));
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 2));
    const Nvfp4Scale scale = nvfp4_p_scale(amax);
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      at(2 * kc + half, 2 * i) = nvfp4_p_round(at(2 * kc + half, 2 * i), scale);
      at(2 * kc + half, 2 * i + 1) = nvfp4_p_round(at(2 * kc + half, 2 * i + 1), scale);
    }
  }
}

}  // namespace spattn::attention
