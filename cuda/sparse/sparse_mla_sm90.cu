// Index-sparse MLA attention on Hopper (sm_90a): wgmma with both operands in
// shared memory, for DSA's prefill shape (a list per query token, 576-dim
// queries and latent keys, values = the first 512 dims, bf16/fp16 caches,
// heads a multiple of 64, one split).
//
// One CTA = one query token x 64 heads, 256 threads = two warpgroups. Shared
// memory (128-byte swizzle, 64-dim column blocks of [64 rows][64] atoms):
// Q [64 heads][576], two stages of gathered keys [64 keys][576] (the values
// are their first 512 dims), P [64][64]. Per block of 64 listed keys:
//  A. the block's rows landed (cp.async, issued one block ahead by all 256
//     threads, which then also publish the keys of the block after next);
//  B. warpgroup w computes S = Q K^T for keys 32w .. 32w + 31 (m64n32k16, 36
//     k-steps), masks them, and the two warpgroups exchange row maxima;
//  C. online softmax; each warpgroup writes its half of P (bf16/fp16);
//  D. warpgroup w accumulates O[:, 256w .. 256w + 255] += P V over all 64
//     keys (m64n256k16, 4 k-steps).
// The list is first put in increasing key order (cuda/sparse/index_list.cuh,
// using a K stage as scratch) and kept in registers, 8 entries per thread.
// The semantics are those of the mma.sync kernel (cuda/sparse/sparse_attention.cu).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/index_sparse_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "common/sm90_ptx.cuh"
#include "sparse/index_list.cuh"
#include "sparse/sm90_mla_mma.cuh"
#include "sparse/sparse_mla_sm90.hpp"
#include "sparse/sparse_params.cuh"

