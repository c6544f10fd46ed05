// Index-sparse attention (spattn_sparse_attention): each row attends to the
// keys of its index list, gathered from the caller's KV cache. mma.sync
// m16n8k16 (bf16/fp16 in, fp32 accumulate); one kernel for DSA's per-token
// lists and RocketKV's per-(sequence, KV head) lists, GQA head dims 64/128
// and MLA's absorbed 576/512.
//
// One CTA = one split of one list and one tile of up to 64 rows that share
// it (the query heads of a KV head, times the step's queries when the list
// is shared across them), so each gathered key and value row is read once
// for all those rows. Warps form a kRowWarps x kColWarps grid: warp (wr, wc)
// owns rows 16 wr .. 16 wr + 15, computes S = Q K^T for its share of the
// tile's keys (kTileK / kColWarps), and accumulates O for its share of the
// value dims (DV / kColWarps) over all the tile's keys. Per key tile:
//  A. the tile's gathered rows landed (cp.async, one tile ahead; FP8 rows are
//     converted to 16 bits in shared memory, exactly);
//  B. S for the warp's keys, masked (holes, bad pages, causal), the row
//     maxima of its keys meet in shared memory;
//  C. online softmax with the tile's maximum; P (rounded to 16 bits) goes to
//     shared memory, each warp's row sums keep its own keys' fp32 p;
//  D. O += P V over the whole tile for the warp's dims.
// MLA's values are the first 512 dims of the gathered keys: one tile serves
// both. The list is first read into shared memory in increasing key order
// (cuda/sparse/index_list.cuh), so every CTA of a list (its splits, its row
// tiles) sees the same keys in the same order.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "attention/index_sparse_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "decode/merge_rows.cuh"
#include "prefill/attention_forward_sm90.hpp"
#include "sparse/index_list.cuh"
#include "sparse/sparse_mla_sm90.hpp"
#include "sparse/sparse_params.cuh"

