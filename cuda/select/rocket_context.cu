// RocketKV's context phase (spattn_rocket_context and its pieces), after the
// caller's dense prefill. Rules: spattn.h; the CPU reference that makes the
// same decisions: src/attention/rocket_reference.cpp.
//
// Select (sequences with L >= B):
//  1. window_scores<kStats>: one CTA per (split of the prefix's 128-key tiles,
//     KV head and tile of 128 rows, sequence), a row being one window query
//     times one query head of the KV head (the decode kernel's row packing),
//     so each prefix key is read once for all of them. S = Q K^T with
//     mma.sync (fp32 accumulation); each row's running maximum and sum of
//     exp2 per split go to the workspace.
//  2. window_scores<kSums>: the same tiles again; each row's log-sum-exp
//     from the splits' partials, p = exp2(s - lse), summed over the CTA's
//     rows per key: the column sums of each row tile.
//  3. pool: S[j] = the sum over row tiles, max-pooled over the window
//     [j - K/2, j - K/2 + K - 1] of the prefix; -inf past the prefix and for
//     sequences that keep everything, so the top-k never selects there.
//  4. the index-sparse family's top-k (spattn_topk) picks the B - W best
//     pooled positions of each (sequence, KV head) in increasing order
//     straight into the kept list; finish_kept appends the window (or, for
//     L < B, lists every token).
// Compact: one CTA per (sequence, KV head, K or V) moves the kept rows
// forward in chunks: a chunk's rows are all read before any is written, and a
// later chunk reads rows at or past its own positions, which no earlier chunk
// wrote, so the move is safe in place. Then the new lengths.
// Build the KT cache: one warp per entry, lanes over the dims.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "attention/decode_problem.hpp"
#include "attention/index_sparse_cuda.hpp"
#include "attention/rocket_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "attention/fp8.hpp"
#include "select/kt_cache.cuh"

