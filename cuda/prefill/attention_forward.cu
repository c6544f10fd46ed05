// Skip-softmax (BLASST) flash-attention forward pass, FlashAttention-2 style:
// mma.sync m16n8k16 (bf16/fp16 in, fp32 accumulate), ldmatrix, cp.async
// double buffering of K and V in separate copy groups, two barriers per tile.
//
// One CTA = one query tile of 128 rows (= SPATTN_SKIP_TILE_QUERIES) of one
// (batch, head); 8 warps, 16 rows each. KV tiles of 128 keys
// (= SPATTN_SKIP_TILE_KEYS), so the compute tiles are the decision tiles.
// Per KV tile: S = Q K^T for the whole tile, row maxima, then one CTA-wide
// vote (__syncthreads_and) on the skip rule; a skipped tile does no exp and
// no P.V and leaves the running max unchanged.
//
// Numerics shared with src/attention/attention_reference.cpp: raw logits in
// fp32; scaled logits in log2 units, l = s * softmax_scale * log2(e); the
// tile row max is rowmax(s) * c; skip when rowmax_l - m_running <
// (float)log2(threshold / Lk) for every valid row of the tile.
//
// The Model Optimizer extras (kExtras instantiations only; the dense
// instantiations compile exactly the code they had; rules in
// src/attention/sparse_softmax.hpp, applied by prune_nm / round_p_block of
// common/kernel_common.cuh, which the sm_90a kernel shares): on a kept tile, after
// the vote,
//  - N:M sparse softmax prunes raw logits to -inf. In the m16n8k16
//    accumulator a lane holds columns 2*(lane%4) and +1 of each 8-key n-tile
//    for rows lane/4 and lane/4 + 8, so a group of 4 keys is a lane pair
//    (lanes 4r+0/1 or 4r+2/3) and a group of 8 keys is the quad: each lane
//    ranks its two scores against the partners' through __shfl_xor_sync
//    (mask 1; or 1, 2 and 3). The row maxima (and so the vote) are those of
//    the unpruned logits: a group's largest score is never pruned.
//  - NVFP4 P: the row sums take P unrounded; then, before P becomes the A
//    operand of P.V, each 16-key block (n-tiles 2kc and 2kc+1, the quad's
//    four lanes holding four values of each row) gets its row's block max
//    from two xor shuffles within the quad, and its values are rounded.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "attention/attention_cuda.hpp"
#include "attention/skip_rule.hpp"
#include "attention/sparse_softmax.hpp"
#include "prefill/attention_forward_sm90.hpp"
#include "core/error.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"