namespace spattn::attention {
namespace {

// Shared-memory layout of one instantiation (bytes); the list follows at kEnd.
template <int D, int DV, int kRowWarps, int kColWarps, int kTileK, bool kFp8, bool kShared>
struct Layout {
  static constexpr int kRows = 16 * kRowWarps;
  static constexpr int kThreads = 32 * kRowWarps * kColWarps;
  static constexpr int kPStride = kTileK + 8;  // 16-bit elements: conflict-free ldmatrix rows
  static constexpr int kKStage = kTileK * D * (kFp8 ? 1 : 2);
  static constexpr int kVStage = kShared ? 0 : kTileK * DV * (kFp8 ? 1 : 2);
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kRows * D * 2;
  static constexpr int kV = kK + 2 * kKStage;
  static constexpr int kKConv = kV + 2 * kVStage;                         // FP8 only
  static constexpr int kVConv = kKConv + (kFp8 ? kTileK * D * 2 : 0);      // FP8 without shared values
  static constexpr int kP = kVConv + (kFp8 && !kShared ? kTileK * DV * 2 : 0);
  static constexpr int kMax = kP + kRows * kPStride * 2;                   // [kColWarps][kRows] f32
  static constexpr int kSum = kMax + kColWarps * kRows * 4;                // [kColWarps][kRows] f32
  static constexpr int kKeyOk = kSum + kColWarps * kRows * 4;              // [2][kTileK] bytes
  static constexpr int kScratch = kKeyOk + 2 * kTileK;
  static constexpr int kEnd = (kScratch + 16 + 15) / 16 * 16;
};

// Copies the gathered rows of list positions [pos0, pos0 + kTileK) (holes
// and positions >= pos_end zero-filled) into the tile of stage `stage`.
template <int D, int DV, int kThreads, int kTileK, bool kFp8, bool kShared, class L>
__device__ __forceinline__ void load_tile(const SparseParams& p, int b, int head, const int32_t* list, int pos0,
                                          int pos_end, int stage, uint8_t* smem) {
  constexpr int kEb = kFp8 ? 1 : 2;
  uint8_t* k_dst = smem + L::kK + stage * L::kKStage;
  uint8_t* v_dst = smem + L::kV + stage * L::kVStage;
  uint8_t* ok_dst = smem + L::kKeyOk + stage * kTileK;
  const int64_t k_head = head * p.kv.k_stride[2], v_head = head * p.kv.v_stride[2];
  constexpr int kKChunks = D * kEb / 16, kVChunks = kShared ? 0 : DV * kEb / 16;
  constexpr int kChunks = kKChunks + kVChunks;
  for (int i = threadIdx.x; i < kTileK * kChunks; i += kThreads) {
    const int row = i / kChunks;
    int chunk = i % kChunks;
    const int pos = pos0 + row;
    const int32_t key = pos < pos_end ? list[pos] : kListHole;
    int64_t k_off = 0, v_off = 0;
    const bool ok = key != kListHole && kv_row(p.kv, b, key, k_off, v_off);
    const bool is_v = chunk >= kKChunks;
    if (is_v) chunk -= kKChunks;
    const uint8_t* src = is_v ? p.kv.v + v_head + v_off : p.kv.k + k_head + k_off;
    const int dim = is_v ? DV : D;
    uint32_t dst;
    if constexpr (kFp8) {
      dst = smem_addr(is_v ? v_dst : k_dst) + row * dim + chunk * 16;
    } else {
      dst = smem_addr(is_v ? v_dst : k_dst) + 2u * (is_v ? swizzled<DV>(row, chunk * 8) : swizzled<D>(row, chunk * 8));
    }
    cp_async_16(dst, ok ? src + chunk * 16 : p.kv.k, ok ? 16 : 0);
    if (!is_v && chunk == 0) ok_dst[row] = ok ? 1 : 0;
  }
}

template <bool kBf16, int D, int DV, int kRowWarps, int kColWarps, int kTileK, bool kFp8, bool kShared>
__global__ void __launch_bounds__(32 * kRowWarps * kColWarps, 1) sparse_kernel(const SparseParams p) {
  using E = Elem<kBf16>;
  using L = Layout<D, DV, kRowWarps, kColWarps, kTileK, kFp8, kShared>;
  constexpr int kThreads = L::kThreads;
  constexpr int kRows = L::kRows;
  constexpr int kKW = kTileK / kColWarps;  // keys of S per warp
  constexpr int kNT = kKW / 8;
  constexpr int kDW = DV / kColWarps;      // value dims per warp
  constexpr int kDT = kDW / 8;
  constexpr int kKC = D / 16;
  constexpr bool kQInRegs = D <= 128;
  static_assert(kNT % 2 == 0 && kDT % 2 == 0, "ldmatrix x4 covers 16 keys / 16 dims");

  extern __shared__ __align__(128) uint8_t smem[];
  uint16_t* q_smem = reinterpret_cast<uint16_t*>(smem + L::kQ);
  uint16_t* p_smem = reinterpret_cast<uint16_t*>(smem + L::kP);
  float* part_max = reinterpret_cast<float*>(smem + L::kMax);
  float* part_sum = reinterpret_cast<float*>(smem + L::kSum);
  int* scratch = reinterpret_cast<int*>(smem + L::kScratch);
  int32_t* list = reinterpret_cast<int32_t*>(smem + L::kEnd);

  const int split = blockIdx.x % p.num_splits;
  const int qblock = blockIdx.x / p.num_splits;  // the query of a per-token list; 0 for shared lists
  const int row_tiles = (p.rows + kRows - 1) / kRows;
  const int g = blockIdx.y / row_tiles;
  const int row0 = (blockIdx.y % row_tiles) * kRows;
  const int b = blockIdx.z;
  int lq = p.seqlen_q, t0 = 0;
  if (p.cu_q != nullptr) {
    t0 = p.cu_q[b];
    lq = min(max(p.cu_q[b + 1] - t0, 0), p.seqlen_q);
  }
  if (p.per_query && qblock >= lq) return;
  const int lk = kv_seqlen(p.kv, b);
  const int rows = min(kRows, p.rows - row0);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wr = warp / kColWarps, wc = warp % kColWarps;
  const int mat = lane / 8, mat_row = lane % 8;
  const int quad_col = (lane % 4) * 2;

  // This lane's two rows: CTA-local index, query, head, validity, last key.
  int my_row[2], my_query[2], my_head[2], last_key[2];
  bool row_valid[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    my_row[i] = wr * 16 + lane / 4 + 8 * i;
    const int rr = row0 + my_row[i];
    my_query[i] = p.per_query ? qblock : rr / p.group;
    my_head[i] = g * p.group + (p.per_query ? rr : rr % p.group);
    row_valid[i] = my_row[i] < rows && my_query[i] < lq;
    last_key[i] = p.causal ? my_query[i] + lk - lq : 0x7fffffff;
  }

  // Q rows (swizzled [kRows][D]), committed with the first tile.
  {
    constexpr int kChunks = D / 8;
    const uint32_t base = smem_addr(q_smem);
    for (int i = threadIdx.x; i < kRows * kChunks; i += kThreads) {
      const int r = i / kChunks, chunk = i % kChunks;
      const int rr = row0 + r;
      const int query = p.per_query ? qblock : rr / p.group;
      const int head = g * p.group + (p.per_query ? rr : rr % p.group);
      const bool ok = r < rows && query < lq;
      const int64_t t = p.cu_q != nullptr ? t0 + query : query;
      const uint16_t* src = p.q + (p.cu_q != nullptr ? 0 : b * p.q_stride[0]) + t * p.q_stride[1] +
                            head * p.q_stride[2] + chunk * 8;
      cp_async_16(base + 2u * swizzled<D>(r, chunk * 8), ok ? src : p.q, ok ? 16 : 0);
    }
  }

  // The list, in the agreed order; this split's positions of it.
  const int64_t list_t = p.cu_q != nullptr ? t0 + qblock : qblock;
  const int32_t* src_list =
      p.lists + b * p.list_stride[0] + (p.per_query ? list_t * p.list_stride[1] : 0) + g * p.list_stride[2];
  const int count = load_index_list<kThreads>(src_list, p.topk, p.list_cap, lk, list, scratch);
  const int pos_begin = split * p.split_entries;
  const int pos_end = min(count, pos_begin + p.split_entries);
  const int n_tiles = pos_end > pos_begin ? (pos_end - pos_begin + kTileK - 1) / kTileK : 0;

  if (n_tiles > 0) {
    load_tile<D, DV, kThreads, kTileK, kFp8, kShared, L>(p, b, g, list, pos_begin, pos_end, 0, smem);
  }
  cp_async_commit();

  uint32_t qa[kQInRegs ? kKC : 1][4];
  float o[kDT][4];
#pragma unroll
  for (int i = 0; i < kDT; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  const uint32_t qbase = smem_addr(q_smem);
  const int q_ld_row = wr * 16 + mat_row + (mat & 1) * 8;

  for (int t = 0; t < n_tiles; ++t) {
    const int stage = t & 1;
    cp_async_wait<0>();
    __syncthreads();  // A: tile t landed; every warp is done with tile t - 1
    if (t + 1 < n_tiles) {
      load_tile<D, DV, kThreads, kTileK, kFp8, kShared, L>(p, b, g, list, pos_begin + (t + 1) * kTileK, pos_end,
                                                           stage ^ 1, smem);
    }
    cp_async_commit();
    const uint16_t* kt;
    const uint16_t* vt;
    if constexpr (kFp8) {
      fp8_to_tile<kBf16, D, kThreads, kTileK>(smem + L::kK + stage * L::kKStage,
                                              reinterpret_cast<uint16_t*>(smem + L::kKConv));
      if constexpr (!kShared) {
        fp8_to_tile<kBf16, DV, kThreads, kTileK>(smem + L::kV + stage * L::kVStage,
                                                 reinterpret_cast<uint16_t*>(smem + L::kVConv));
      }
      __syncthreads();
      kt = reinterpret_cast<const uint16_t*>(smem + L::kKConv);
      vt = kShared ? kt : reinterpret_cast<const uint16_t*>(smem + L::kVConv);
    } else {
      kt = reinterpret_cast<const uint16_t*>(smem + L::kK + stage * L::kKStage);
      vt = kShared ? kt : reinterpret_cast<const uint16_t*>(smem + L::kV + stage * L::kVStage);
    }
    if constexpr (kQInRegs) {
      if (t == 0) {
#pragma unroll
        for (int kc = 0; kc < kKC; ++kc) {
          ldmatrix_x4(qa[kc], qbase + 2u * swizzled<D>(q_ld_row, kc * 16 + (mat >> 1) * 8));
        }
      }
    }

    // B. S over this warp's keys.
    float s[kNT][4];
#pragma unroll
    for (int i = 0; i < kNT; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
    const uint32_t kbase = smem_addr(kt);
    auto s_step = [&](int kc, const uint32_t (&a)[4]) {
#pragma unroll
      for (int np = 0; np < kNT / 2; ++np) {
        uint32_t bk[4];
        const int key = wc * kKW + np * 16 + mat_row + (mat >> 1) * 8;
        ldmatrix_x4(bk, kbase + 2u * swizzled<D>(key, kc * 16 + (mat & 1) * 8));
        E::mma(s[2 * np], a, bk[0], bk[1]);
        E::mma(s[2 * np + 1], a, bk[2], bk[3]);
      }
    };
    if constexpr (kQInRegs) {
#pragma unroll
      for (int kc = 0; kc < kKC; ++kc) s_step(kc, qa[kc]);
    } else {
#pragma unroll 4
      for (int kc = 0; kc < kKC; ++kc) {
        uint32_t a[4];
        ldmatrix_x4(a, qbase + 2u * swizzled<D>(q_ld_row, kc * 16 + (mat >> 1) * 8));
        s_step(kc, a);
      }
    }
    const int pos0 = pos_begin + t * kTileK;
    const uint8_t* key_ok = smem + L::kKeyOk + stage * kTileK;
    float pm[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int c = wc * kKW + nt * 8 + quad_col + (e & 1);
        const int i = e >> 1;
        const int pos = pos0 + c;
        const int32_t key = pos < pos_end ? list[pos] : kListHole;
        if (!row_valid[i] || key == kListHole || !key_ok[c] || key > last_key[i]) s[nt][e] = -INFINITY;
        pm[i] = fmaxf(pm[i], s[nt][e]);
      }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 1));
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 2));
      if ((lane & 3) == 0) part_max[wc * kRows + my_row[i]] = pm[i] * p.scale_log2;
    }
    __syncthreads();  // B: every warp's row maxima of the tile

