// Skip-softmax (BLASST) flash-attention forward pass for Hopper (sm_90a),
// FlashAttention-3 structure: TMA loads, an mbarrier K/V pipeline, warp
// specialization, wgmma with accumulators in registers.
//
// One CTA = one 128-row query tile (= SPATTN_SKIP_TILE_QUERIES) of one
// (batch, head); 3 warpgroups:
//  - warpgroup 0, the producer: one thread issues the TMA copies (Q once,
//    then K and V tiles of 128 keys into a ring of kStages slots); the
//    warpgroup gives most of its registers away (setmaxnreg).
//  - warpgroups 1 and 2, the consumers, 64 query rows each: S = Q K^T with
//    wgmma (Q and K read by the tensor cores from shared memory), masking,
//    row maxima, the skip vote, online softmax, O += P V with wgmma (P from
//    registers, V from shared memory).
// Per KV tile the two consumer warpgroups vote: each reduces its 64 rows
// with a named-barrier reduction (bar.red.and over its 128 threads) and
// publishes the result through shared memory and a per-slot mbarrier; the
// decision covers all 128 query rows x 128 keys, as the skip rule specifies.
// A warpgroup whose own rows keep the tile does not wait for the other, so
// the two run out of step (one's softmax overlaps the other's matrix work);
// with the threshold 0 there is no vote at all. A skipped tile does no exp
// and no P.V, and releases its V slot at once.
//
// Pipeline, per ring slot: k_full / v_full (TMA landed; the producer's
// arrive.expect_tx is the one arrival), k_empty / v_empty (one arrival per
// consumer warpgroup once its wgmma reading the slot completed) and
// vote_full (one arrival per consumer warpgroup once its vote on the slot's
// tile is in shared memory). Round r of a slot uses phase parity r & 1.
//
// The Model Optimizer extras (N:M sparse softmax, NVFP4 P; kExtras
// instantiations only) prune and round a kept tile's accumulators with the
// same functions as the mma.sync kernel (common/kernel_common.cuh): the wgmma
// accumulator layout per warp is the mma.sync one.
//
// Numerics are those of cuda/prefill/attention_forward.cu and the CPU reference:
// raw fp32 logits, tile row max times softmax_scale*log2(e), skip when
// rowmax - m_running < (float)log2(threshold / Lk) for every valid row.
//
// Handles fixed-length batches (any strides TMA can describe: 16-byte
// aligned, strides multiples of 16 bytes) and packed (varlen) batches whose
// token totals the caller gave (Problem::total_q/total_kv). For packed
// batches the tensor maps span the packed token axis, bounded by those
// totals (TMA zero-fills rows past the end of the whole tensor); each CTA
// reads its sequence's offsets from cu_seqlens; rows and keys past the
// sequence's end but inside the tensor belong to the next sequence and are
// masked like rows/keys past Lq/Lk of a fixed-length problem. Packed batches
// without totals stay on the mma.sync kernel (the host cannot bound a map
// without reading cu_seqlens).
#include <cuda.h>  // CUtensorMap and its enums only: libcuda is reached through the runtime
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "attention/attention_cuda.hpp"
#include "attention/skip_rule.hpp"
#include "prefill/attention_forward_sm90.hpp"
#include "core/error.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/sm90_ptx.cuh"
#include "common/tma_map.hpp"