namespace spattn::attention {
namespace {

constexpr int kTileQ = SPATTN_SKIP_TILE_QUERIES;
constexpr int kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr int kWarps = kTileQ / 16;
constexpr int kThreads = kWarps * 32;

struct KernelParams {
  const uint16_t* q;
  const uint16_t* k;
  const uint16_t* v;
  uint16_t* out;
  int64_t q_stride[3];  // batch, token, head
  int64_t k_stride[3];
  int64_t v_stride[3];
  int64_t o_stride[3];
  const int32_t* cu_q;
  const int32_t* cu_kv;
  int32_t num_heads;
  int32_t heads_per_kv;
  int32_t seqlen_q;
  int32_t seqlen_kv;
  int32_t causal;
  float scale_log2;
  double threshold;
  float* lse;
  unsigned long long* counters;
  int32_t skip_seqlen_kv;  // > 0: the L_kv of lambda (skip_length)
  // Chunked prefill over a 16-bit KV cache: K/V rows and each sequence's key
  // count come from `kv` (k, v, cu_kv unused).
  int32_t has_cache;
  KvDevice kv;
  // Extras (read by the kExtras instantiations only).
  int32_t nm_m;  // N:M sparse softmax: 0 (off), 4 or 8
  NmRule nm;
  int32_t quantize_p;
  uint8_t* decisions;  // test hook (Problem::tile_decisions), null in production
};

// Async copy of rows [0, valid_rows) of a strided tile into smem; rows past
// valid_rows are zero-filled.
template <int D>
__device__ __forceinline__ void load_tile(uint16_t* smem, const uint16_t* src, int64_t row_stride,
                                          int valid_rows) {
  constexpr int kChunks = D / 8;
  const uint32_t base = smem_addr(smem);
#pragma unroll
  for (int it = 0; it < 128 * kChunks / kThreads; ++it) {
    const int i = it * kThreads + threadIdx.x;
    const int row = i / kChunks;
    const int chunk = i % kChunks;
    const bool ok = row < valid_rows;
    const uint16_t* from = ok ? src + row * row_stride + chunk * 8 : src;
    cp_async_16(base + 2u * swizzled<D>(row, chunk * 8), from, ok ? 16 : 0);
  }
}

struct Sequence {
  int32_t lq, lk;
  int64_t q_offset, k_offset, v_offset, o_offset;  // elements, to row 0 of this (batch, head)
  int64_t q_token0;                                // token of row 0 on the packed axis
};

__device__ __forceinline__ Sequence sequence_of(const KernelParams& p, int b, int head) {
  Sequence s;
  const int kv_head = head / p.heads_per_kv;
  int64_t q_tok = 0, kv_tok = 0, q_b = b, kv_b = b;
  if (p.has_cache) {  // keys from the cache; queries fixed or packed
    s.lk = kv_seqlen(p.kv, b);
    s.lq = p.seqlen_q;
    if (p.cu_q != nullptr) {
      q_tok = p.cu_q[b];
      s.lq = min(p.cu_q[b + 1] - p.cu_q[b], p.seqlen_q);
      q_b = 0;
    }
  } else if (p.cu_q != nullptr) {
    const PackedSequence packed = packed_sequence(p.cu_q, p.cu_kv, b, p.seqlen_q, p.seqlen_kv);
    q_tok = packed.q_token0;
    kv_tok = packed.kv_token0;
    s.lq = packed.lq;
    s.lk = packed.lk;
    q_b = kv_b = 0;
  } else {
    s.lq = p.seqlen_q;
    s.lk = p.seqlen_kv;
  }
  s.q_token0 = q_tok;
  s.q_offset = q_b * p.q_stride[0] + q_tok * p.q_stride[1] + head * p.q_stride[2];
  s.o_offset = q_b * p.o_stride[0] + q_tok * p.o_stride[1] + head * p.o_stride[2];
  s.k_offset = kv_b * p.k_stride[0] + kv_tok * p.k_stride[1] + kv_head * p.k_stride[2];
  s.v_offset = kv_b * p.v_stride[0] + kv_tok * p.v_stride[1] + kv_head * p.v_stride[2];
  return s;
}

// ---------------------------------------------------------------------------
// The kernel

template <bool kBf16, int D, bool kExtras>
__global__ void __launch_bounds__(kThreads, 1) attention_forward_kernel(const KernelParams p) {
  using E = Elem<kBf16>;
  constexpr int kKChunks = D / 16;  // k-steps of Q K^T
  constexpr int kNTiles = kTileK / 8;  // 8-key column tiles of S
  constexpr int kDTiles = D / 8;       // 8-wide column tiles of O

  extern __shared__ __align__(128) uint16_t smem[];
  // Layout: Q, K buffer 0, K buffer 1, V buffer 0, V buffer 1.
  uint16_t* q_smem = smem;
  auto k_smem = [&](int b) { return smem + (1 + b) * 128 * D; };
  auto v_smem = [&](int b) { return smem + (3 + b) * 128 * D; };
  uint8_t* key_ok = reinterpret_cast<uint8_t*>(smem + 5 * 128 * D);  // [2][128], cache mode: bad pages

  const int q_tile = gridDim.x - 1 - blockIdx.x;  // longest (causal) tiles first
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const Sequence seq = sequence_of(p, batch, head);
  const int q0 = q_tile * kTileQ;
  if (q0 >= seq.lq) return;
  const int rows = min(kTileQ, seq.lq - q0);
  const int causal_shift = seq.lk - seq.lq;  // row i sees keys <= i + shift
  const int visible = p.causal ? min(seq.lk, q0 + rows + causal_shift) : seq.lk;
  const int n_tiles = visible > 0 ? (visible + kTileK - 1) / kTileK : 0;
  const float log2_lambda = skip_log2_lambda(p.threshold, skip_length(p.skip_seqlen_kv, seq.lk));
  const int kv_head = head / p.heads_per_kv;
  // K or V rows [key0, key0 + 128) into a buffer: strided, or from the cache.
  auto load_keys = [&](int buf, int key0) {
    if (p.has_cache) {
      load_kv_tile<D, 2, kThreads, false>(p.kv, batch, kv_head, key0, seq.lk, reinterpret_cast<uint8_t*>(k_smem(buf)),
                                          key_ok + buf * kTileK);
    } else {
      load_tile<D>(k_smem(buf), p.k + seq.k_offset + key0 * p.k_stride[1], p.k_stride[1], seq.lk - key0);
    }
  };
  auto load_values = [&](int buf, int key0) {
    if (p.has_cache) {
      load_kv_tile<D, 2, kThreads, true>(p.kv, batch, kv_head, key0, seq.lk, reinterpret_cast<uint8_t*>(v_smem(buf)),
                                         nullptr);
    } else {
      load_tile<D>(v_smem(buf), p.v + seq.v_offset + key0 * p.v_stride[1], p.v_stride[1], seq.lk - key0);
    }
  };

  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int row_in_warp = lane / 4;   // rows row_in_warp and row_in_warp + 8 of the warp
  const int col_in_quad = (lane % 4) * 2;
  const int row0 = q0 + warp * 16 + row_in_warp;  // sequence rows of this thread
  const int row1 = row0 + 8;

  // Copy groups, in commit order: {Q, K0}, {V0}, then per tile t: {K[t+1]}
  // at its start and {V[t+1]} after its vote barrier (empty groups keep the
  // count uniform).
  if (n_tiles > 0) {
    load_tile<D>(q_smem, p.q + seq.q_offset + q0 * p.q_stride[1], p.q_stride[1], rows);
    load_keys(0, 0);
  }
  cp_async_commit();
  if (n_tiles > 0) load_values(0, 0);
  cp_async_commit();

  uint32_t qa[kKChunks][4];
  float o[kDTiles][4];
#pragma unroll
  for (int i = 0; i < kDTiles; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  int skipped = 0;

  const int mat = lane / 8;  // which 8x8 matrix this lane addresses in ldmatrix.x4
  const int mat_row = lane % 8;

  for (int t = 0; t < n_tiles; ++t) {
    const int buf = t & 1;
    const int k0n = (t + 1) * kTileK;  // first key of the next tile
    // K buffer buf^1 held K[t-1]: every warp finished reading it before the
    // previous vote barrier.
    if (t + 1 < n_tiles) load_keys(buf ^ 1, k0n);
    cp_async_commit();
    cp_async_wait<2>();  // all but {V[t]} and {K[t+1]}: K[t] (and Q) landed
    __syncthreads();

    if (t == 0) {
      const uint32_t qbase = smem_addr(q_smem);
#pragma unroll
      for (int kc = 0; kc < kKChunks; ++kc) {
        const int r = warp * 16 + mat_row + (mat & 1) * 8;
        const int c = kc * 16 + (mat >> 1) * 8;
        ldmatrix_x4(qa[kc], qbase + 2u * swizzled<D>(r, c));
      }
    }

    // S = Q K^T over the 128 keys of the tile.
    float s[kNTiles][4];
#pragma unroll
    for (int i = 0; i < kNTiles; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
    const uint32_t kbase = smem_addr(k_smem(buf));
#pragma unroll
    for (int kc = 0; kc < kKChunks; ++kc) {
#pragma unroll
      for (int np = 0; np < kNTiles / 2; ++np) {
        uint32_t b[4];
        const int key = np * 16 + mat_row + (mat >> 1) * 8;
        const int col = kc * 16 + (mat & 1) * 8;
        ldmatrix_x4(b, kbase + 2u * swizzled<D>(key, col));
        E::mma(s[2 * np], qa[kc], b[0], b[1]);
        E::mma(s[2 * np + 1], qa[kc], b[2], b[3]);
      }
    }

    // Mask keys past the sequence end, (causal) above the diagonal, and
    // (cache) on a bad page.
    const int k0 = t * kTileK;
    if (p.has_cache || k0 + kTileK > seq.lk || (p.causal && k0 + kTileK - 1 > q0 + causal_shift)) {
      const int limit0 = p.causal ? min(seq.lk - 1, row0 + causal_shift) : seq.lk - 1;
      const int limit1 = p.causal ? min(seq.lk - 1, row1 + causal_shift) : seq.lk - 1;
      const uint8_t* ok = key_ok + buf * kTileK;
#pragma unroll
      for (int nt = 0; nt < kNTiles; ++nt) {
        const int j = nt * 8 + col_in_quad;
        const int key = k0 + j;
        const bool bad0 = p.has_cache && !ok[j], bad1 = p.has_cache && !ok[j + 1];
        if (key > limit0 || bad0) s[nt][0] = -INFINITY;
        if (key + 1 > limit0 || bad1) s[nt][1] = -INFINITY;
        if (key > limit1 || bad0) s[nt][2] = -INFINITY;
        if (key + 1 > limit1 || bad1) s[nt][3] = -INFINITY;
      }
    }

    // Row maxima of the raw logits (a quad of lanes shares a row).
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt) {
      mx[0] = fmaxf(mx[0], fmaxf(s[nt][0], s[nt][1]));
      mx[1] = fmaxf(mx[1], fmaxf(s[nt][2], s[nt][3]));
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
      mx[i] *= p.scale_log2;  // scaled, log2 units (-inf stays -inf)
    }

    // Skip vote: every valid row's tile max is below m_running + log2(lambda).
    bool vote = t > 0;
    if (vote && row0 < seq.lq) vote = row_allows_skip(mx[0], m_run[0], log2_lambda);
    if (vote && row1 < seq.lq) vote = row_allows_skip(mx[1], m_run[1], log2_lambda);
    cp_async_wait<1>();  // V[t] landed; the barrier below publishes it
    const bool skip = __syncthreads_and(vote) != 0;
    if (p.decisions != nullptr && threadIdx.x == 0) {
      record_tile_decision(p.decisions, t, skip, p.num_heads, p.seqlen_q, p.seqlen_kv);
    }
    // V buffer buf^1 held V[t-1]: every warp passed the barrier above, so
    // finished P.V of tile t-1.
    if (t + 1 < n_tiles) load_values(buf ^ 1, k0n);
    cp_async_commit();

    if (skip) {
      ++skipped;
    } else {
      if constexpr (kExtras) {
        auto at = [&](int nt, int e) -> float& { return s[nt][e]; };
        if (p.nm_m == 4) {
          prune_nm<4, kNTiles>(at, p.nm, lane, k0 + col_in_quad, row0 + causal_shift);
        } else if (p.nm_m == 8) {
          prune_nm<8, kNTiles>(at, p.nm, lane, k0 + col_in_quad, row0 + causal_shift);
        }
      }
      float m_use[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const float alpha = online_softmax_rescale(m_run[i], l_run[i], mx[i], m_use[i]);
#pragma unroll
        for (int dt = 0; dt < kDTiles; ++dt) {
          o[dt][2 * i] *= alpha;
          o[dt][2 * i + 1] *= alpha;
        }
      }
#pragma unroll
      for (int nt = 0; nt < kNTiles; ++nt) {
        s[nt][0] = softmax_weight(s[nt][0], p.scale_log2, m_use[0]);
        s[nt][1] = softmax_weight(s[nt][1], p.scale_log2, m_use[0]);
        s[nt][2] = softmax_weight(s[nt][2], p.scale_log2, m_use[1]);
        s[nt][3] = softmax_weight(s[nt][3], p.scale_log2, m_use[1]);
        l_run[0] += s[nt][0] + s[nt][1];
        l_run[1] += s[nt][2] + s[nt][3];
      }
      // O += P V: P's accumulator layout is the A-operand layout of the next mma.
      // kRound: NVFP4 rounding of each 16-key block of P just before it is
      // packed (a loop of its own for that case, no branch per block).
      const uint32_t vbase = smem_addr(v_smem(buf));
      auto p_times_v = [&](auto round) {
        constexpr bool kRound = decltype(round)::value;
#pragma unroll
        for (int kc = 0; kc < kTileK / 16; ++kc) {
          if constexpr (kRound) round_p_block([&](int nt, int e) -> float& { return s[nt][e]; }, kc);
          const uint32_t pa[4] = {pack_pair<kBf16>(s[2 * kc][0], s[2 * kc][1]),
                                  pack_pair<kBf16>(s[2 * kc][2], s[2 * kc][3]),
                                  pack_pair<kBf16>(s[2 * kc + 1][0], s[2 * kc + 1][1]),
                                  pack_pair<kBf16>(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
          for (int dp = 0; dp < D / 16; ++dp) {
            uint32_t b[4];
            const int key = kc * 16 + mat_row + (mat & 1) * 8;
            const int col = dp * 16 + (mat >> 1) * 8;
            ldmatrix_x4_trans(b, vbase + 2u * swizzled<D>(key, col));
            E::mma(o[2 * dp], pa, b[0], b[1]);
            E::mma(o[2 * dp + 1], pa, b[2], b[3]);
          }
        }
      };
      if constexpr (kExtras) {
        if (p.quantize_p) {
          p_times_v(std::true_type{});
        } else {
          p_times_v(std::false_type{});
        }
      } else {
        p_times_v(std::false_type{});
      }
    }
  }
  cp_async_wait<0>();

  // Epilogue: full row sums, normalize, store, log-sum-exp.
  float inv[2];
  finish_row_sums(l_run, inv);
  const int my_rows[2] = {row0, row1};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    if (my_rows[i] >= seq.lq) continue;
    uint16_t* orow = p.out + seq.o_offset + int64_t(my_rows[i]) * p.o_stride[1];
#pragma unroll
    for (int dt = 0; dt < kDTiles; ++dt) {
      *reinterpret_cast<uint32_t*>(orow + dt * 8 + col_in_quad) =
          pack_pair<kBf16>(o[dt][2 * i] * inv[i], o[dt][2 * i + 1] * inv[i]);
    }
    if (p.lse != nullptr && (lane % 4) == 0) {
      const float lse = row_lse(m_run[i], l_run[i]);
      int64_t index;
      if (p.cu_q != nullptr) {
        index = int64_t(head) * p.cu_q[gridDim.z] + seq.q_token0 + my_rows[i];
      } else {
        index = (int64_t(batch) * p.num_heads + head) * p.seqlen_q + my_rows[i];
      }
      p.lse[index] = lse;
    }
  }
  if (p.counters != nullptr && threadIdx.x == 0 && n_tiles > 0) {
    atomicAdd(&p.counters[0], static_cast<unsigned long long>(n_tiles));
    if (skipped > 0) atomicAdd(&p.counters[1], static_cast<unsigned long long>(skipped));
  }
}

// ---------------------------------------------------------------------------
// Launcher

template <bool kBf16, int D, bool kExtras>
void launch(const KernelParams& params, dim3 grid, cudaStream_t stream, const char* function) {
  constexpr int kSmemBytes = 5 * 128 * D * 2 + 2 * kTileK;  // tiles, then the cache's key masks
  launch_checked(attention_forward_kernel<kBf16, D, kExtras>, grid, dim3(kThreads), kSmemBytes, stream, function,
                 params);
}

// The instantiation for the problem's element type and head dimension.
template <bool kExtras>
void launch_for_problem(const Problem& pr, const KernelParams& params, dim3 grid, cudaStream_t s,
                        const char* function) {
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  if (bf16 && pr.head_dim == 128) launch<true, 128, kExtras>(params, grid, s, function);
  else if (bf16 && pr.head_dim == 64) launch<true, 64, kExtras>(params, grid, s, function);
  else if (!bf16 && pr.head_dim == 128) launch<false, 128, kExtras>(params, grid, s, function);
  else launch<false, 64, kExtras>(params, grid, s, function);
}

}  // namespace

void launch_forward_cuda(const Problem& pr, void* stream, const char* function, KernelPath path) {
  require_cuda_device(function);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (pr.has_kv_cache && pr.kv.fp8()) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) +
                                     ": prefill over an FP8 KV cache is not supported by the kernels yet "
                                     "(spattn_attention_decode reads FP8 caches; the CPU reference runs it)");
  }
  if (path != KernelPath::kMmaSync) {
    int device = 0;
    cuda_check(cudaGetDevice(&device), function, "cudaGetDevice");
    if (sm90::device_supported(device) && sm90::try_launch(pr, s, function)) return;
    if (path == KernelPath::kSm90) {
      fail(SPATTN_ERR_UNSUPPORTED,
           std::string(function) + ": the sm_90a kernel cannot run this problem on this device");
    }
  }
  if (pr.batch > 65535 || pr.num_heads > 65535) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.batch (" +
                                     std::to_string(pr.batch) + ") and args.num_heads (" +
                                     std::to_string(pr.num_heads) + ") must be <= 65535");
  }
  KernelParams params;
  params.q = static_cast<const uint16_t*>(pr.q.data);
  params.k = static_cast<const uint16_t*>(pr.k.data);
  params.v = static_cast<const uint16_t*>(pr.v.data);
  params.out = static_cast<uint16_t*>(pr.out);
  const TensorView* views[3] = {&pr.q, &pr.k, &pr.v};
  int64_t* strides[3] = {params.q_stride, params.k_stride, params.v_stride};
  for (int i = 0; i < 3; ++i) {
    strides[i][0] = views[i]->batch_stride;
    strides[i][1] = views[i]->token_stride;
    strides[i][2] = views[i]->head_stride;
    params.o_stride[i] = pr.out_strides[i];
  }
  params.cu_q = pr.cu_seqlens_q;
  params.cu_kv = pr.cu_seqlens_kv;
  params.num_heads = pr.num_heads;
  params.heads_per_kv = pr.num_heads / pr.num_kv_heads;
  params.seqlen_q = pr.seqlen_q;
  params.seqlen_kv = pr.seqlen_kv;
  params.causal = pr.causal ? 1 : 0;
  params.scale_log2 = logit_scale_log2(pr.softmax_scale, 1.0f);
  params.skip_seqlen_kv = pr.skip_seqlen_kv;
  params.has_cache = pr.has_kv_cache ? 1 : 0;
  if (pr.has_kv_cache) params.kv = kv_device(pr.kv);
  params.threshold = pr.threshold_scale_factor;
  params.lse = pr.lse;
  params.counters = pr.tile_counters;
  params.nm_m = pr.sparsity_m;
  params.nm = NmRule{pr.sparsity_n, pr.num_sink_tokens, pr.dense_window_size};
  params.quantize_p = pr.quantize_p ? 1 : 0;
  params.decisions = pr.tile_decisions;

  const dim3 grid((pr.seqlen_q + kTileQ - 1) / kTileQ, pr.num_heads, pr.batch);
  if (pr.extras()) {
    launch_for_problem<true>(pr, params, grid, s, function);
  } else {
    launch_for_problem<false>(pr, params, grid, s, function);
  }
}

}  // namespace spattn::attention