    // C. Online softmax with the tile's maximum; P to shared memory.
    float m_use[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int w = 0; w < kColWarps; ++w) tile_max = fmaxf(tile_max, part_max[w * kRows + my_row[i]]);
      const float alpha = online_softmax_rescale(m_run[i], l_run[i], tile_max, m_use[i]);
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
      const int c = wc * kKW + nt * 8 + quad_col;
      *reinterpret_cast<uint32_t*>(p_smem + my_row[0] * L::kPStride + c) = pack_pair<kBf16>(p0, p1);
      *reinterpret_cast<uint32_t*>(p_smem + my_row[1] * L::kPStride + c) = pack_pair<kBf16>(p2, p3);
    }
    __syncthreads();  // C: the tile's P complete

    // D. O += P V for this warp's dims.
    const uint32_t pbase = smem_addr(p_smem);
    const uint32_t vbase = smem_addr(vt);
#pragma unroll
    for (int kc = 0; kc < kTileK / 16; ++kc) {
      uint32_t pa[4];
      ldmatrix_x4(pa, pbase + 2u * (q_ld_row * L::kPStride + kc * 16 + (mat >> 1) * 8));
#pragma unroll
      for (int dp = 0; dp < kDT / 2; ++dp) {
        uint32_t bv[4];
        const int key = kc * 16 + mat_row + (mat & 1) * 8;
        const int col = wc * kDW + dp * 16 + (mat >> 1) * 8;
        const int at = kShared ? swizzled<D>(key, col) : swizzled<DV>(key, col);
        ldmatrix_x4_trans(bv, vbase + 2u * at);
        E::mma(o[2 * dp], pa, bv[0], bv[1]);
        E::mma(o[2 * dp + 1], pa, bv[2], bv[3]);
      }
    }
  }
  cp_async_wait<0>();

  // Epilogue: row sums over the column warps; normalize and store.
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
    if ((lane & 3) == 0) part_sum[wc * kRows + my_row[i]] = l_run[i];
  }
  __syncthreads();
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    if (!row_valid[i]) continue;
    float l = 0.0f;
