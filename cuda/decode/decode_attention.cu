// Decode-step attention (spattn_attention_decode): a few queries per
// sequence against the caller's KV cache, with the skip-softmax rule and
// flash-decoding splits. mma.sync m16n8k16 (bf16/fp16 in, fp32 accumulate).
//
// One CTA = one split of the key tiles of one (sequence, KV head, tile of up
// to 128 rows), a row being one query of the step times one query head of the
// KV head's group, so each key and value is read from memory once for all of
// them. Two shapes:
//  - up to 16 rows (kRowTiles = 1): 4 warps share the 16 rows and each takes
//    32 of the 128 keys of a tile; their row maxima meet in shared memory and
//    their partial outputs are summed at the end;
//  - 17 to 128 rows (kRowTiles = 8): 8 warps of 16 rows each take all 128 keys
//    (warps without rows only load and vote).
//
// Per key tile t of the split (decisions: src/attention/decode_reference.cpp,
// which makes the same ones):
//  1. K[t] landed (K runs kKStages - 1 tiles ahead through a ring);
//  2. S = Q K^T, masked (sequence end, bad page, causal), row maxima;
//  3. the vote (one __syncthreads_and over every row of the CTA): skip the
//     tile when every row allows it and it is not the split's first;
//  4. only a kept tile issues the copy of V[t]: a skipped tile's values are
//     never read;
//  5. the P.V of the previous kept tile runs now, its V having had a whole
//     tile's work to arrive (P waits in registers, packed to 16 bits);
//  6. a kept tile's online-softmax step: rescale, P = exp2(S c - m).
// FP8 caches land in byte staging tiles and are converted to 16-bit tiles in
// shared memory (exact), then take the same path; k_scale is folded into the
// logit scale and v_scale into the output.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/attention_cuda.hpp"
#include "attention/skip_rule.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "decode/merge_rows.cuh"