namespace spattn::attention::sm90 {
namespace {

// The wgmma/setmaxnreg code exists only in the sm_90a device pass; other
// passes compile an empty kernel that the host never launches.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SPATTN_SM90A_DEVICE 1
#else
#define SPATTN_SM90A_DEVICE 0
#endif

constexpr int kTileQ = SPATTN_SKIP_TILE_QUERIES;
constexpr int kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr int kThreads = 384;           // producer warpgroup + 2 consumer warpgroups
constexpr int kVoteBarrier0 = 1;        // named barriers 1 and 2: one per consumer warpgroup
constexpr int kProducerRegs = 24;       // 128 * 24 + 256 * 240 <= 65536 registers per SM
constexpr int kConsumerRegs = 240;
constexpr int kBlockBytes = kTileK * 128;  // one 64-column block of a 128-row tile

template <int D>
struct Layout {
  // K/V ring depth (bench/RESULTS.md run 14): 4 slots at d=64; at d=128
  // (32 KB Q plus 64 KB per slot) a third slot was no faster dense.
  static constexpr int kStages = D == 128 ? 2 : 4;
  static constexpr int kTileBytes = kTileK * D * 2;  // D/64 swizzled column blocks
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kTileBytes;
  static constexpr int kV = kK + kStages * kTileBytes;
  static constexpr int kBarriers = kV + kStages * kTileBytes;
  // q_full, then per slot k_full, v_full, k_empty, v_empty, vote.
  static constexpr int kVoteFlags = kBarriers + 8 * (1 + 5 * kStages);
  // Per slot, per round parity, per consumer warpgroup: its 64 rows' vote.
  static constexpr int kBytes = kVoteFlags + 4 * 4 * kStages;
  static constexpr int kAlloc = kBytes + 1024;  // room to align the base to 1024 bytes
};

struct Params {
  uint16_t* out;
  int64_t o_stride[3];
  int32_t num_heads;
  int32_t heads_per_kv;
  int32_t seqlen_q;
  int32_t seqlen_kv;
  int32_t causal;
  float scale_log2;
  double threshold;  // each CTA derives lambda = threshold / Lk of its sequence
  int32_t skip_seqlen_kv;  // > 0: the Lk of lambda instead (skip_length)
  float* lse;
  unsigned long long* counters;
  // Packed batches (cu_q != nullptr): sequence offsets on the packed token
  // axis and the token total (LSE row length, store bound).
  const int32_t* cu_q;
  const int32_t* cu_kv;
  int32_t total_q;
  // Model Optimizer extras (read by the kExtras instantiations only).
  int32_t nm_m;  // N:M sparse softmax: 0 (off), 4 or 8
  NmRule nm;
  int32_t quantize_p;
  uint8_t* decisions;  // test hook (Problem::tile_decisions), null in production
};

template <bool kBf16, int D, bool kExtras>
__global__ void __launch_bounds__(kThreads, 1)
    attention_forward_sm90_kernel(const __grid_constant__ CUtensorMap tm_q,
                                  const __grid_constant__ CUtensorMap tm_k,
                                  const __grid_constant__ CUtensorMap tm_v, const Params p) {
#if SPATTN_SM90A_DEVICE
  using L = Layout<D>;
  using M = Wgmma<kBf16>;
  constexpr int kStages = L::kStages;
  constexpr int kBlocks = D / 64;  // 64-column (128-byte) blocks per row

  extern __shared__ uint8_t smem_raw[];
  // Swizzle atoms must be 1024-byte aligned (descriptor base offset 0).
  const uint32_t base = (smem_u32(smem_raw) + 1023u) & ~1023u;
  const uint32_t q_smem = base + L::kQ;
  auto k_smem = [&](int s) { return base + L::kK + uint32_t(s) * L::kTileBytes; };
  auto v_smem = [&](int s) { return base + L::kV + uint32_t(s) * L::kTileBytes; };
  const uint32_t q_full = base + L::kBarriers;
  auto k_full = [&](int s) { return q_full + 8u * (1 + s); };
  auto v_full = [&](int s) { return q_full + 8u * (1 + kStages + s); };
  auto k_empty = [&](int s) { return q_full + 8u * (1 + 2 * kStages + s); };
  auto v_empty = [&](int s) { return q_full + 8u * (1 + 3 * kStages + s); };
  auto vote_full = [&](int s) { return q_full + 8u * (1 + 4 * kStages + s); };
  // Generic pointer to the vote flags (read and written with volatile
  // accesses; ordered by the vote_full mbarrier's arrive/wait).
  volatile uint32_t* const vote_flags =
      reinterpret_cast<volatile uint32_t*>(smem_raw + (base - smem_u32(smem_raw)) + L::kVoteFlags);

  const int q_tile = gridDim.x - 1 - blockIdx.x;  // longest (causal) tiles first
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const int kv_head = head / p.heads_per_kv;
  // Sequence geometry. Fixed lengths: every sequence is (seqlen_q, seqlen_kv)
  // at token 0 of its own batch index. Packed: one batch of tokens, this
  // sequence from token cu[batch] (lengths clamped like the mma.sync kernel).
  int lq = p.seqlen_q, lk = p.seqlen_kv;
  int q_tok0 = 0, kv_tok0 = 0, tma_batch = batch;
  if (p.cu_q != nullptr) {
    const PackedSequence packed = packed_sequence(p.cu_q, p.cu_kv, batch, p.seqlen_q, p.seqlen_kv);
    q_tok0 = packed.q_token0;
    kv_tok0 = packed.kv_token0;
    lq = packed.lq;
    lk = packed.lk;
    tma_batch = 0;
  }
  const float log2_lambda = skip_log2_lambda(p.threshold, skip_length(p.skip_seqlen_kv, lk));
  const int q0 = q_tile * kTileQ;
  if (q0 >= lq) return;  // packed: this sequence is shorter than the grid (CTA-uniform)
  const int rows = min(kTileQ, lq - q0);
  const int causal_shift = lk - lq;  // row i sees keys <= i + shift
  const int visible = p.causal ? min(lk, q0 + rows + causal_shift) : lk;
  const int n_tiles = visible > 0 ? (visible + kTileK - 1) / kTileK : 0;

  if (threadIdx.x == 0) {
    mbar_init(q_full, 1);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(k_full(s), 1);
      mbar_init(v_full(s), 1);
      mbar_init(k_empty(s), 2);  // one arrival per consumer warpgroup
      mbar_init(v_empty(s), 2);
      mbar_init(vote_full(s), 2);
    }
    mbar_init_fence();
  }
  __syncthreads();