#pragma unroll
    for (int w = 0; w < kColWarps; ++w) l += part_sum[w * kRows + my_row[i]];
    const float f = l > 0.0f ? p.v_scale / l : 0.0f;
    const int query = my_query[i], head = my_head[i];
    const int64_t t = p.cu_q != nullptr ? t0 + query : query;
    const int64_t ws_row = ((int64_t(b) * p.seqlen_q + query) * p.num_heads + head) * p.num_splits + split;
    if (p.num_splits == 1) {
      uint16_t* dst = p.out + (p.cu_q != nullptr ? 0 : b * p.o_stride[0]) + t * p.o_stride[1] + head * p.o_stride[2];
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        const int d = wc * kDW + dt * 8 + quad_col;
        *reinterpret_cast<uint32_t*>(dst + d) = pack_pair<kBf16>(o[dt][2 * i] * f, o[dt][2 * i + 1] * f);
      }
    } else {
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        const int d = wc * kDW + dt * 8 + quad_col;
        *reinterpret_cast<float2*>(p.ws_o + ws_row * DV + d) = make_float2(o[dt][2 * i] * f, o[dt][2 * i + 1] * f);
      }
    }
    if (wc == 0 && (lane & 3) == 0) {
      const float lse = row_lse(m_run[i], l);
      if (p.num_splits > 1) {
        p.ws_lse[ws_row] = lse;
      } else if (p.lse != nullptr) {
        const int64_t at = p.cu_q != nullptr ? int64_t(head) * p.cu_q[gridDim.z] + t
                                             : (int64_t(b) * p.num_heads + head) * p.seqlen_q + query;
        p.lse[at] = lse;
      }
    }
  }
}