namespace spattn::attention {
namespace {

constexpr int kTileK = kRocketTileKeys;
constexpr int kRows = kRocketTileRows;
constexpr int kWarps = kRows / 16;     // 16 rows per warp
constexpr int kThreads = 32 * kWarps;  // 256
constexpr int kPoolTile = 1024;        // pooled outputs per CTA

struct ContextParams {
  const uint16_t* q;
  int64_t q_stride[3];
  KvDevice kv;
  KtDevice kt;
  int32_t num_heads, num_kv_heads, group, rows, row_tiles;
  int32_t window, kernel, budget, page;
  int32_t max_prefix, num_splits, tiles_per_split;
  float scale_log2;  // softmax_scale * k_scale * log2(e)
  float k_scale;
  float2* row_stats;   // [batch][kv heads][row tiles][splits][kRows]: (max, sum), log2 units
  float* column_sums;  // [batch][kv heads][row tiles][max_prefix]
  float* pooled;       // [batch][kv heads][max_prefix]
  int32_t* kept;       // [batch][kv heads][budget]
  int32_t* seqlens_out;
};

// Keys of the prefix scored by a sequence: L - W when L >= B, else 0.
__device__ __forceinline__ int scored_prefix(const ContextParams& p, int b) {
  const int len = kv_seqlen(p.kv, b);
  return len >= p.budget ? len - p.window : 0;
}

// Shared-memory layout of the scores kernel (bytes).
template <int D, bool kFp8>
struct ScoreSmem {
  static constexpr int kTile16 = kTileK * D * 2;
  static constexpr int kStage = kFp8 ? kTileK * D : kTile16;
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kRows * D * 2;
  static constexpr int kKConv = kK + 2 * kStage;  // FP8 only
  static constexpr int kKeyOk = kKConv + (kFp8 ? kTile16 : 0);
  static constexpr int kColumns = kKeyOk + 2 * kTileK;  // float [kWarps][kTileK]
  static constexpr int kRowLse = kColumns + kWarps * kTileK * 4;
  static constexpr int kBytes = kRowLse + kRows * 4;
};

template <bool kBf16, int D, bool kFp8, bool kSums>
__global__ void __launch_bounds__(kThreads, 1) window_scores_kernel(const ContextParams p) {
  using L = ScoreSmem<D, kFp8>;
  constexpr int kNT = kTileK / 8;  // 8-key column tiles of S per warp
  constexpr int kKC = D / 16;      // k-steps of Q K^T
  extern __shared__ __align__(128) uint8_t smem[];
  uint16_t* q_smem = reinterpret_cast<uint16_t*>(smem + L::kQ);
  auto k_stage = [&](int s) { return smem + L::kK + s * L::kStage; };
  uint8_t* key_ok = smem + L::kKeyOk;
  float* columns = reinterpret_cast<float*>(smem + L::kColumns);
  float* row_lse = reinterpret_cast<float*>(smem + L::kRowLse);

  const int split = blockIdx.x;
  const int g = blockIdx.y / p.row_tiles;
  const int rt = blockIdx.y % p.row_tiles;
  const int b = blockIdx.z;
  const int prefix = scored_prefix(p, b);
  const int n_tiles = (prefix + kTileK - 1) / kTileK;
  const int t0 = split * p.tiles_per_split;
  const int t1 = min(n_tiles, t0 + p.tiles_per_split);
  const int row0 = rt * kRows;
  const int rows = min(kRows, p.rows - row0);
  const int64_t stats_base = ((int64_t(b) * p.num_kv_heads + g) * p.row_tiles + rt) * p.num_splits;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const bool warp_active = warp * 16 < rows;
  bool row_valid[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) row_valid[i] = warp * 16 + lane / 4 + 8 * i < rows;

  if (t0 >= t1) {  // nothing to score: pass 1 leaves empty partials
    if (!kSums && threadIdx.x < kRows) p.row_stats[(stats_base + split) * kRows + threadIdx.x] = make_float2(-INFINITY, 0.0f);
    return;
  }
  if constexpr (kSums) {
    // Each row's log-sum-exp (log2 units) from the splits' partials; +inf
    // (p = 0) for rows past the tile's rows.
    if (threadIdx.x < kRows) {
      float m = -INFINITY;
      for (int s = 0; s < p.num_splits; ++s) m = fmaxf(m, p.row_stats[(stats_base + s) * kRows + threadIdx.x].x);
      float z = 0.0f;
      for (int s = 0; s < p.num_splits; ++s) {
        const float2 st = p.row_stats[(stats_base + s) * kRows + threadIdx.x];
        if (st.y > 0.0f) z += st.y * exp2f(st.x - m);
      }
      row_lse[threadIdx.x] = z > 0.0f && int(threadIdx.x) < rows ? m + log2f(z) : INFINITY;
    }
  }
  // Q rows (row = query * G + head in the group) and K of the first tile.
  {
    constexpr int kChunks = D / 8;
    const uint32_t base = smem_addr(q_smem);
    for (int i = threadIdx.x; i < kRows * kChunks; i += kThreads) {
      const int r = i / kChunks, chunk = i % kChunks;
      const int row = row0 + r;
      const bool ok = r < rows;
      const int query = row / p.group, head = g * p.group + row % p.group;
      const uint16_t* src = p.q + b * p.q_stride[0] + query * p.q_stride[1] + head * p.q_stride[2] + chunk * 8;
      cp_async_16(base + 2u * swizzled<D>(r, chunk * 8), ok ? src : p.q, ok ? 16 : 0);
    }
  }
  constexpr int kElemBytes = kFp8 ? 1 : 2;
  load_kv_tile<D, kElemBytes, kThreads, false>(p.kv, b, g, t0 * kTileK, prefix, k_stage(0), key_ok);
  cp_async_commit();

  uint32_t qa[kKC][4];
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  for (int t = t0; t < t1; ++t) {
    const int it = t - t0, slot = it % 2;
    if (t + 1 < t1) {
      load_kv_tile<D, kElemBytes, kThreads, false>(p.kv, b, g, (t + 1) * kTileK, prefix, k_stage(1 - slot),
                                                   key_ok + (1 - slot) * kTileK);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    const uint16_t* kt;
    if constexpr (kFp8) {
      fp8_to_swizzled_tile<kBf16, D, kThreads, 128>(k_stage(slot), reinterpret_cast<uint16_t*>(smem + L::kKConv));
      __syncthreads();
      kt = reinterpret_cast<const uint16_t*>(smem + L::kKConv);
    } else {
      kt = reinterpret_cast<const uint16_t*>(k_stage(slot));
    }
    if (it == 0) load_q_fragments<D>(qa, smem_addr(q_smem), warp * 16, lane);
    float s[kNT][4];
#pragma unroll
    for (int i = 0; i < kNT; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
    if (warp_active) warp_qk<kBf16, D, kNT>(s, qa, smem_addr(kt), 0, lane);
    // Scaled logits (log2 units); -inf for keys past the prefix, on bad pages
    // and in rows past the tile's rows.
    const uint8_t* ok = key_ok + slot * kTileK;
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = nt * 8 + (lane % 4) * 2 + (e & 1);
        s[nt][e] = row_valid[e >> 1] && ok[j] ? s[nt][e] * p.scale_log2 : -INFINITY;
      }
    }
    if constexpr (!kSums) {
      float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) {
        tmax[0] = fmaxf(tmax[0], fmaxf(s[nt][0], s[nt][1]));
        tmax[1] = fmaxf(tmax[1], fmaxf(s[nt][2], s[nt][3]));
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        tmax[i] = fmaxf(tmax[i], __shfl_xor_sync(0xffffffffu, tmax[i], 1));
        tmax[i] = fmaxf(tmax[i], __shfl_xor_sync(0xffffffffu, tmax[i], 2));
        float m_use;
        online_softmax_rescale(m_run[i], l_run[i], tmax[i], m_use);
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt) {
          l_run[i] += fast_exp2(s[nt][2 * i] - m_use) + fast_exp2(s[nt][2 * i + 1] - m_use);
        }
      }
    } else {
      // p = exp2(s - lse) summed over this warp's 16 rows per key.
      const float lse0 = row_lse[warp * 16 + lane / 4], lse1 = row_lse[warp * 16 + lane / 4 + 8];
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          float col = fast_exp2(s[nt][c] - lse0) + fast_exp2(s[nt][2 + c] - lse1);
          col += __shfl_xor_sync(0xffffffffu, col, 4);
          col += __shfl_xor_sync(0xffffffffu, col, 8);
          col += __shfl_xor_sync(0xffffffffu, col, 16);
          if (lane < 4) columns[warp * kTileK + nt * 8 + lane * 2 + c] = warp_active ? col : 0.0f;
        }
      }
      __syncthreads();
      if (threadIdx.x < kTileK) {
        const int key = t * kTileK + threadIdx.x;
        float sum = 0.0f;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) sum += columns[w * kTileK + threadIdx.x];
        if (key < prefix) {
          p.column_sums[((int64_t(b) * p.num_kv_heads + g) * p.row_tiles + rt) * p.max_prefix + key] = sum;
        }
      }
    }
    __syncthreads();  // the stage read here is the next load's target
  }
  if constexpr (!kSums) {
    // The quad's partial sums make the row's; lane % 4 == 0 writes.
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
      l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
      const int r = warp * 16 + lane / 4 + 8 * i;
      if (lane % 4 == 0) p.row_stats[(stats_base + split) * kRows + r] = make_float2(m_run[i], l_run[i]);
    }
  }
}

