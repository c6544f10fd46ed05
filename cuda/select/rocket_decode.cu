// RocketKV's decode step (spattn_rocket_decode and its pieces). Rules:
// spattn.h; the CPU reference that makes the same decisions:
// src/attention/rocket_reference.cpp.
//
//  1. bounds: one CTA per (chunk of kRocketEntryChunk KT entries, KV head,
//     sequence). The CTA whose chunk holds the new token's entry first
//     updates it (the update piece alone runs update_kt). Every CTA ranks the
//     dims by the group's summed |q_d| (ties lower first) and keeps the top r;
//     each warp then loads its 4 entries' rows at once and scores them, lanes
//     over the dims: for each query head
//     u = c * sum_d (q_d > 0 ? q_d kmax_d : q_d kmin_d) (the per-head bound,
//     max(q kmin, q kmax) per dim), stored in log2 units; the chunk's maximum
//     and sum of exp2 per head go to the workspace.
//  2. select: one CTA per (KV head, sequence): each head's log-sum-exp from
//     the chunks, the group mean of the softmax per entry, the index-sparse
//     family's CTA top-k (cta_topk: ties lower first, increasing order), and
//     the tokens of the selected entries, -1 after them.
//  3. the index-sparse attention over those lists.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "attention/index_sparse_cuda.hpp"
#include "attention/rocket_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "select/kt_cache.cuh"
#include "select/topk.cuh"

namespace spattn::attention {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kEntriesPerWarp = kRocketEntryChunk / kWarps;
static_assert(kEntriesPerWarp * kWarps == kRocketEntryChunk, "a chunk is whole warps' entries");
constexpr int32_t kSelectSmemEntries = 8192;  // entry scores kept in shared memory (32 KB)
constexpr float kLog2e = 1.4426950408889634f;

struct DecodeParams {
  const uint16_t* q;
  int64_t q_stride[3];
  KvDevice kv;
  KtDevice kt;
  int32_t num_heads, num_kv_heads, group, page, topk, topr, max_entries, entry_chunks, max_selected;
  float c_log2;  // softmax_scale * log2(e): bounds in log2 units
  float k_scale;
  int32_t kv_fp8, q_bf16;
  float* bounds;        // [batch][num_heads][max_entries]
  float2* chunk_stats;  // [batch][num_heads][entry_chunks]
  float* entry_scores;  // [batch][kv heads][max_entries]
  int32_t* top_entries; // [batch][kv heads][topk]
  int32_t* lists;       // [batch][kv heads][max_selected]
};

__device__ __forceinline__ float q_value(const DecodeParams& p, int b, int head, int d) {
  const uint16_t bits = p.q[b * p.q_stride[0] + head * p.q_stride[2] + d];
  return p.q_bf16 ? __bfloat162float(__ushort_as_bfloat16(bits)) : __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ float key_value(const DecodeParams& p, const uint8_t* row, int d) {
  if (p.kv_fp8) return e4m3_to_float(row[d]) * p.k_scale;
  const uint16_t bits = reinterpret_cast<const uint16_t*>(row)[d];
  return p.q_bf16 ? __bfloat162float(__ushort_as_bfloat16(bits)) : __half2float(__ushort_as_half(bits));
}

// The KT entry of the new token (position len - 1) of KV head g takes its
// key in: threads over the dims of a row of `dim` keys.
template <bool kE5m2>
__device__ __forceinline__ void update_entry(const DecodeParams& p, int b, int g, int len, int dim) {
  const int e = (len - 1) / p.page;
  uint8_t* row = kt_row(p.kt, b, e, g);
  int64_t k_off, v_off;
  if (row == nullptr || !kv_row(p.kv, b, len - 1, k_off, v_off)) return;
  const uint8_t* key = p.kv.k + g * p.kv.k_stride[2] + k_off;
  const bool fresh = (len - 1) % p.page == 0;
  for (int d = threadIdx.x; d < dim; d += blockDim.x) {
    const float k = key_value(p, key, d);
    const float lo = fresh ? k : fminf(kt_load<kE5m2>(row, d), k);
    const float hi = fresh ? k : fmaxf(kt_load<kE5m2>(row, dim + d), k);
    kt_store<kE5m2>(row, d, lo);
    kt_store<kE5m2>(row, dim + d, hi);
  }
}

template <bool kE5m2>
__global__ void __launch_bounds__(128) update_kt_kernel(const DecodeParams p, int32_t dim) {
  const int g = blockIdx.x, b = blockIdx.y;
  const int len = kv_seqlen(p.kv, b);
  if (len > 0) update_entry<kE5m2>(p, b, g, len, dim);
}

// Entries [chunk * kRocketEntryChunk, ...) of KV head g: see the top of the file.
template <int D, bool kE5m2>
__global__ void __launch_bounds__(kThreads) bounds_kernel(const DecodeParams p, int32_t update) {
  constexpr int kDims = D / 32;  // dims per lane
  extern __shared__ float q_smem[];  // [group][D], zero outside the top r dims
  __shared__ float mass[D];
  __shared__ float2 warp_stats[kWarps][32];  // per warp and head (heads in groups of 32)
  const int chunk = blockIdx.x, g = blockIdx.y, b = blockIdx.z;
  const int G = p.group;
  const int len = kv_seqlen(p.kv, b);
  const int n = (len + p.page - 1) / p.page;
  const int e0 = chunk * kRocketEntryChunk, e1 = min(n, e0 + kRocketEntryChunk);
  if (e0 >= e1) return;
  if (update && (len - 1) / p.page >= e0 && (len - 1) / p.page < e1) update_entry<kE5m2>(p, b, g, len, D);

  for (int i = threadIdx.x; i < G * D; i += blockDim.x) q_smem[i] = q_value(p, b, g * G + i / D, i % D);
  __syncthreads();  // also makes the updated entry visible to the block
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float m = 0.0f;
    for (int h = 0; h < G; ++h) m += fabsf(q_smem[h * D + d]);
    mass[d] = m;
  }
  __syncthreads();
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    int rank = 0;
    for (int x = 0; x < D; ++x) rank += (mass[x] > mass[d] || (mass[x] == mass[d] && x < d)) ? 1 : 0;
    if (rank >= p.topr) {
      for (int h = 0; h < G; ++h) q_smem[h * D + d] = 0.0f;
    }
  }
  __syncthreads();