namespace spattn::attention::sm90 {
namespace {

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SPATTN_MLA_SM90_DEVICE 1
#else
#define SPATTN_MLA_SM90_DEVICE 0
#endif

constexpr int kThreads = 256;
constexpr int kRows = 64;          // heads per CTA
constexpr int kBlock = 64;         // keys per block
[[maybe_unused]] constexpr int kD = 576, kDV = 512;
[[maybe_unused]] constexpr int kChunks = kD * 2 / 16;             // 16-byte chunks of a row: 72
constexpr int kColBlock = 64 * 128;              // one 64-dim column block of 64 rows: 8 KiB
constexpr int kTile = (kD / 64) * kColBlock;     // [64][576]: 72 KiB
constexpr int kListSlots = kMaxSm90TopK / kThreads;  // list entries kept per thread

// Shared memory (bytes; tiles 1024-byte aligned).
constexpr int kQ = 0;
constexpr int kK = kQ + kTile;
constexpr int kP = kK + 2 * kTile;
constexpr int kOk = kP + kRows * 128;            // [2][64] bytes: a key row is valid
constexpr int kKeys = kOk + 2 * kBlock;          // [2][64] int32: keys of the blocks being gathered
constexpr int kMax = kKeys + 2 * kBlock * 4;     // [2][64] f32: each warpgroup's row maxima
constexpr int kSum = kMax + 2 * kRows * 4;       // [2][64] f32: row sums
constexpr int kScratch = kSum + 2 * kRows * 4;   // one int
constexpr int kSmemBytes = kScratch + 16;
static_assert(kSmemBytes <= 227 * 1024, "fits an H100/H200 SM");
static_assert(kListSlots == 8, "publish() selects among eight list registers");

// Byte offset of 16-byte chunk `chunk` of row `row` in a [64][576] tile.
[[maybe_unused]] __device__ __forceinline__ uint32_t tile_offset(int row, int chunk) {
  return uint32_t((chunk >> 3) * kColBlock + (row >> 3) * 1024 + (row & 7) * 128 + (((chunk & 7) ^ (row & 7)) << 4));
}

[[maybe_unused]] __device__ __forceinline__ void fence_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

template <bool kBf16>
__global__ void __launch_bounds__(kThreads, 1) sparse_mla_kernel(const SparseParams p) {
#if SPATTN_MLA_SM90_DEVICE
  using M = MlaMma<kBf16>;
  extern __shared__ __align__(1024) uint8_t smem[];
  uint8_t* ok_stage = smem + kOk;
  int32_t* keys_stage = reinterpret_cast<int32_t*>(smem + kKeys);
  float* part_max = reinterpret_cast<float*>(smem + kMax);
  float* part_sum = reinterpret_cast<float*>(smem + kSum);

  const int qi = blockIdx.x;
  const int h0 = blockIdx.y * kRows;
  const int b = blockIdx.z;
  int lq = p.seqlen_q, t0 = 0;
  if (p.cu_q != nullptr) {
    t0 = p.cu_q[b];
    lq = min(max(p.cu_q[b + 1] - t0, 0), p.seqlen_q);
  }
  if (qi >= lq) return;
  const int lk = kv_seqlen(p.kv, b);
  const int64_t t = p.cu_q != nullptr ? int64_t(t0) + qi : qi;
  const int last_key = p.causal ? qi + lk - lq : 0x7fffffff;
  const int tid = threadIdx.x;

  // The list, in increasing order, into registers: entry tid + 256 s in slot s.
  int32_t* scratch = reinterpret_cast<int32_t*>(smem + kK);
  const int32_t* src = p.lists + b * p.list_stride[0] + t * p.list_stride[1];
  const int count = load_index_list<kThreads>(src, p.topk, p.list_cap, lk, scratch,
                                              reinterpret_cast<int*>(smem + kScratch));
  int32_t mine[kListSlots];
#pragma unroll
  for (int s = 0; s < kListSlots; ++s) {
    const int pos = tid + kThreads * s;
    mine[s] = pos < count ? scratch[pos] : kListHole;
  }
  __syncthreads();  // the scratch (a K stage) is free again
  const int n_blocks = (count + kBlock - 1) / kBlock;
  // Publishes the keys of block `blk` (held by threads 64 (blk % 4) ..).
  auto publish = [&](int blk) {
    if ((tid >> 6) == (blk & 3)) {
      // Slot blk / 4 of 8, by a tree of selects (an indexed read would put
      // `mine` in local memory).
      const int slot = blk >> 2;
      const int32_t a01 = (slot & 1) ? mine[1] : mine[0], a23 = (slot & 1) ? mine[3] : mine[2];
      const int32_t a45 = (slot & 1) ? mine[5] : mine[4], a67 = (slot & 1) ? mine[7] : mine[6];
      const int32_t a03 = (slot & 2) ? a23 : a01, a47 = (slot & 2) ? a67 : a45;
      keys_stage[(blk & 1) * kBlock + (tid & 63)] = (slot & 4) ? a47 : a03;
    }
  };
  // Gathers block `blk`'s rows (and their validity) into its stage.
  auto gather = [&](int blk) {
    const int stage = blk & 1;
    const uint32_t dst = smem_u32(smem + kK + stage * kTile);
    for (int i = tid; i < kBlock * kChunks; i += kThreads) {
      const int row = i / kChunks, chunk = i % kChunks;
      const int32_t key = keys_stage[stage * kBlock + row];
      int64_t k_off = 0, v_off = 0;
      const bool ok = key != kListHole && key <= last_key && kv_row(p.kv, b, key, k_off, v_off);
      cp_async_16(dst + tile_offset(row, chunk), ok ? p.kv.k + k_off + chunk * 16 : p.kv.k, ok ? 16 : 0);
      if (chunk == 0) ok_stage[stage * kBlock + row] = ok ? 1 : 0;
    }
  };
  if (n_blocks > 0) publish(0);
  if (n_blocks > 1) publish(1);
  __syncthreads();
  {
    const uint16_t* qrow = p.q + (p.cu_q != nullptr ? 0 : b * p.q_stride[0]) + t * p.q_stride[1];
    const uint32_t dst = smem_u32(smem + kQ);
    for (int i = tid; i < kRows * kChunks; i += kThreads) {
      const int row = i / kChunks, chunk = i % kChunks;
      cp_async_16(dst + tile_offset(row, chunk), qrow + int64_t(h0 + row) * p.q_stride[2] + chunk * 8, 16);
    }
  }
  if (n_blocks > 0) gather(0);
  cp_async_commit();

  const int wg = tid / 128, warp = (tid % 128) / 32, lane = tid % 32;
  const int r0 = warp * 16 + lane / 4, r1 = r0 + 8;  // this thread's rows (heads h0 + r)
  const int quad_col = (lane % 4) * 2;
  const uint64_t q_desc = smem_desc_sw128(smem_u32(smem + kQ), 16, 1024);
  const uint64_t p_desc = smem_desc_sw128(smem_u32(smem + kP), 16, 1024);
  float o[128];
#pragma unroll
  for (int i = 0; i < 128; ++i) o[i] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};