  const int warpgroup = threadIdx.x / 128;
  if (warpgroup == 0) {
    // ---------------- producer ----------------
    regs_release<kProducerRegs>();
    if (threadIdx.x == 0 && n_tiles > 0) {
      mbar_arrive_expect_tx(q_full, L::kTileBytes);
      for (int b = 0; b < kBlocks; ++b) {
        tma_load_4d(q_smem + b * kBlockBytes, &tm_q, q_full, b * 64, q_tok0 + q0, head,
                    tma_batch);
      }
      for (int t = 0; t < n_tiles; ++t) {
        const int s = t % kStages;
        const uint32_t parity = (t / kStages) & 1;
        mbar_wait(k_empty(s), parity ^ 1);
        mbar_arrive_expect_tx(k_full(s), L::kTileBytes);
        for (int b = 0; b < kBlocks; ++b) {
          tma_load_4d(k_smem(s) + b * kBlockBytes, &tm_k, k_full(s), b * 64,
                      kv_tok0 + t * kTileK, kv_head, tma_batch);
        }
        mbar_wait(v_empty(s), parity ^ 1);
        mbar_arrive_expect_tx(v_full(s), L::kTileBytes);
        for (int b = 0; b < kBlocks; ++b) {
          tma_load_4d(v_smem(s) + b * kBlockBytes, &tm_v, v_full(s), b * 64,
                      kv_tok0 + t * kTileK, kv_head, tma_batch);
        }
      }
    }
    return;
  }

  // ---------------- consumers ----------------
  regs_claim<kConsumerRegs>();
  // Consumer warpgroup: query rows 64*cw ... Read through a shuffle so that
  // the compiler knows it is warp-uniform and keeps the shared-memory
  // descriptors derived from it in uniform registers.
  const int cw = __shfl_sync(0xffffffffu, warpgroup - 1, 0);
  const int tid = threadIdx.x % 128;
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int col_in_quad = (lane % 4) * 2;
  const int row0 = q0 + cw * 64 + warp * 16 + lane / 4;  // this thread's rows: row0, row0 + 8
  const int row1 = row0 + 8;

  float o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  int skipped = 0;
  // Whether this CTA can skip at all (threshold > 0): with the threshold 0
  // no vote is taken, so the two consumer warpgroups need not run in step.
  const bool can_skip = log2_lambda > -INFINITY;

  // wgmma descriptors: built once, then advanced by byte offsets / 16 (the
  // start address field's unit). Q: this warpgroup's 64 rows; K and V: slot 0.
  const uint64_t q_desc = smem_desc_sw128(q_smem + cw * 64 * 128, 16, 1024);
  const uint64_t k_desc0 = smem_desc_sw128(k_smem(0), 16, 1024);
  // V: key rows of 128 bytes per 64-column block; 16 keys = two 8-row atoms
  // (SBO 1024); column blocks 16 KB apart (LBO).
  const uint64_t v_desc0 = smem_desc_sw128(v_smem(0), kBlockBytes, 1024);
  constexpr uint64_t kSlotStep = L::kTileBytes >> 4;