  // Each warp scores kEntriesPerWarp consecutive entries, their rows loaded
  // first (one memory latency per warp); lane l holds dims [l kDims, l kDims + kDims).
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int ew = e0 + warp * kEntriesPerWarp;
  float lo[kEntriesPerWarp][kDims], hi[kEntriesPerWarp][kDims];
#pragma unroll
  for (int k = 0; k < kEntriesPerWarp; ++k) {
    const uint8_t* row = ew + k < e1 ? kt_row(p.kt, b, ew + k, g) : nullptr;
#pragma unroll
    for (int i = 0; i < kDims; ++i) {
      lo[k][i] = row != nullptr ? kt_load<kE5m2>(row, lane * kDims + i) : 0.0f;
      hi[k][i] = row != nullptr ? kt_load<kE5m2>(row, D + lane * kDims + i) : 0.0f;
    }
  }
  for (int h0 = 0; h0 < G; h0 += 32) {  // heads in groups of 32: one stats slot per lane
    float m_run = -INFINITY, z_run = 0.0f;  // lane h - h0's head, over this warp's entries
    for (int h = h0; h < min(G, h0 + 32); ++h) {
      float qd[kDims];
#pragma unroll
      for (int i = 0; i < kDims; ++i) qd[i] = q_smem[h * D + lane * kDims + i];
#pragma unroll
      for (int k = 0; k < kEntriesPerWarp; ++k) {
        float u = 0.0f;
#pragma unroll
        for (int i = 0; i < kDims; ++i) u += qd[i] > 0.0f ? qd[i] * hi[k][i] : qd[i] * lo[k][i];
#pragma unroll
        for (int x = 16; x >= 1; x /= 2) u += __shfl_xor_sync(0xffffffffu, u, x);
        u *= p.c_log2;
        if (lane == h - h0 && ew + k < e1) {
          p.bounds[(int64_t(b) * p.num_heads + g * G + h) * p.max_entries + ew + k] = u;
          const float m_new = fmaxf(m_run, u);
          z_run = z_run * exp2f(m_run - m_new) + exp2f(u - m_new);
          m_run = m_new;
        }
      }
    }
    warp_stats[warp][lane] = make_float2(m_run, z_run);
    __syncthreads();
    if (threadIdx.x < 32 && h0 + int(threadIdx.x) < G) {
      float m = -INFINITY;
      for (int w = 0; w < kWarps; ++w) m = fmaxf(m, warp_stats[w][threadIdx.x].x);
      float z = 0.0f;
      for (int w = 0; w < kWarps; ++w) {
        const float2 st = warp_stats[w][threadIdx.x];
        if (st.y > 0.0f) z += st.y * exp2f(st.x - m);
      }
      p.chunk_stats[(int64_t(b) * p.num_heads + g * G + h0 + threadIdx.x) * p.entry_chunks + chunk] = make_float2(m, z);
    }
    __syncthreads();
  }
}