// pooled[b][g][j] for j < max_prefix: the max-pool of the row tiles' summed
// columns over the prefix, -inf past it (and everywhere for sequences that
// keep every token).
__global__ void __launch_bounds__(256) pool_kernel(const ContextParams p) {
  extern __shared__ float window[];  // kPoolTile + kernel - 1 column sums
  const int g = blockIdx.y, b = blockIdx.z;
  const int j0 = blockIdx.x * kPoolTile;
  const int prefix = scored_prefix(p, b);
  const int half = p.kernel / 2;
  const int span = kPoolTile + p.kernel - 1;
  const float* col = p.column_sums + (int64_t(b) * p.num_kv_heads + g) * p.row_tiles * int64_t(p.max_prefix);
  for (int i = threadIdx.x; i < span; i += blockDim.x) {
    const int t = j0 - half + i;
    float v = -INFINITY;
    if (t >= 0 && t < prefix) {
      v = 0.0f;
      for (int rt = 0; rt < p.row_tiles; ++rt) v += col[int64_t(rt) * p.max_prefix + t];
    }
    window[i] = v;
  }
  __syncthreads();
  float* out = p.pooled + (int64_t(b) * p.num_kv_heads + g) * p.max_prefix;
  for (int i = threadIdx.x; i < kPoolTile; i += blockDim.x) {
    const int j = j0 + i;
    if (j >= p.max_prefix) break;
    float m = -INFINITY;
    if (j < prefix) {
      for (int x = 0; x < p.kernel; ++x) m = fmaxf(m, window[i + x]);
    }
    out[j] = m;
  }
}