  for (int blk = 0; blk < n_blocks; ++blk) {
    const int stage = blk & 1;
    cp_async_wait<0>();
    fence_async_shared();
    __syncthreads();  // A: block blk landed, P and the other stage free
    if (blk + 1 < n_blocks) gather(blk + 1);
    cp_async_commit();
    if (blk + 2 < n_blocks) publish(blk + 2);

    // B. S = Q K^T for this warpgroup's 32 keys.
    float s[16];
    const uint32_t k_base = smem_u32(smem + kK + stage * kTile + wg * 32 * 128);
    const uint64_t k_desc = smem_desc_sw128(k_base, 16, 1024);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < kD / 16; ++kk) {
      const uint64_t off = uint64_t(((kk / 4) * kColBlock + (kk % 4) * 32) >> 4);
      M::qk(s, q_desc + off, k_desc + off, kk > 0 ? 1 : 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    const uint8_t* ok = ok_stage + stage * kBlock;
    float pm[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = wg * 32 + j * 8 + quad_col + (e & 1);
        if (!ok[key]) s[4 * j + e] = -INFINITY;
        pm[e >> 1] = fmaxf(pm[e >> 1], s[4 * j + e]);
      }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 1));
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 2));
      pm[i] *= p.scale_log2;
    }
    if ((lane & 3) == 0) {
      part_max[wg * kRows + r0] = pm[0];
      part_max[wg * kRows + r1] = pm[1];
    }
    __syncthreads();  // B: both warpgroups' row maxima

    // C. Online softmax with the block's maximum; this warpgroup's half of P.
    float m_use[2];
    const int rows[2] = {r0, r1};
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float tile_max = fmaxf(part_max[rows[i]], part_max[kRows + rows[i]]);
      const float alpha = online_softmax_rescale(m_run[i], l_run[i], tile_max, m_use[i]);
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        o[4 * j + 2 * i] *= alpha;
        o[4 * j + 2 * i + 1] *= alpha;
      }
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float p0 = softmax_weight(s[4 * j + 0], p.scale_log2, m_use[0]);
      const float p1 = softmax_weight(s[4 * j + 1], p.scale_log2, m_use[0]);
      const float p2 = softmax_weight(s[4 * j + 2], p.scale_log2, m_use[1]);
      const float p3 = softmax_weight(s[4 * j + 3], p.scale_log2, m_use[1]);
      l_run[0] += p0 + p1;
      l_run[1] += p2 + p3;
      const int chunk = wg * 4 + j;  // 8-key chunk of the 64-key row
      uint8_t* prow0 = smem + kP + (r0 >> 3) * 1024 + (r0 & 7) * 128 + ((chunk ^ (r0 & 7)) << 4) + quad_col * 2;
      uint8_t* prow1 = smem + kP + (r1 >> 3) * 1024 + (r1 & 7) * 128 + ((chunk ^ (r1 & 7)) << 4) + quad_col * 2;
      *reinterpret_cast<uint32_t*>(prow0) = pack_pair<kBf16>(p0, p1);
      *reinterpret_cast<uint32_t*>(prow1) = pack_pair<kBf16>(p2, p3);
    }
    fence_async_shared();
    __syncthreads();  // C: P complete

    // D. O[:, 256 wg ..] += P V over the block's 64 keys.
    const uint64_t v_desc = smem_desc_sw128(smem_u32(smem + kK + stage * kTile + wg * 4 * kColBlock), kColBlock, 1024);
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kBlock / 16; ++ks) {
      M::pv(o, p_desc + uint64_t((ks * 32) >> 4), v_desc + uint64_t((ks * 2 * 1024) >> 4), 1);
    }
    wgmma_commit();
    wgmma_wait<0>();
  }
  cp_async_wait<0>();

  // Epilogue: the row sums of both warpgroups' keys; normalize and store.
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
  }
  if ((lane & 3) == 0) {
    part_sum[wg * kRows + r0] = l_run[0];
    part_sum[wg * kRows + r1] = l_run[1];
  }
  __syncthreads();
  const int rows[2] = {r0, r1};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const float l = part_sum[rows[i]] + part_sum[kRows + rows[i]];
    const float f = l > 0.0f ? p.v_scale / l : 0.0f;
    const int head = h0 + rows[i];
    uint16_t* dst = p.out + (p.cu_q != nullptr ? 0 : b * p.o_stride[0]) + t * p.o_stride[1] + head * p.o_stride[2] +
                    wg * (kDV / 2);
#pragma unroll
    for (int j = 0; j < 32; ++j) {
      *reinterpret_cast<uint32_t*>(dst + j * 8 + quad_col) = pack_pair<kBf16>(o[4 * j + 2 * i] * f, o[4 * j + 2 * i + 1] * f);
    }
    if (wg == 0 && (lane & 3) == 0 && p.lse != nullptr) {
      const int64_t at = p.cu_q != nullptr ? int64_t(head) * p.cu_q[gridDim.z] + t
                                           : (int64_t(b) * p.num_heads + head) * p.seqlen_q + qi;
      p.lse[at] = row_lse(m_run[i], l);
    }
  }
#endif
}

}  // namespace

bool sparse_mla_supported(const SparseProblem& pr) {
#ifdef SPATTN_BUILT_SM90A
  return pr.mla() && pr.plan.per_query && pr.plan.num_splits == 1 && pr.num_heads % kRows == 0 &&
         !pr.kv.fp8() && pr.lists.topk <= kMaxSm90TopK && pr.num_heads / kRows <= 65535;
#else
  (void)pr;
  return false;
#endif
}

void launch_sparse_mla(const SparseProblem& pr, cudaStream_t stream, const char* function) {
  const SparseParams p = make_sparse_params(pr);
  const dim3 grid(unsigned(pr.seqlen_q), unsigned(pr.num_heads / kRows), unsigned(pr.batch));
  if (pr.dtype == SPATTN_DTYPE_BFLOAT16) {
    launch_checked(sparse_mla_kernel<true>, grid, dim3(kThreads), kSmemBytes, stream, function, p);
  } else {
    launch_checked(sparse_mla_kernel<false>, grid, dim3(kThreads), kSmemBytes, stream, function, p);
  }
}

}  // namespace spattn::attention::sm90