namespace spattn::attention {
namespace {

constexpr int kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr int kKStages = 3;  // K tiles in flight: the current one and two ahead
constexpr int kVStages = 2;  // V of the tile being decided and of the one waiting for P.V

struct DecodeParams {
  const uint16_t* q;
  int64_t q_stride[3];
  uint16_t* out;
  int64_t o_stride[3];
  KvDevice kv;
  int32_t num_heads, seqlen_q, group, rows, row_tiles;
  int32_t num_splits, tiles_per_split;
  int32_t causal;
  float scale_log2;  // softmax_scale * k_scale * log2(e)
  float v_scale;
  double threshold;
  int32_t skip_seqlen_kv;
  float* lse;
  unsigned long long* counters;
  float* ws_o;  // splits > 1: [batch * heads * seqlen_q][splits][D]
  float* ws_lse;
  uint8_t* decisions;  // tests only: DecodeProblem::debug_decisions
  int32_t num_kv_heads, max_tiles;
};

// Shared-memory layout of one instantiation (bytes).
template <int D, int kRowTiles, bool kFp8>
struct Smem {
  static constexpr int kRows = 16 * kRowTiles;
  static constexpr int kKeyGroups = kRowTiles == 1 ? 4 : 1;
  static constexpr int kTile16 = kTileK * D * 2;               // a 16-bit [128][D] tile
  static constexpr int kStage = kFp8 ? kTileK * D : kTile16;   // one ring stage as loaded
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kRows * D * 2;
  static constexpr int kKConv = kK + kKStages * kStage;        // FP8 only
  static constexpr int kV = kKConv + (kFp8 ? kTile16 : 0);
  static constexpr int kVConv = kV + kVStages * kStage;        // FP8 only
  static constexpr int kKeyOk = kVConv + (kFp8 ? kTile16 : 0);
  static constexpr int kPartialMax = kKeyOk + kKStages * kTileK;
  static constexpr int kRowState = kPartialMax + kKeyGroups * kRows * 4;  // m of each row
  static constexpr int kEnd = kRowState + kRows * 4;
  // The epilogue's sums reuse the front: [key group][row][D + 4] floats, then l.
  static constexpr int kOStride = D + 4;
  static constexpr int kReduceL = kKeyGroups * kRows * kOStride * 4;
  static constexpr int kReduceEnd = kReduceL + kKeyGroups * kRows * 4;
  static_assert(kReduceEnd <= kKeyOk, "the epilogue's sums fit before the tile masks");
  static constexpr int kBytes = kEnd;
};

template <bool kBf16, int D, int kRowTiles, bool kFp8>
__global__ void __launch_bounds__(32 * kRowTiles * (kRowTiles == 1 ? 4 : 1), 1)
    decode_kernel(const DecodeParams p) {
  using E = Elem<kBf16>;
  using L = Smem<D, kRowTiles, kFp8>;
  constexpr int kKG = L::kKeyGroups;
  constexpr int kWarps = kRowTiles * kKG;
  constexpr int kThreads = 32 * kWarps;
  constexpr int kKeysPerWarp = kTileK / kKG;
  constexpr int kNT = kKeysPerWarp / 8;  // 8-key column tiles of S per warp
  constexpr int kKC = D / 16;            // k-steps of Q K^T
  constexpr int kDT = D / 8;             // 8-wide column tiles of O
  constexpr int kElemBytes = kFp8 ? 1 : 2;

  extern __shared__ __align__(128) uint8_t smem[];
  uint16_t* q_smem = reinterpret_cast<uint16_t*>(smem + L::kQ);
  auto k_stage = [&](int s) { return smem + L::kK + s * L::kStage; };
  auto v_stage = [&](int s) { return smem + L::kV + s * L::kStage; };
  uint8_t* key_ok = smem + L::kKeyOk;
  float* partial_max = reinterpret_cast<float*>(smem + L::kPartialMax);
  float* row_m = reinterpret_cast<float*>(smem + L::kRowState);

  const int split = blockIdx.x;
  const int kv_head = blockIdx.y / p.row_tiles;
  const int row_block = blockIdx.y % p.row_tiles;
  const int b = blockIdx.z;
  const int lk = kv_seqlen(p.kv, b);
  const int n_tiles = (lk + kTileK - 1) / kTileK;
  const int t0 = split * p.tiles_per_split;
  const int t1 = min(n_tiles, t0 + p.tiles_per_split);
  const int row0 = row_block * L::kRows;  // first row of the CTA in the group's rows
  const int rows = min(L::kRows, p.rows - row0);
  const float log2_lambda =
      decode_skip_log2_lambda(p.threshold, p.skip_seqlen_kv > 0 ? p.skip_seqlen_kv : lk);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_rows = warp / kKG;  // the warp's 16-row tile
  const int key_group = warp % kKG;
  const int mat = lane / 8, mat_row = lane % 8;
  const int col_in_quad = (lane % 4) * 2;
  const bool warp_active = warp_rows * 16 < rows;
  // This lane's two rows (CTA-local), their queries and the last key each sees.
  int my_row[2], last_key[2];
  bool row_valid[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    my_row[i] = warp_rows * 16 + lane / 4 + 8 * i;
    row_valid[i] = my_row[i] < rows;
    const int query = (row0 + my_row[i]) / p.group;
    last_key[i] = p.causal ? min(lk - 1, query + lk - p.seqlen_q) : lk - 1;
  }

  // Q rows into shared memory (first copy group, with K of the first tile).
  {
    constexpr int kChunks = D / 8;
    const uint32_t base = smem_addr(q_smem);
    for (int i = threadIdx.x; i < L::kRows * kChunks; i += kThreads) {
      const int r = i / kChunks, chunk = i % kChunks;
      const int row = row0 + r;
      const bool ok = r < rows;
      const int query = row / p.group, head = kv_head * p.group + row % p.group;
      const uint16_t* src = p.q + b * p.q_stride[0] + query * p.q_stride[1] + head * p.q_stride[2] + chunk * 8;
      cp_async_16(base + 2u * swizzled<D>(r, chunk * 8), ok ? src : p.q, ok ? 16 : 0);
    }
  }
  // Copy groups, two per tile in this order: {K[t + kKStages - 1]} at its
  // start, {V[t] or nothing} after its vote; the prologue commits K of the
  // first kKStages - 1 tiles, each followed by an empty group.
#pragma unroll
  for (int s = 0; s < kKStages - 1; ++s) {
    if (t0 + s < t1) {
      load_kv_tile<D, kElemBytes, kThreads, false>(p.kv, b, kv_head, (t0 + s) * kTileK, lk, k_stage(s),
                                                   key_ok + s * kTileK);
    }
    cp_async_commit();
    cp_async_commit();
  }

  uint32_t qa[kKC][4];
  float o[kDT][4];
#pragma unroll
  for (int i = 0; i < kDT; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  uint32_t p_wait[kNT][2];  // P of the kept tile whose V is still arriving
  bool waiting = false;
  int wait_slot = 0, kept = 0, skipped = 0;

  // O += P_wait V of ring slot `slot`.
  auto p_times_v = [&](int slot) {
    const uint16_t* vt;
    if constexpr (kFp8) {
      fp8_to_tile<kBf16, D, kThreads>(v_stage(slot), reinterpret_cast<uint16_t*>(smem + L::kVConv));
      __syncthreads();
      vt = reinterpret_cast<const uint16_t*>(smem + L::kVConv);
    } else {
      vt = reinterpret_cast<const uint16_t*>(v_stage(slot));
    }
    if (!warp_active) return;
    const uint32_t vbase = smem_addr(vt);
#pragma unroll
    for (int kc = 0; kc < kKeysPerWarp / 16; ++kc) {
      const uint32_t pa[4] = {p_wait[2 * kc][0], p_wait[2 * kc][1], p_wait[2 * kc + 1][0], p_wait[2 * kc + 1][1]};
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        uint32_t bv[4];
        const int key = key_group * kKeysPerWarp + kc * 16 + mat_row + (mat & 1) * 8;
        ldmatrix_x4_trans(bv, vbase + 2u * swizzled<D>(key, dp * 16 + (mat >> 1) * 8));
        E::mma(o[2 * dp], pa, bv[0], bv[1]);
        E::mma(o[2 * dp + 1], pa, bv[2], bv[3]);
      }
    }
  };

  for (int t = t0; t < t1; ++t) {
    const int it = t - t0;
    const int slot = it % kKStages;
    if (t + kKStages - 1 < t1) {
      const int ahead = (it + kKStages - 1) % kKStages;
      load_kv_tile<D, kElemBytes, kThreads, false>(p.kv, b, kv_head, (t + kKStages - 1) * kTileK, lk,
                                                   k_stage(ahead), key_ok + ahead * kTileK);
    }
    cp_async_commit();
    cp_async_wait<2 * (kKStages - 1)>();  // K[t] (and Q) landed for this thread
    __syncthreads();
    const uint16_t* kt;
    if constexpr (kFp8) {
      fp8_to_tile<kBf16, D, kThreads>(k_stage(slot), reinterpret_cast<uint16_t*>(smem + L::kKConv));
      __syncthreads();
      kt = reinterpret_cast<const uint16_t*>(smem + L::kKConv);
    } else {
      kt = reinterpret_cast<const uint16_t*>(k_stage(slot));
    }
    if (it == 0) {
      const uint32_t qbase = smem_addr(q_smem);
#pragma unroll
      for (int kc = 0; kc < kKC; ++kc) {
        const int r = warp_rows * 16 + mat_row + (mat & 1) * 8;
        ldmatrix_x4(qa[kc], qbase + 2u * swizzled<D>(r, kc * 16 + (mat >> 1) * 8));
      }
    }

    // S = Q K^T over this warp's keys of the tile.
    float s[kNT][4];
#pragma unroll
    for (int i = 0; i < kNT; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
    if (warp_active) {
      const uint32_t kbase = smem_addr(kt);
#pragma unroll
      for (int kc = 0; kc < kKC; ++kc) {
#pragma unroll
        for (int np = 0; np < kNT / 2; ++np) {
          uint32_t bk[4];
          const int key = key_group * kKeysPerWarp + np * 16 + mat_row + (mat >> 1) * 8;
          ldmatrix_x4(bk, kbase + 2u * swizzled<D>(key, kc * 16 + (mat & 1) * 8));
          E::mma(s[2 * np], qa[kc], bk[0], bk[1]);
          E::mma(s[2 * np + 1], qa[kc], bk[2], bk[3]);
        }
      }
    }
    // Mask, then the row maxima of this warp's keys (scaled, log2 units).
    const int k0 = t * kTileK;
    const uint8_t* ok = key_ok + slot * kTileK;
    float pm[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = key_group * kKeysPerWarp + nt * 8 + col_in_quad + (e & 1);
        const int i = e >> 1;
        if (!row_valid[i] || !ok[j] || k0 + j > last_key[i]) s[nt][e] = -INFINITY;
        pm[i] = fmaxf(pm[i], s[nt][e]);
      }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 1));
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 2));
      pm[i] *= p.scale_log2;
    }
    // The vote: a row allows the skip when its maximum over these keys does
    // (the tile's maximum is below m + log2(lambda) iff every part of it is).
    bool allow = it > 0;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      if (row_valid[i]) allow = allow && row_allows_skip(pm[i], m_run[i], log2_lambda);
      if (kKG > 1 && (lane % 4) == 0) partial_max[key_group * L::kRows + my_row[i]] = pm[i];
    }
    const bool skip = __syncthreads_and(allow) != 0;
    if (p.decisions != nullptr && threadIdx.x == 0) {
      p.decisions[decision_index(p.num_kv_heads, p.row_tiles, p.max_tiles, b, kv_head, row_block, t)] = skip ? 2 : 1;
    }
    float tile_max[2] = {pm[0], pm[1]};
    if constexpr (kKG > 1) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int g = 0; g < kKG; ++g) tile_max[i] = fmaxf(tile_max[i], partial_max[g * L::kRows + my_row[i]]);
      }
    }

    const int v_slot = kept % kVStages;
    if (!skip) {
      load_kv_tile<D, kElemBytes, kThreads, true>(p.kv, b, kv_head, k0, lk, v_stage(v_slot), nullptr);
    }
    cp_async_commit();
    if (waiting) {
      cp_async_wait<2>();  // all but {K[t + kKStages - 1]} and {V[t]}: the waiting V landed
      __syncthreads();
      p_times_v(wait_slot);
      waiting = false;
    }
    if (skip) {
      ++skipped;
      continue;
    }
    float m_use[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float alpha = online_softmax_rescale(m_run[i], l_run[i], tile_max[i], m_use[i]);
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        o[dt][2 * i] *= alpha;
        o[dt][2 * i + 1] *= alpha;
      }
    }
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
      const float p0 = softmax_weight(s[nt][0], p.scale_log2, m_use[0]);
      const float p1 = softmax_weight(s[nt][1], p.scale_log2, m_use[0]);
      const float p2 = softmax_weight(s[nt][2], p.scale_log2, m_use[1]);
      const float p3 = softmax_weight(s[nt][3], p.scale_log2, m_use[1]);
      l_run[0] += p0 + p1;
      l_run[1] += p2 + p3;
      p_wait[nt][0] = pack_pair<kBf16>(p0, p1);
      p_wait[nt][1] = pack_pair<kBf16>(p2, p3);
    }
    waiting = true;
    wait_slot = v_slot;
    ++kept;
  }
  if (waiting) {
    cp_async_wait<0>();
    __syncthreads();
    p_times_v(wait_slot);
  }
  cp_async_wait<0>();
  __syncthreads();  // every tile read: the front of shared memory becomes the sums

  // Epilogue: each warp's rows, summed over the key groups.
  float* o_sum = reinterpret_cast<float*>(smem);
  float* l_sum = reinterpret_cast<float*>(smem + L::kReduceL);
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
    float* orow = o_sum + (key_group * L::kRows + my_row[i]) * L::kOStride;
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt) {
      *reinterpret_cast<float2*>(orow + dt * 8 + col_in_quad) = make_float2(o[dt][2 * i], o[dt][2 * i + 1]);
    }
    if ((lane % 4) == 0) {
      l_sum[key_group * L::kRows + my_row[i]] = l_run[i];
      if (key_group == 0) row_m[my_row[i]] = m_run[i];
    }
  }
  __syncthreads();
  const int64_t split_rows = int64_t(p.num_splits);
  for (int i = threadIdx.x; i < rows * (D / 2); i += kThreads) {
    const int r = i / (D / 2), d = 2 * (i % (D / 2));
    float l = 0.0f, x0 = 0.0f, x1 = 0.0f;
#pragma unroll
    for (int g = 0; g < kKG; ++g) {
      l += l_sum[g * L::kRows + r];
      const float2 part = *reinterpret_cast<const float2*>(o_sum + (g * L::kRows + r) * L::kOStride + d);
      x0 += part.x;
      x1 += part.y;
    }
    const float f = l > 0.0f ? p.v_scale / l : 0.0f;
    const int row = row0 + r;
    const int query = row / p.group, head = kv_head * p.group + row % p.group;
    const int64_t out_row = (int64_t(b) * p.num_heads + head) * p.seqlen_q + query;
    if (p.num_splits == 1) {
      uint16_t* dst = p.out + b * p.o_stride[0] + query * p.o_stride[1] + head * p.o_stride[2] + d;
      *reinterpret_cast<uint32_t*>(dst) = pack_pair<kBf16>(x0 * f, x1 * f);
    } else {
      *reinterpret_cast<float2*>(p.ws_o + (out_row * split_rows + split) * D + d) = make_float2(x0 * f, x1 * f);
    }
    if (d == 0) {
      const float lse = row_lse(row_m[r], l);
      if (p.num_splits > 1) {
        p.ws_lse[out_row * split_rows + split] = lse;
      } else if (p.lse != nullptr) {
        p.lse[out_row] = lse;
      }
    }
  }
  if (p.counters != nullptr && threadIdx.x == 0 && t1 > t0) {
    atomicAdd(&p.counters[0], static_cast<unsigned long long>(t1 - t0));
    if (skipped > 0) atomicAdd(&p.counters[1], static_cast<unsigned long long>(skipped));
  }
}