// The kept list's window part (L >= B) or the whole identity list (L < B).
__global__ void __launch_bounds__(256) finish_kept_kernel(const ContextParams p) {
  const int g = blockIdx.x % p.num_kv_heads, b = blockIdx.x / p.num_kv_heads;
  const int len = kv_seqlen(p.kv, b);
  int32_t* kept = p.kept + (int64_t(b) * p.num_kv_heads + g) * p.budget;
  if (len >= p.budget) {
    for (int i = threadIdx.x; i < p.window; i += blockDim.x) kept[p.budget - p.window + i] = len - p.window + i;
  } else {
    for (int t = threadIdx.x; t < p.budget; t += blockDim.x) kept[t] = t < len ? t : -1;
  }
}

// Moves row kept[t] to row t (t < B) for one pool (blockIdx.y: 0 K, 1 V) of
// one (sequence, KV head), in chunks of 4 * 256 16-byte pieces: every read
// of a chunk before any of its writes.
__global__ void __launch_bounds__(256) compact_kernel(const ContextParams p, int32_t row_bytes) {
  constexpr int kPieces = 4;  // 16-byte pieces each thread carries per chunk
  const int g = blockIdx.x % p.num_kv_heads, b = blockIdx.x / p.num_kv_heads;
  const bool values = blockIdx.y == 1;
  const int len = kv_seqlen(p.kv, b);
  if (len < p.budget) return;
  const int32_t* kept = p.kept + (int64_t(b) * p.num_kv_heads + g) * p.budget;
  uint8_t* pool = const_cast<uint8_t*>(values ? p.kv.v : p.kv.k);
  const int64_t head_offset = g * (values ? p.kv.v_stride[2] : p.kv.k_stride[2]);
  const int pieces_per_row = row_bytes / 16;
  const int rows_per_chunk = kPieces * int(blockDim.x) / pieces_per_row;
  for (int t0 = 0; t0 < p.budget; t0 += rows_per_chunk) {
    uint4 piece[kPieces];
    bool has[kPieces];
#pragma unroll
    for (int k = 0; k < kPieces; ++k) {
      const int i = k * blockDim.x + threadIdx.x;
      const int t = t0 + i / pieces_per_row, c = i % pieces_per_row;
      has[k] = t < p.budget && kept[t] != t;
      if (has[k]) {
        int64_t k_off, v_off;
        const bool ok = kv_row(p.kv, b, kept[t], k_off, v_off);
        has[k] = ok;
        if (ok) piece[k] = *reinterpret_cast<const uint4*>(pool + head_offset + (values ? v_off : k_off) + c * 16);
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kPieces; ++k) {
      const int i = k * blockDim.x + threadIdx.x;
      const int t = t0 + i / pieces_per_row, c = i % pieces_per_row;
      if (!has[k]) continue;
      int64_t k_off, v_off;
      if (kv_row(p.kv, b, t, k_off, v_off)) {
        *reinterpret_cast<uint4*>(pool + head_offset + (values ? v_off : k_off) + c * 16) = piece[k];
      }
    }
    __syncthreads();
  }
}

__global__ void seqlens_kernel(const ContextParams p, int32_t batch) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b < batch) p.seqlens_out[b] = min(kv_seqlen(p.kv, b), p.budget);
}

// A key element, dequantized.
template <bool kBf16, bool kFp8>
__device__ __forceinline__ float key_value(const uint8_t* row, int d, float k_scale) {
  if constexpr (kFp8) {
    return e4m3_to_float(row[d]) * k_scale;
  } else if constexpr (kBf16) {
    return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(row)[d]);
  } else {
    return __half2float(reinterpret_cast<const __half*>(row)[d]);
  }
}