// The splits of each row merged by their LSE: one warp per (b, query, head).
template <bool kBf16>
__global__ void merge_splits_kernel(const SparseParams p, int32_t batch, int32_t dim) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int64_t total = int64_t(batch) * p.seqlen_q * p.num_heads;
  if (row >= total) return;
  const int head = int(row % p.num_heads);
  const int query = int((row / p.num_heads) % p.seqlen_q);
  const int b = int(row / (int64_t(p.num_heads) * p.seqlen_q));
  int lq = p.seqlen_q, t0 = 0;
  if (p.cu_q != nullptr) {
    t0 = p.cu_q[b];
    lq = min(max(p.cu_q[b + 1] - t0, 0), p.seqlen_q);
  }
  if (query >= lq) return;
  const int64_t t = p.cu_q != nullptr ? t0 + query : query;
  uint16_t* dst = p.out + (p.cu_q != nullptr ? 0 : b * p.o_stride[0]) + t * p.o_stride[1] + head * p.o_stride[2];
  const int64_t base = row * p.num_splits;
  const float lse = merge_row(
      p.num_splits, dim, [&](int s) { return p.ws_lse[base + s]; },
      [&](int s, int d) { return p.ws_o[(base + s) * dim + d]; },
      [&](int d, float value) { dst[d] = float_to_16bit<kBf16>(value); });
  if (p.lse != nullptr && threadIdx.x % 32 == 0) {
    const int64_t at = p.cu_q != nullptr ? int64_t(head) * p.cu_q[batch] + t
                                         : (int64_t(b) * p.num_heads + head) * p.seqlen_q + query;
    p.lse[at] = lse;
  }
}