  if (n_tiles > 0) mbar_wait(q_full, 0);
  for (int t = 0; t < n_tiles; ++t) {
    const int s = t % kStages;
    const uint32_t parity = (t / kStages) & 1;

    // S = Q K^T: D/16 k-steps; Q rows 64*cw.. of the Q tile, all 128 keys.
    float sc[64];
    mbar_wait(k_full(s), parity);
    wgmma_fence();
    const uint64_t k_desc = k_desc0 + uint64_t(s) * kSlotStep;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      const uint64_t off = ((ks / 4) * kBlockBytes + (ks % 4) * 32) >> 4;
      M::qk(sc, q_desc + off, k_desc + off, ks > 0 ? 1 : 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    // This warpgroup is done reading K[s]. When voting, the release waits
    // until the vote on slot s is published (below).
    if (!can_skip && tid == 0) mbar_arrive(k_empty(s));

    // Mask keys past the end and (causal) above the diagonal.
    const int k0 = t * kTileK;
    if (k0 + kTileK > lk || (p.causal && k0 + kTileK - 1 > q0 + causal_shift)) {
      const int limit0 = p.causal ? min(lk - 1, row0 + causal_shift) : lk - 1;
      const int limit1 = p.causal ? min(lk - 1, row1 + causal_shift) : lk - 1;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const int key = k0 + j * 8 + col_in_quad;
        if (key > limit0) sc[4 * j + 0] = -INFINITY;
        if (key + 1 > limit0) sc[4 * j + 1] = -INFINITY;
        if (key > limit1) sc[4 * j + 2] = -INFINITY;
        if (key + 1 > limit1) sc[4 * j + 3] = -INFINITY;
      }
    }

    // Row maxima of the raw logits (a quad of lanes shares a row), scaled.
    float mx[2];
    tile_row_max<16>(sc, p.scale_log2, mx);

    // Skip vote over all 128 rows (both consumer warpgroups): every valid
    // row's tile max is below m_running + log2(lambda). Tile 0 never skips.
    // Each warpgroup reduces its 64 rows (named barrier of its own), then
    // publishes the result for this slot and round and arrives on
    // vote_full(s). A warpgroup whose own rows keep the tile knows the
    // answer at once and goes on; only one whose rows all allow the skip
    // waits for the other's vote. So the two warpgroups need not run in
    // step. Every round of a slot gets exactly one arrival per warpgroup
    // (tile 0 votes "keep"), and K[s] is released only after the vote is
    // published, so a warpgroup cannot arrive for round r+1 of a slot
    // before the other arrived for round r; the flags are double-buffered
    // by round parity, so a flag is not overwritten before it is read.
    bool skip = false;
    if (can_skip) {  // CTA-uniform
      bool vote = t > 0;
      if (vote && row0 < lq) vote = row_allows_skip(mx[0], m_run[0], log2_lambda);
      if (vote && row1 < lq) vote = row_allows_skip(mx[1], m_run[1], log2_lambda);
      const bool own = barrier_and<128>(vote, kVoteBarrier0 + cw);
      volatile uint32_t* const flags = vote_flags + 4 * s + 2 * parity;
      if (tid == 0) {
        // The previous round of this slot completed long ago (see above);
        // waiting on it keeps every arrival paired with a wait, the pattern
        // compute-sanitizer's synccheck verifies.
        if (t >= kStages) mbar_wait(vote_full(s), parity ^ 1);
        flags[cw] = own ? 1u : 0u;
        mbar_arrive(vote_full(s));
        mbar_arrive(k_empty(s));
      }
      if (own) {  // warpgroup-uniform
        mbar_wait(vote_full(s), parity);
        skip = flags[1 - cw] != 0;
      }
    }

    if (p.decisions != nullptr && cw == 0 && tid == 0) {
      record_tile_decision(p.decisions, t, skip, p.num_heads, p.seqlen_q, p.seqlen_kv);
    }

    // V[s] must have landed even when skipped: releasing the slot before its
    // copy completed would let the producer refill it while TMA still writes.
    mbar_wait(v_full(s), parity);
    if (skip) {
      ++skipped;
    } else {
      // The accumulator layout is the mma.sync kernel's (see common/kernel_common.cuh).
      auto at = [&](int nt, int e) -> float& { return sc[4 * nt + e]; };
      if constexpr (kExtras) {
        if (p.nm_m == 4) {
          prune_nm<4, 16>(at, p.nm, lane, t * kTileK + col_in_quad, row0 + causal_shift);
        } else if (p.nm_m == 8) {
          prune_nm<8, 16>(at, p.nm, lane, t * kTileK + col_in_quad, row0 + causal_shift);
        }
      }
      float m_use[2];
      rescale_rows<D / 8>(o, m_run, l_run, mx, m_use);
      exponentiate<16>(sc, p.scale_log2, m_use, l_run);
      if constexpr (kExtras) {
        if (p.quantize_p) {  // NVFP4 P, after the row sums (they take P unrounded)
#pragma unroll
          for (int kk = 0; kk < 8; ++kk) round_p_block(at, kk);
        }
      }
      // P's accumulator layout is the wgmma A-register layout.
      uint32_t pa[8][4];
      pack_p<kBf16, 8>(sc, pa);
      wgmma_fence();
      const uint64_t v_desc = v_desc0 + uint64_t(s) * kSlotStep;
#pragma unroll
      for (int kk = 0; kk < 8; ++kk) M::pv(o, pa[kk], v_desc + ((kk * 16 * 128) >> 4));
      wgmma_commit();
      wgmma_wait<0>();
    }
    if (tid == 0) mbar_arrive(v_empty(s));
  }