// The splits of each row merged by their LSE: one warp per output row.
template <bool kBf16>
__global__ void merge_splits_kernel(const DecodeParams p, int32_t total_rows, int32_t dim) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= total_rows) return;
  const int query = row % p.seqlen_q;
  const int head = (row / p.seqlen_q) % p.num_heads;
  const int b = row / (p.seqlen_q * p.num_heads);
  const int64_t base = int64_t(row) * p.num_splits;
  uint16_t* dst = p.out + b * p.o_stride[0] + query * p.o_stride[1] + head * p.o_stride[2];
  const float lse = merge_row(
      p.num_splits, dim, [&](int s) { return p.ws_lse[base + s]; },
      [&](int s, int d) { return p.ws_o[(base + s) * dim + d]; },
      [&](int d, float value) { dst[d] = float_to_16bit<kBf16>(value); });
  if (p.lse != nullptr && threadIdx.x % 32 == 0) p.lse[row] = lse;
}

template <bool kBf16, int D, int kRowTiles, bool kFp8>
void launch(const DecodeParams& params, dim3 grid, cudaStream_t stream, const char* function) {
  constexpr int kThreads = 32 * kRowTiles * (kRowTiles == 1 ? 4 : 1);
  launch_checked(decode_kernel<kBf16, D, kRowTiles, kFp8>, grid, dim3(kThreads),
                 Smem<D, kRowTiles, kFp8>::kBytes, stream, function, params);
}