template <bool kBf16, int D, int DV, int kRowWarps, int kColWarps, int kTileK, bool kFp8, bool kShared>
void launch(const SparseParams& params, dim3 grid, cudaStream_t stream, const char* function) {
  using L = Layout<D, DV, kRowWarps, kColWarps, kTileK, kFp8, kShared>;
  const int smem = L::kEnd + params.list_cap * 4;
  launch_checked(sparse_kernel<kBf16, D, DV, kRowWarps, kColWarps, kTileK, kFp8, kShared>, grid, dim3(L::kThreads),
                 smem, stream, function, params);
}

// Instantiation choice: rows <= 16 take one row of warps (four column
// warps, 64-key tiles); more rows take four (two column warps; MLA then uses
// 32-key tiles so that Q, two tiles and the list fit in shared memory).
template <bool kBf16, int D, int DV, bool kFp8, bool kShared>
void launch_rows(const SparseProblem& pr, const SparseParams& params, dim3 grid, cudaStream_t s, const char* f) {
  if (pr.plan.rows <= 16) {
    launch<kBf16, D, DV, 1, 4, 64, kFp8, kShared>(params, grid, s, f);
  } else {
    launch<kBf16, D, DV, 4, 2, (D > 128 ? 32 : 64), kFp8, kShared>(params, grid, s, f);
  }
}

template <bool kBf16>
void launch_dtype(const SparseProblem& pr, const SparseParams& params, dim3 grid, cudaStream_t s, const char* f) {
  const bool fp8 = pr.kv.fp8();
  if (pr.mla()) {
    fp8 ? launch_rows<kBf16, 576, 512, true, true>(pr, params, grid, s, f)
        : launch_rows<kBf16, 576, 512, false, true>(pr, params, grid, s, f);
  } else if (pr.kv.head_dim == 128) {
    fp8 ? launch_rows<kBf16, 128, 128, true, false>(pr, params, grid, s, f)
        : launch_rows<kBf16, 128, 128, false, false>(pr, params, grid, s, f);
  } else {
    fp8 ? launch_rows<kBf16, 64, 64, true, false>(pr, params, grid, s, f)
        : launch_rows<kBf16, 64, 64, false, false>(pr, params, grid, s, f);
  }
}

}  // namespace

void launch_sparse_cuda(const SparseProblem& pr, void* stream, const char* function, SparsePath path) {
  require_cuda_device(function);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (path != SparsePath::kMmaSync) {
    int device = 0;
    cuda_check(cudaGetDevice(&device), function, "cudaGetDevice");
    if (sm90::device_supported(device) && sm90::sparse_mla_supported(pr)) {
      sm90::launch_sparse_mla(pr, s, function);
      return;
    }
    if (path == SparsePath::kSm90) {
      fail(SPATTN_ERR_UNSUPPORTED, std::string(function) +
                                       ": the sm_90a index-sparse kernel cannot run this problem on this device "
                                       "(it takes MLA 576/512 with a list per query token, one split, heads a "
                                       "multiple of 64, a 16-bit cache and topk <= 2048, on compute capability 9.0)");
    }
  }
  const SparseParams params = make_sparse_params(pr);
  const int64_t queries = pr.plan.per_query ? pr.seqlen_q : 1;
  const dim3 grid(unsigned(queries * pr.plan.num_splits), unsigned(pr.kv.num_kv_heads * pr.plan.row_tiles),
                  unsigned(pr.batch));
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  bf16 ? launch_dtype<true>(pr, params, grid, s, function) : launch_dtype<false>(pr, params, grid, s, function);
  if (pr.plan.num_splits > 1) {
    const int64_t rows = int64_t(pr.batch) * pr.seqlen_q * pr.num_heads;
    constexpr int kWarpsPerBlock = 4;
    const dim3 merge_grid(unsigned((rows + kWarpsPerBlock - 1) / kWarpsPerBlock));
    auto kernel = bf16 ? merge_splits_kernel<true> : merge_splits_kernel<false>;
    launch_checked(kernel, merge_grid, dim3(32 * kWarpsPerBlock), 0, s, function, params, pr.batch, pr.kv.head_dim_v);
  }
}

}  // namespace spattn::attention