// KT entries of the first min(L, B) keys: one warp per entry (8 per CTA),
// each lane D / 32 dims.
template <bool kBf16, bool kFp8, int D, bool kE5m2>
__global__ void __launch_bounds__(256) build_kt_kernel(const ContextParams p) {
  constexpr int kDims = D / 32;
  const int g = blockIdx.y, b = blockIdx.z;
  const int e = blockIdx.x * 8 + threadIdx.x / 32, lane = threadIdx.x % 32;
  const int len = min(kv_seqlen(p.kv, b), p.budget);
  if (e * p.page >= len) return;
  uint8_t* out = kt_row(p.kt, b, e, g);
  if (out == nullptr) return;
  float lo[kDims], hi[kDims];
#pragma unroll
  for (int i = 0; i < kDims; ++i) {
    lo[i] = INFINITY;
    hi[i] = -INFINITY;
  }
  for (int j = e * p.page; j < min(len, e * p.page + p.page); ++j) {
    int64_t k_off, v_off;
    if (!kv_row(p.kv, b, j, k_off, v_off)) continue;
    const uint8_t* row = p.kv.k + g * p.kv.k_stride[2] + k_off;
#pragma unroll
    for (int i = 0; i < kDims; ++i) {
      const float x = key_value<kBf16, kFp8>(row, lane + 32 * i, p.k_scale);
      lo[i] = fminf(lo[i], x);
      hi[i] = fmaxf(hi[i], x);
    }
  }
#pragma unroll
  for (int i = 0; i < kDims; ++i) {
    kt_store<kE5m2>(out, lane + 32 * i, lo[i]);
    kt_store<kE5m2>(out, D + lane + 32 * i, hi[i]);
  }
}

template <bool kBf16, int D, bool kFp8>
void launch_select(const RocketContextProblem& pr, const ContextParams& params, cudaStream_t s, const char* function) {
  const dim3 grid(pr.plan.num_splits, pr.kv.num_kv_heads * pr.plan.row_tiles, pr.batch);
  launch_checked(window_scores_kernel<kBf16, D, kFp8, false>, grid, dim3(kThreads), ScoreSmem<D, kFp8>::kBytes, s,
                 function, params);
  launch_checked(window_scores_kernel<kBf16, D, kFp8, true>, grid, dim3(kThreads), ScoreSmem<D, kFp8>::kBytes, s,
                 function, params);
}

template <bool kBf16, bool kFp8>
void launch_build_kt(const RocketContextProblem& pr, const ContextParams& params, cudaStream_t s,
                     const char* function) {
  const int entries = (std::min(pr.kv.max_seqlen_kv, pr.rocket.budget) + pr.rocket.page - 1) / pr.rocket.page;
  if (entries == 0) return;
  const dim3 grid((entries + 7) / 8, pr.kv.num_kv_heads, pr.batch);
  const bool e5m2 = pr.kt.e5m2();
  auto kernel = pr.kv.head_dim == 128
                    ? (e5m2 ? build_kt_kernel<kBf16, kFp8, 128, true> : build_kt_kernel<kBf16, kFp8, 128, false>)
                    : (e5m2 ? build_kt_kernel<kBf16, kFp8, 64, true> : build_kt_kernel<kBf16, kFp8, 64, false>);
  launch_checked(kernel, grid, dim3(256), 0, s, function, params);
}

ContextParams context_params(const RocketContextProblem& pr) {
  ContextParams p;
  p.q = static_cast<const uint16_t*>(pr.q.data);
  p.q_stride[0] = pr.q.batch_stride;
  p.q_stride[1] = pr.q.token_stride;
  p.q_stride[2] = pr.q.head_stride;
  p.kv = kv_device(pr.kv);
  p.kt = kt_device(pr.kt);
  p.num_heads = pr.num_heads;
  p.num_kv_heads = pr.kv.num_kv_heads;
  p.group = pr.plan.group;
  p.rows = pr.plan.rows;
  p.row_tiles = pr.plan.row_tiles;
  p.window = pr.rocket.window;
  p.kernel = pr.rocket.kernel;
  p.budget = pr.rocket.budget;
  p.page = pr.rocket.page;
  p.max_prefix = pr.plan.max_prefix;
  p.num_splits = pr.plan.num_splits;
  p.tiles_per_split = pr.plan.tiles_per_split;
  p.scale_log2 = logit_scale_log2(pr.softmax_scale, pr.kv.k_scale);
  p.k_scale = pr.kv.k_scale;
  uint8_t* ws = static_cast<uint8_t*>(pr.workspace);
  p.row_stats = reinterpret_cast<float2*>(ws + pr.plan.row_stats);
  p.column_sums = reinterpret_cast<float*>(ws + pr.plan.column_sums);
  p.pooled = reinterpret_cast<float*>(ws + pr.plan.pooled);
  p.kept = pr.kept_indices != nullptr ? pr.kept_indices : reinterpret_cast<int32_t*>(ws + pr.plan.kept);
  p.seqlens_out = pr.seqlens_out;
  return p;
}