  // Epilogue: full row sums, normalize, store, log-sum-exp.
  float inv[2];
  finish_row_sums(l_run, inv);
  const int my_rows[2] = {row0, row1};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    if (my_rows[i] >= lq) continue;
    const int token = q_tok0 + my_rows[i];  // on the storage's token axis
    if (p.cu_q != nullptr && token >= p.total_q) continue;  // cu_seqlens beyond total_q
    uint16_t* orow = p.out + tma_batch * p.o_stride[0] + int64_t(token) * p.o_stride[1] +
                     head * p.o_stride[2];
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
      *reinterpret_cast<uint32_t*>(orow + j * 8 + col_in_quad) =
          pack_pair<kBf16>(o[4 * j + 2 * i] * inv[i], o[4 * j + 2 * i + 1] * inv[i]);
    }
    if (p.lse != nullptr && (lane % 4) == 0) {
      const float lse = row_lse(m_run[i], l_run[i]);
      // Fixed lengths: [batch][num_heads][seqlen_q]; packed: [num_heads][total_q].
      const int64_t index = p.cu_q != nullptr
                                ? int64_t(head) * p.total_q + token
                                : (int64_t(batch) * p.num_heads + head) * p.seqlen_q + my_rows[i];
      p.lse[index] = lse;
    }
  }
  if (p.counters != nullptr && threadIdx.x == 128 && n_tiles > 0) {
    atomicAdd(&p.counters[0], static_cast<unsigned long long>(n_tiles));
    if (skipped > 0) atomicAdd(&p.counters[1], static_cast<unsigned long long>(skipped));
  }
#endif  // SPATTN_SM90A_DEVICE
}

// ---------------------------------------------------------------------------
// Host side

template <bool kBf16, int D, bool kExtras>
void launch(const CUtensorMap& q, const CUtensorMap& k, const CUtensorMap& v, const Params& p,
            dim3 grid, cudaStream_t stream, const char* function) {
  launch_checked(attention_forward_sm90_kernel<kBf16, D, kExtras>, grid, dim3(kThreads), Layout<D>::kAlloc, stream,
                 function, q, k, v, p);
}

// The instantiation for the problem's element type and head dimension.
template <bool kExtras>
void launch_for_problem(const Problem& pr, const CUtensorMap& q, const CUtensorMap& k, const CUtensorMap& v,
                        const Params& p, dim3 grid, cudaStream_t stream, const char* function) {
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  if (bf16 && pr.head_dim == 128) launch<true, 128, kExtras>(q, k, v, p, grid, stream, function);
  else if (bf16 && pr.head_dim == 64) launch<true, 64, kExtras>(q, k, v, p, grid, stream, function);
  else if (!bf16 && pr.head_dim == 128) launch<false, 128, kExtras>(q, k, v, p, grid, stream, function);
  else launch<false, 64, kExtras>(q, k, v, p, grid, stream, function);
}

}  // namespace