// Per (KV head, sequence): the group mean of the heads' softmax over the
// entries (into the workspace), the top entries, and their tokens.
__global__ void __launch_bounds__(kThreads) select_kernel(const DecodeParams p, int32_t smem_entries) {
  extern __shared__ float head_lse[];  // [group] log2 units, then up to smem_entries scores
  __shared__ TopkShared<kThreads> sh;
  const int g = blockIdx.x, b = blockIdx.y, G = p.group;
  const int len = kv_seqlen(p.kv, b);
  const int n = (len + p.page - 1) / p.page;
  const int chunks = (n + kRocketEntryChunk - 1) / kRocketEntryChunk;
  for (int h = threadIdx.x; h < G; h += blockDim.x) {
    const float2* st = p.chunk_stats + (int64_t(b) * p.num_heads + g * G + h) * p.entry_chunks;
    float m = -INFINITY;
    for (int c = 0; c < chunks; ++c) m = fmaxf(m, st[c].x);
    float z = 0.0f;
    for (int c = 0; c < chunks; ++c) z += st[c].y * exp2f(st[c].x - m);
    head_lse[h] = m + log2f(z);
  }
  __syncthreads();
  const float inv_g = 1.0f / float(G);
  const int64_t row = int64_t(b) * p.num_kv_heads + g;
  // The scores stay in shared memory when they fit (the top-k reads them
  // once per radix pass), else in the workspace.
  float* scores = n <= smem_entries ? head_lse + G : p.entry_scores + row * p.max_entries;
  for (int e = threadIdx.x; e < n; e += blockDim.x) {
    float s = 0.0f;
    for (int h = 0; h < G; ++h) {
      s += exp2f(p.bounds[(int64_t(b) * p.num_heads + g * G + h) * p.max_entries + e] - head_lse[h]);
    }
    scores[e] = s * inv_g;
  }
  __syncthreads();  // shared or the block's own global writes: visible after the barrier
  int32_t* top = p.top_entries + row * p.topk;
  cta_topk<kThreads>([&](int j) { return scores[j]; }, n, p.topk, false, top, sh);
  __syncthreads();
  int32_t* list = p.lists + row * p.max_selected;
  for (int t = threadIdx.x; t < p.max_selected; t += blockDim.x) {
    const int e = len > 0 ? top[t / p.page] : -1;  // an empty sequence selected nothing
    const int token = e * p.page + t % p.page;
    list[t] = e >= 0 && token < len ? token : -1;
  }
}