void run_select(const RocketContextProblem& pr, const ContextParams& params, cudaStream_t s, const char* function) {
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16, fp8 = pr.kv.fp8();
  if (pr.plan.max_prefix > 0) {
    if (pr.kv.head_dim == 128) {
      bf16 ? (fp8 ? launch_select<true, 128, true>(pr, params, s, function)
                  : launch_select<true, 128, false>(pr, params, s, function))
           : (fp8 ? launch_select<false, 128, true>(pr, params, s, function)
                  : launch_select<false, 128, false>(pr, params, s, function));
    } else {
      bf16 ? (fp8 ? launch_select<true, 64, true>(pr, params, s, function)
                  : launch_select<true, 64, false>(pr, params, s, function))
           : (fp8 ? launch_select<false, 64, true>(pr, params, s, function)
                  : launch_select<false, 64, false>(pr, params, s, function));
    }
    const dim3 pool_grid((pr.plan.max_prefix + kPoolTile - 1) / kPoolTile, pr.kv.num_kv_heads, pr.batch);
    launch_checked(pool_kernel, pool_grid, dim3(256), int((kPoolTile + pr.rocket.kernel - 1) * sizeof(float)), s,
                   function, params);
    // Rows of max_prefix pooled scores (-inf marks what is not a candidate)
    // into the first B - W slots of each kept list.
    const TopkProblem topk{pr.batch * pr.kv.num_kv_heads, pr.plan.max_prefix, params.pooled, pr.plan.max_prefix,
                           nullptr, pr.rocket.budget - pr.rocket.window, params.kept, pr.rocket.budget};
    launch_topk_cuda(topk, s, function);
  }
  launch_checked(finish_kept_kernel, dim3(pr.batch * pr.kv.num_kv_heads), dim3(256), 0, s, function, params);
}

void run_compact(const RocketContextProblem& pr, const ContextParams& params, cudaStream_t s, const char* function) {
  const int row_bytes = pr.kv.head_dim * pr.kv.element_bytes();
  launch_checked(compact_kernel, dim3(pr.batch * pr.kv.num_kv_heads, 2), dim3(256), 0, s, function, params,
                 row_bytes);
  if (pr.seqlens_out != nullptr) {
    launch_checked(seqlens_kernel, dim3((pr.batch + 255) / 256), dim3(256), 0, s, function, params, pr.batch);
  }
}

void run_build_kt(const RocketContextProblem& pr, const ContextParams& params, cudaStream_t s, const char* function) {
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16, fp8 = pr.kv.fp8();
  if (fp8) {
    launch_build_kt<true, true>(pr, params, s, function);  // FP8 keys: the query dtype does not matter
  } else if (bf16) {
    launch_build_kt<true, false>(pr, params, s, function);
  } else {
    launch_build_kt<false, false>(pr, params, s, function);
  }
}

}  // namespace

void launch_rocket_context_cuda(const RocketContextProblem& pr, RocketContextPiece piece, void* stream,
                                const char* function) {
  require_cuda_device(function);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const ContextParams params = context_params(pr);
  if (piece == RocketContextPiece::kAll || piece == RocketContextPiece::kSelect) run_select(pr, params, s, function);
  if (piece == RocketContextPiece::kAll || piece == RocketContextPiece::kCompact) run_compact(pr, params, s, function);
  if (piece == RocketContextPiece::kAll || piece == RocketContextPiece::kBuildKt) run_build_kt(pr, params, s, function);
}

}  // namespace spattn::attention