bool device_supported(int device) {
#ifdef SPATTN_BUILT_SM90A
  int major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return major == 9 && minor == 0;
#else
  (void)device;
  return false;
#endif
}

namespace {

// A packed tensor as the map sees it: one batch of `tokens` tokens. The
// batch stride is ignored for packed batches (the caller may leave it 0 or
// anything); the map's extent-1 batch dimension gets the whole tensor's span.
TensorView packed_view(const TensorView& t, int tokens, int heads) {
  TensorView p = t;
  const int64_t span_tokens = t.token_stride * tokens, span_heads = t.head_stride * heads;
  p.batch_stride = span_tokens > span_heads ? span_tokens : span_heads;
  return p;
}

}  // namespace

bool try_launch(const Problem& pr, cudaStream_t stream, const char* function) {
  if (pr.batch > 65535 || pr.num_heads > 65535) return false;
  if (pr.has_kv_cache) return false;  // caches are read by the mma.sync kernel
  // Packed batches need the token totals to bound the maps; without them
  // (0: unknown) the mma.sync kernel runs them.
  const bool packed = pr.packed();
  if (packed && (pr.total_q <= 0 || pr.total_kv <= 0)) return false;
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  const int q_tokens = packed ? pr.total_q : pr.seqlen_q;
  const int kv_tokens = packed ? pr.total_kv : pr.seqlen_kv;
  const int map_batch = packed ? 1 : pr.batch;
  const TensorView qv = packed ? packed_view(pr.q, q_tokens, pr.num_heads) : pr.q;
  const TensorView kv = packed ? packed_view(pr.k, kv_tokens, pr.num_kv_heads) : pr.k;
  const TensorView vv = packed ? packed_view(pr.v, kv_tokens, pr.num_kv_heads) : pr.v;
  CUtensorMap q, k, v;
  if (!make_map(&q, qv, bf16, pr.head_dim, q_tokens, pr.num_heads, map_batch, kTileQ) ||
      !make_map(&k, kv, bf16, pr.head_dim, kv_tokens, pr.num_kv_heads, map_batch, kTileK) ||
      !make_map(&v, vv, bf16, pr.head_dim, kv_tokens, pr.num_kv_heads, map_batch, kTileK)) {
    return false;
  }
  Params p;
  p.out = static_cast<uint16_t*>(pr.out);
  for (int i = 0; i < 3; ++i) p.o_stride[i] = pr.out_strides[i];
  p.num_heads = pr.num_heads;
  p.heads_per_kv = pr.num_heads / pr.num_kv_heads;
  p.seqlen_q = pr.seqlen_q;
  p.seqlen_kv = pr.seqlen_kv;
  p.causal = pr.causal ? 1 : 0;
  p.scale_log2 = logit_scale_log2(pr.softmax_scale, 1.0f);
  p.skip_seqlen_kv = pr.skip_seqlen_kv;
  p.lse = pr.lse;
  p.counters = pr.tile_counters;
  p.cu_q = packed ? pr.cu_seqlens_q : nullptr;
  p.cu_kv = packed ? pr.cu_seqlens_kv : nullptr;
  p.total_q = packed ? pr.total_q : 0;
  p.threshold = pr.threshold_scale_factor;
  // Grid x: the longest sequence's query tiles (packed: shorter sequences'
  // CTAs past their end exit at once).
  const dim3 grid((pr.seqlen_q + kTileQ - 1) / kTileQ, pr.num_heads, pr.batch);
  p.nm_m = pr.sparsity_m;
  p.nm = NmRule{pr.sparsity_n, pr.num_sink_tokens, pr.dense_window_size};
  p.quantize_p = pr.quantize_p ? 1 : 0;
  p.decisions = pr.tile_decisions;
  if (pr.extras()) {
    launch_for_problem<true>(pr, q, k, v, p, grid, stream, function);
  } else {
    launch_for_problem<false>(pr, q, k, v, p, grid, stream, function);
  }
  return true;
}

}  // namespace spattn::attention::sm90