DecodeParams decode_params(const RocketDecodeProblem& pr, int32_t* lists) {
  DecodeParams p;
  p.q = static_cast<const uint16_t*>(pr.q.data);
  p.q_stride[0] = pr.q.batch_stride;
  p.q_stride[1] = pr.q.token_stride;
  p.q_stride[2] = pr.q.head_stride;
  p.kv = kv_device(pr.kv);
  p.kt = kt_device(pr.kt);
  p.num_heads = pr.num_heads;
  p.num_kv_heads = pr.kv.num_kv_heads;
  p.group = pr.plan.group;
  p.page = pr.rocket.page;
  p.topk = pr.rocket.topk;
  p.topr = pr.rocket.topr;
  p.max_entries = pr.plan.max_entries;
  p.entry_chunks = pr.plan.entry_chunks;
  p.max_selected = pr.plan.max_selected;
  p.c_log2 = pr.softmax_scale * kLog2e;
  p.k_scale = pr.kv.k_scale;
  p.kv_fp8 = pr.kv.fp8() ? 1 : 0;
  p.q_bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16 ? 1 : 0;
  uint8_t* ws = static_cast<uint8_t*>(pr.workspace);
  p.bounds = reinterpret_cast<float*>(ws + pr.plan.bounds);
  p.chunk_stats = reinterpret_cast<float2*>(ws + pr.plan.chunk_stats);
  p.entry_scores = reinterpret_cast<float*>(ws + pr.plan.entry_scores);
  p.top_entries = reinterpret_cast<int32_t*>(ws + pr.plan.top_entries);
  p.lists = lists;
  return p;
}

void run_select(const RocketDecodeProblem& pr, const DecodeParams& p, bool update, cudaStream_t s,
                const char* function) {
  if (pr.plan.max_entries > 0) {  // else every sequence is empty: the lists are all -1
    const int q_bytes = pr.plan.group * pr.kv.head_dim * int(sizeof(float));
    const dim3 grid(pr.plan.entry_chunks, pr.kv.num_kv_heads, pr.batch);
    const bool e5m2 = pr.kt.e5m2();
    auto kernel = pr.kv.head_dim == 128 ? (e5m2 ? bounds_kernel<128, true> : bounds_kernel<128, false>)
                                        : (e5m2 ? bounds_kernel<64, true> : bounds_kernel<64, false>);
    launch_checked(kernel, grid, dim3(kThreads), q_bytes, s, function, p, int32_t(update));
  }
  const int32_t smem_entries = std::min(pr.plan.max_entries, kSelectSmemEntries);
  launch_checked(select_kernel, dim3(pr.kv.num_kv_heads, pr.batch), dim3(kThreads),
                 (pr.plan.group + smem_entries) * int(sizeof(float)), s, function, p, smem_entries);
}

}  // namespace

void launch_rocket_decode_cuda(const RocketDecodeProblem& pr, RocketDecodePiece piece, void* stream,
                               const char* function) {
  require_cuda_device(function);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  int32_t* lists = pr.selected_indices != nullptr
                       ? pr.selected_indices
                       : reinterpret_cast<int32_t*>(static_cast<uint8_t*>(pr.workspace) + pr.plan.selected);
  const DecodeParams p = decode_params(pr, lists);
  if (piece == RocketDecodePiece::kUpdateKt) {
    launch_checked(pr.kt.e5m2() ? update_kt_kernel<true> : update_kt_kernel<false>, dim3(pr.kv.num_kv_heads, pr.batch),
                   dim3(128), 0, s, function, p, int32_t(pr.kv.head_dim));
  }
  if (piece == RocketDecodePiece::kAll || piece == RocketDecodePiece::kSelect) {
    run_select(pr, p, piece == RocketDecodePiece::kAll, s, function);
  }
  if (piece == RocketDecodePiece::kAll || piece == RocketDecodePiece::kAttend) {
    SparseProblem attention =
        rocket_attention(pr, lists, static_cast<uint8_t*>(pr.workspace) + pr.plan.attention);
    launch_sparse_cuda(attention, s, function);
  }
}

}  // namespace spattn::attention