template <bool kBf16, int D, bool kFp8>
void launch_rows(const DecodeProblem& pr, const DecodeParams& params, dim3 grid, cudaStream_t s,
                 const char* function) {
  if (pr.plan.rows <= 16) {
    launch<kBf16, D, 1, kFp8>(params, grid, s, function);
  } else {
    launch<kBf16, D, 8, kFp8>(params, grid, s, function);
  }
}

template <bool kBf16>
void launch_dtype(const DecodeProblem& pr, const DecodeParams& params, dim3 grid, cudaStream_t s,
                  const char* function) {
  const bool fp8 = pr.kv.fp8();
  if (pr.kv.head_dim == 128) {
    fp8 ? launch_rows<kBf16, 128, true>(pr, params, grid, s, function)
        : launch_rows<kBf16, 128, false>(pr, params, grid, s, function);
  } else {
    fp8 ? launch_rows<kBf16, 64, true>(pr, params, grid, s, function)
        : launch_rows<kBf16, 64, false>(pr, params, grid, s, function);
  }
}

}  // namespace

void launch_decode_cuda(const DecodeProblem& pr, void* stream, const char* function) {
  require_cuda_device(function);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  DecodeParams params;
  params.q = static_cast<const uint16_t*>(pr.q.data);
  params.q_stride[0] = pr.q.batch_stride;
  params.q_stride[1] = pr.q.token_stride;
  params.q_stride[2] = pr.q.head_stride;
  params.out = static_cast<uint16_t*>(pr.out);
  for (int i = 0; i < 3; ++i) params.o_stride[i] = pr.out_strides[i];
  params.kv = kv_device(pr.kv);
  params.num_heads = pr.num_heads;
  params.seqlen_q = pr.seqlen_q;
  params.group = pr.plan.group;
  params.rows = pr.plan.rows;
  params.row_tiles = pr.plan.row_tiles;
  params.num_splits = pr.plan.num_splits;
  params.tiles_per_split = pr.plan.tiles_per_split;
  params.causal = pr.causal ? 1 : 0;
  params.scale_log2 = logit_scale_log2(pr.softmax_scale, pr.kv.k_scale);
  params.v_scale = pr.kv.v_scale;
  params.threshold = pr.threshold_scale_factor;
  params.skip_seqlen_kv = pr.skip_seqlen_kv;
  params.lse = pr.lse;
  params.counters = pr.tile_counters;
  params.ws_o = nullptr;
  params.ws_lse = nullptr;
  params.decisions = pr.debug_decisions;
  params.num_kv_heads = pr.kv.num_kv_heads;
  params.max_tiles = pr.plan.max_tiles;
  if (pr.plan.num_splits > 1) {
    const size_t rows = size_t(pr.batch) * pr.num_heads * pr.seqlen_q * pr.plan.num_splits;
    params.ws_o = static_cast<float*>(pr.workspace);
    params.ws_lse = reinterpret_cast<float*>(static_cast<char*>(pr.workspace) +
                                             (rows * size_t(pr.kv.head_dim_v) * sizeof(float) + 15) / 16 * 16);
  }
  const dim3 grid(pr.plan.num_splits, pr.kv.num_kv_heads * pr.plan.row_tiles, pr.batch);
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  if (bf16) {
    launch_dtype<true>(pr, params, grid, s, function);
  } else {
    launch_dtype<false>(pr, params, grid, s, function);
  }
  if (pr.plan.num_splits > 1) {
    const int32_t total_rows = pr.batch * pr.num_heads * pr.seqlen_q;
    constexpr int kWarpsPerBlock = 4;
    const dim3 merge_grid((total_rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    auto kernel = bf16 ? merge_splits_kernel<true> : merge_splits_kernel<false>;
    launch_checked(kernel, merge_grid, dim3(32 * kWarpsPerBlock), 0, s, function, params, total_rows,
                   pr.kv.head_dim_v);
  }
}

}  // namespace spattn::attention
