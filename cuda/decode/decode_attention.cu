// Decode-step attention (spattn_attention_decode): a few queries per
// sequence against the caller's KV cache, with the skip-softmax rule and
// flash-decoding splits. Hopper: TMA copies of the K and V tiles,
// mma.sync m16n8k16 (bf16/fp16 in, fp32 accumulate).
//
// One CTA = one split of the key tiles of one (sequence, KV head, tile of up
// to 128 rows), a row being one query of the step times one query head of the
// KV head's group, so each key and value is read from memory once for all of
// them. 8 warps, two shapes:
//  - up to 16 rows (kRowTiles = 1): the 8 warps share the 16 rows and each
//    takes 16 of the 128 keys of a tile; their row maxima meet in shared
//    memory and their partial outputs are summed at the end;
//  - 17 to 128 rows (kRowTiles = 8): each warp has 16 rows and all 128 keys
//    (warps without rows only vote).
//
// Copies: one thread issues the TMA copies of K, one of another warp those of
// V, right after each vote (one 4-D box per 64 columns of a contiguous tile,
// or per page of a paged one), completing on one mbarrier per ring slot (the
// issuing thread's work delays its warp's next vote, so it is split and kept
// short: run 30); K runs kKStages - 1 tiles ahead, V is copied only for a
// kept tile, right after its vote, and consumed one tile later (its P waits
// in registers, packed to 16 bits), so a skipped tile's values are never read.
// Page ids are read a chunk of tiles ahead by all threads. 16-bit tiles land
// 128-byte swizzled (tma_tile_offset), FP8 tiles swizzled too
// (fp8_tile_offset). FP8 values meet the queries in fp16 matrix instructions
// (bf16 queries rescaled by a power of two; conversions exact): with up to 16
// rows each warp converts the K and V bytes it reads in registers (Q's dims
// permuted once so that a K row's bytes are B fragments as read; V's
// transposed pairs regrouped by byte permutes, O's dims coming out
// interleaved) and two CTAs share an SM; with more rows every warp reads the
// whole tile, so each tile is converted once into a 16-bit tile in shared
// memory. Rows a copy does not fill (past the sequence, on a bad page) are
// masked from S and zeroed in V before P.V.
//
// Per key tile t of the split (decisions: src/attention/decode_reference.cpp,
// which makes the same ones): S = Q K^T, masked, row maxima; the vote (one
// __syncthreads_and over every row of the CTA) skips the tile when every row
// allows it and it is not the split's first; a kept tile issues V[t]; the P.V
// of the previous kept tile runs; a kept tile's online-softmax step.
// k_scale is folded into the logit scale and v_scale into the output.
#include <cuda.h>  // CUtensorMap
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "attention/attention_cuda.hpp"
#include "attention/skip_rule.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "common/sm90_ptx.cuh"
#include "common/tma.hpp"
#include "decode/merge_rows.cuh"

namespace spattn::attention {
namespace {

constexpr int kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr int kVStages = 2;  // V of the tile being decided and of the one waiting for P.V
constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kMaxPagesPerTile = kTileK / 16;
// Page ids are read ahead in chunks of this many tiles, one entry per thread.
constexpr int kPageChunkTiles = kThreads / kMaxPagesPerTile;

struct DecodeParams {
  const uint16_t* q;
  int64_t q_stride[3];
  uint16_t* out;
  int64_t o_stride[3];
  const int32_t* seqlens;  // NULL: every sequence has max_seqlen
  int32_t max_seqlen;
  const int32_t* block_table;  // NULL: contiguous cache
  int32_t max_pages_per_seq, page_size, num_pages;
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

// Shared-memory layout of one instantiation (bytes; tiles 1024-byte aligned
// for the 128-byte swizzle).
template <int D, int kRowTiles, bool kFp8>
struct Smem {
  // FP8 tiles meet a small Q tile (each warp its own 16 keys) in registers:
  // each warp converts what it reads; a large Q tile (every warp all keys)
  // has each tile converted once into a 16-bit tile in shared memory.
  static constexpr bool kFp8InRegisters = kFp8 && kRowTiles == 1;
  static constexpr bool kFp8Convert = kFp8 && !kFp8InRegisters;
  // K tiles in flight: the current one and kKStages - 1 ahead (three ahead
  // where the 128-row Q tile leaves room for a fourth slot).
  static constexpr int kKStages = kRowTiles == 1 ? 4 : 3;
  static constexpr int kRows = 16 * kRowTiles;
  static constexpr int kKeyGroups = kWarps / kRowTiles;
  static constexpr int kTile16 = kTileK * D * 2;              // a 16-bit [128][D] tile
  static constexpr int kStage = kFp8 ? kTileK * D : kTile16;  // one ring slot as copied
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + (kRows * D * 2 + 1023) / 1024 * 1024;
  static constexpr int kKConv = kK + kKStages * kStage;  // kFp8Convert only: the converted tile
  static constexpr int kV = kKConv + (kFp8Convert ? kTile16 : 0);
  static constexpr int kVConv = kV + kVStages * kStage;
  static constexpr int kBarriers = kVConv + (kFp8Convert ? kTile16 : 0);  // kKStages + kVStages mbarriers
  static constexpr int kPages = kBarriers + (kKStages + kVStages) * 8;  // [kKStages][8] page ids
  static constexpr int kPageChunks = kPages + kKStages * kMaxPagesPerTile * 4;  // [2][kThreads] ids read ahead
  static constexpr int kValidKeys = kPageChunks + 2 * kThreads * 4;  // [kKStages] keys copied
  static constexpr int kBadPages = kValidKeys + kKStages * 4;  // [kKStages] bit mask of pages not copied
  static constexpr int kPartialMax = kBadPages + kKStages * 4;
  static constexpr int kRowState = kPartialMax + 2 * kKeyGroups * kRows * 4;  // m of each row
  static constexpr int kEnd = kRowState + kRows * 4;
  // The epilogue's sums reuse the front: [key group][row][D + 4] floats, then l.
  static constexpr int kOStride = D + 4;
  static constexpr int kReduceL = kKeyGroups * kRows * kOStride * 4;
  static constexpr int kReduceEnd = kReduceL + kKeyGroups * kRows * 4;
  static_assert(kReduceEnd <= kBarriers, "the epilogue's sums fit before the barriers");
  static constexpr int kBytes = kEnd + 1024;  // + alignment slack of the dynamic buffer
  static_assert(kBytes <= 227 * 1024, "fits the shared memory of an sm_90 CTA");
  // CTAs per SM: two for the FP8 register path, whose half-size slots let
  // two fit an SM's 228 KB (1 KB of each reserved by the system): twice the
  // tiles in flight (1.3x faster than one CTA with an 8-slot K ring, run 30);
  // the other shapes take all the registers of one.
  static constexpr int kCtasPerSm = kFp8InRegisters ? 2 : 1;
  static_assert(kCtasPerSm * (kBytes + 1024) <= 228 * 1024, "the CTAs of an SM fit its shared memory");
};

// Dims of Q in the order the FP8 register path multiplies them: within each
// 16 dims, the matrix instruction's k slot s takes dim fp8_k_dim(s), so that
// the 4 consecutive FP8 bytes an ldmatrix lane reads of a K row (dims 4c..4c+3)
// are its slots 2c, 2c + 1, 2c + 8, 2c + 9 (a dot product in any order of its
// dims is the same sum; Q is permuted once per CTA).
__device__ __forceinline__ int fp8_k_dim(int slot) {
  return 4 * ((slot & 7) >> 1) + 2 * (slot >> 3) + (slot & 1);
}

template <bool kBf16, int D, int kRowTiles, bool kFp8>
__global__ void __launch_bounds__(kThreads, (Smem<D, kRowTiles, kFp8>::kCtasPerSm))
    decode_kernel(const __grid_constant__ CUtensorMap tm_k, const __grid_constant__ CUtensorMap tm_v,
                  const DecodeParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // FP8 caches meet the queries in fp16 matrix instructions (one conversion
  // instruction per two cached values); 16-bit caches in the queries' type.
  constexpr bool kMmaBf16 = kBf16 && !kFp8;
  using E = Elem<kMmaBf16>;
  using L = Smem<D, kRowTiles, kFp8>;
  constexpr int kKG = L::kKeyGroups;
  constexpr int kKeysPerWarp = kTileK / kKG;
  constexpr int kNT = kKeysPerWarp / 8;  // 8-key column tiles of S per warp
  constexpr int kKC = D / 16;            // k-steps of Q K^T
  constexpr int kDT = D / 8;             // 8-wide column tiles of O
  constexpr int kBoxCols = kFp8 ? D : 64;  // columns per copy
  constexpr int kBoxes = D / kBoxCols;

  extern __shared__ uint8_t smem_raw[];
  uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  uint16_t* q_smem = reinterpret_cast<uint16_t*>(smem + L::kQ);
  auto k_stage = [&](int s) { return smem + L::kK + s * L::kStage; };
  auto v_stage = [&](int s) { return smem + L::kV + s * L::kStage; };
  const uint32_t bar0 = sm90::smem_u32(smem + L::kBarriers);
  auto k_bar = [&](int s) { return bar0 + 8u * s; };
  auto v_bar = [&](int s) { return bar0 + 8u * (L::kKStages + s); };
  int32_t* stage_pages = reinterpret_cast<int32_t*>(smem + L::kPages);
  int32_t* valid_keys = reinterpret_cast<int32_t*>(smem + L::kValidKeys);
  uint32_t* bad_pages = reinterpret_cast<uint32_t*>(smem + L::kBadPages);
  // Row maxima of the key groups, by iteration parity (with no barrier
  // between one tile's reads and the next tile's writes, a warp may be one
  // vote ahead of another).
  float* partial_max = reinterpret_cast<float*>(smem + L::kPartialMax);
  int32_t* page_chunks = reinterpret_cast<int32_t*>(smem + L::kPageChunks);
  float* row_m = reinterpret_cast<float*>(smem + L::kRowState);

  const int split = blockIdx.x;
  const int kv_head = blockIdx.y / p.row_tiles;
  const int row_block = blockIdx.y % p.row_tiles;
  const int b = blockIdx.z;
  const int lk = p.seqlens == nullptr ? p.max_seqlen : min(max(p.seqlens[b], 0), p.max_seqlen);
  const int n_tiles = (lk + kTileK - 1) / kTileK;
  const int t0 = split * p.tiles_per_split;
  const int t1 = min(n_tiles, t0 + p.tiles_per_split);
  const int row0 = row_block * L::kRows;  // first row of the CTA in the group's rows
  const int rows = min(L::kRows, p.rows - row0);
  const float log2_lambda = decode_skip_log2_lambda(p.threshold, skip_length(p.skip_seqlen_kv, lk));
  const bool paged = p.block_table != nullptr;
  const int pages_per_tile = paged ? kTileK / p.page_size : 1;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int warp_rows = warp / kKG;  // the warp's 16-row tile
  const int key_group = warp % kKG;
  const int mat = lane / 8, mat_row = lane % 8;
  const int col_in_quad = (lane % 4) * 2;
  const bool warp_active = warp_rows * 16 < rows;
  int my_row[2], last_key[2];
  bool row_valid[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    my_row[i] = warp_rows * 16 + lane / 4 + 8 * i;
    row_valid[i] = my_row[i] < rows;
    const int query = (row0 + my_row[i]) / p.group;
    last_key[i] = p.causal ? min(lk - 1, query + lk - p.seqlen_q) : lk - 1;
  }
  // Of the tile's keys, the ones every row of this CTA may see (causal): a
  // tile wholly below it needs no causal masking.
  const int first_row_last_key = p.causal ? min(lk - 1, row0 / p.group + lk - p.seqlen_q) : lk - 1;

  // Page ids, read ahead a chunk of kPageChunkTiles tiles at a time by all
  // threads (one entry each) so that thread 0 never waits for one: the entry
  // of this thread for chunk c (tiles t0 + c * kPageChunkTiles ...).
  auto chunk_entry = [&](int c) -> int32_t {
    const int tile = t0 + c * kPageChunkTiles + int(threadIdx.x) / kMaxPagesPerTile;
    const int i = int(threadIdx.x) % kMaxPagesPerTile;
    const int first_key = tile * kTileK + i * p.page_size;
    return paged && tile < t1 && i < pages_per_tile && first_key < lk
               ? p.block_table[int64_t(b) * p.max_pages_per_seq + first_key / p.page_size]
               : -1;
  };
  // Thread 0: copies of K (values false) or V of tile t into `dst`,
  // announced on `bar`. K records the tile's pages and valid keys in K ring
  // slot `kslot`; V reads the pages from there.
  auto issue = [&](bool values, int t, int kslot, uint8_t* dst, uint32_t bar) {
    const int slot = kslot;
    const CUtensorMap* map = values ? &tm_v : &tm_k;
    const int key0 = t * kTileK;
    if (!paged) {
      sm90::mbar_arrive_expect_tx(bar, uint32_t(L::kStage));
#pragma unroll
      for (int c = 0; c < kBoxes; ++c) {
        sm90::tma_load_4d(sm90::smem_u32(dst + c * kTileK * kBoxCols * (kFp8 ? 1 : 2)), map, bar, c * kBoxCols, key0,
                          kv_head, b);
      }
      if (!values) {
        valid_keys[slot] = min(kTileK, lk - key0);
        bad_pages[slot] = 0;
      }
      return;
    }
    // The pages holding keys of the tile (a loop of their count: this runs
    // on one thread between two votes of the whole CTA).
    int32_t* pages = stage_pages + slot * kMaxPagesPerTile;
    const int n_pages = min(pages_per_tile, (lk - key0 + p.page_size - 1) / p.page_size);
    uint32_t bad = 0;
    if (!values) {
      const int rel = t - t0;
      const int32_t* ids = page_chunks + ((rel / kPageChunkTiles) % 2) * kThreads + (rel % kPageChunkTiles) * kMaxPagesPerTile;
#pragma unroll 1
      for (int i = 0; i < n_pages; ++i) {
        const int page = ids[i];
        pages[i] = page;
        if (page < 0 || page >= p.num_pages) bad |= 1u << i;
      }
      valid_keys[slot] = min(kTileK, lk - key0);
      bad_pages[slot] = bad;
    } else {
      bad = bad_pages[slot];
    }
    constexpr int kRowBytes = kBoxCols * (kFp8 ? 1 : 2);
    sm90::mbar_arrive_expect_tx(bar, uint32_t(n_pages - __popc(bad)) * uint32_t(p.page_size) * D * (kFp8 ? 1 : 2));
#pragma unroll 1
    for (int i = 0; i < n_pages; ++i) {
      if ((bad >> i) & 1u) continue;
#pragma unroll
      for (int c = 0; c < kBoxes; ++c) {
        // Rows i * page_size.. of box c: 1024-byte aligned (page_size >= 16 rows of >= 64 bytes).
        sm90::tma_load_4d(sm90::smem_u32(dst + (c * kTileK + i * p.page_size) * kRowBytes), map, bar, c * kBoxCols, 0,
                          kv_head, pages[i]);
      }
    }
  };
  // Whether key j of a tile was copied, from the tile's valid-key count and
  // bad-page mask.
  auto key_valid = [&](int valid, uint32_t bad, int j) {
    return j < valid && !((bad >> (j / (paged ? p.page_size : kTileK))) & 1u);
  };

  if (threadIdx.x == 0) {
    for (int s = 0; s < L::kKStages + kVStages; ++s) sm90::mbar_init(bar0 + 8u * s, 1);
    sm90::mbar_init_fence();
  }
  // Q rows into shared memory (cp.async, all threads).
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
    cp_async_commit();
  }
  int32_t page_ahead = 0;  // this thread's entry of the next chunk
  if (paged) {
    page_chunks[threadIdx.x] = chunk_entry(0);
    page_ahead = chunk_entry(1);
  }
  __syncthreads();  // barriers initialized, first page ids published
  if (threadIdx.x == 0) {
#pragma unroll
    for (int s = 0; s < L::kKStages - 1; ++s) {
      if (t0 + s < t1) issue(false, t0 + s, s, k_stage(s), k_bar(s));
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // Q landed for everyone
  float scale_log2 = p.scale_log2;
  if constexpr (kFp8) {
    // bf16 queries for fp16 matrix instructions: scaled by 2^-s so that the
    // largest is below 2^15 (exact for every component above 2^-14 of that
    // scale), the 2^s returning in the logit factor (products are scaled
    // exactly, so the logits and the skip decisions are the reference's).
    float down = 1.0f;
    if constexpr (kBf16) {
      __shared__ unsigned int q_max_bits;
      if (threadIdx.x == 0) q_max_bits = 0u;
      __syncthreads();
      float mx = 0.0f;
      for (int i = threadIdx.x; i < L::kRows * D; i += kThreads) {
        mx = fmaxf(mx, fabsf(__bfloat162float(reinterpret_cast<const __nv_bfloat16*>(q_smem)[swizzled<D>(i / D, i % D)])));
      }
#pragma unroll
      for (int x = 16; x > 0; x /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, x));
      if (lane == 0) atomicMax(&q_max_bits, __float_as_uint(mx));
      __syncthreads();
      const float q_max = __uint_as_float(q_max_bits);
      const int shift = q_max < 32768.0f ? 0 : ilogbf(q_max) - 14;
      down = exp2f(float(-shift));
      scale_log2 *= exp2f(float(shift));
    }
    // One thread per 16 dims of a row: rescaled to fp16 (bf16 queries) and,
    // for the register path, put in fp8_k_dim order.
    for (int i = threadIdx.x; i < L::kRows * (D / 16); i += kThreads) {
      const int r = i / (D / 16), d0 = (i % (D / 16)) * 16;
      uint16_t x[16];
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const uint16_t e = q_smem[swizzled<D>(r, d0 + (L::kFp8InRegisters ? fp8_k_dim(j) : j))];
        x[j] = kBf16 ? float_to_16bit<false>(__bfloat162float(*reinterpret_cast<const __nv_bfloat16*>(&e)) * down) : e;
      }
#pragma unroll
      for (int j = 0; j < 16; ++j) q_smem[swizzled<D>(r, d0 + j)] = x[j];
    }
    __syncthreads();
  }

  float o[kDT][4];
#pragma unroll
  for (int i = 0; i < kDT; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};
  uint32_t p_wait[kNT][2] = {};  // P of the kept tile whose V is still arriving
  bool waiting = false;
  int wait_slot = 0, wait_valid = 0, kept = 0, skipped = 0;
  uint32_t wait_bad = 0;

  // The tile the matrix instructions read of a ring slot: the slot itself,
  // or (kFp8Convert) its 16-bit conversion.
  auto tile16 = [&](uint8_t* stage, int conv) -> const uint8_t* {
    if constexpr (L::kFp8Convert) {
      fp8_to_tile<kMmaBf16, D, kThreads>(stage, smem + conv);
      __syncthreads();
      return smem + conv;
    } else {
      (void)conv;
      return stage;
    }
  };

  // O += P_wait V of ring slot `slot`, whose tile has `valid` copied keys and
  // the bad pages `bad`.
  auto p_times_v = [&](int slot, int valid, uint32_t bad) {
    const uint8_t* vt = tile16(v_stage(slot), L::kVConv);
    if (valid < kTileK || bad != 0) {
      // Rows no copy filled hold stale values: zero them (P is 0 there, but
      // 0 * NaN would not be). A row of either layout is its own D elements.
      constexpr int kRowBytes = D * (L::kFp8InRegisters ? 1 : 2);
      uint8_t* w = const_cast<uint8_t*>(vt);
      for (int i = threadIdx.x; i < kTileK * (kRowBytes / 16); i += kThreads) {
        const int row = i / (kRowBytes / 16), chunk = i % (kRowBytes / 16);
        if (!key_valid(valid, bad, row)) {
          const uint32_t at = L::kFp8InRegisters ? uint32_t(row * kRowBytes + chunk * 16) : tma_tile_offset<D>(row, chunk * 8);
          *reinterpret_cast<uint4*>(w + at) = make_uint4(0, 0, 0, 0);
        }
      }
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // before TMA writes the slot again
      __syncthreads();
    }
    if (!warp_active) return;
    const uint32_t vbase = smem_addr(vt);
    if constexpr (L::kFp8InRegisters) {
      // The warp's 16 keys, 32 dims per ldmatrix: transposed 16-bit pairs
      // give a lane the bytes (key 2c, 2c + 1) x (dim 2g, 2g + 1) (c = lane %
      // 4, g = lane / 4); regrouped by dim, each pair is one fp16x2 B
      // register of dim 2g (even) or 2g + 1 (odd): O's columns come out as
      // [even dims | odd dims] per 16 dims (o[2 dp], o[2 dp + 1]).
      const uint32_t pa[4] = {p_wait[0][0], p_wait[0][1], p_wait[1][0], p_wait[1][1]};
      const int key = key_group * kKeysPerWarp + (mat & 1) * 8 + mat_row;
#pragma unroll
      for (int dq = 0; dq < D / 32; ++dq) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, vbase + fp8_tile_offset<D>(key, dq * 32 + (mat >> 1) * 16));
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const uint32_t lo = __byte_perm(bv[2 * h], 0, 0x3120), hi = __byte_perm(bv[2 * h + 1], 0, 0x3120);
          E::mma(o[4 * dq + 2 * h], pa, e4m3x2_to_f16x2(lo), e4m3x2_to_f16x2(hi));
          E::mma(o[4 * dq + 2 * h + 1], pa, e4m3x2_to_f16x2(lo >> 16), e4m3x2_to_f16x2(hi >> 16));
        }
      }
    } else {
#pragma unroll
      for (int kc = 0; kc < kKeysPerWarp / 16; ++kc) {
        const uint32_t pa[4] = {p_wait[2 * kc][0], p_wait[2 * kc][1], p_wait[2 * kc + 1][0], p_wait[2 * kc + 1][1]};
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t bv[4];
          const int key = key_group * kKeysPerWarp + kc * 16 + mat_row + (mat & 1) * 8;
          ldmatrix_x4_trans(bv, vbase + tma_tile_offset<D>(key, dp * 16 + (mat >> 1) * 8));
          E::mma(o[2 * dp], pa, bv[0], bv[1]);
          E::mma(o[2 * dp + 1], pa, bv[2], bv[3]);
        }
      }
    }
  };

  for (int t = t0; t < t1; ++t) {
    const int it = t - t0;
    const int slot = it % L::kKStages;
    if (paged && it % kPageChunkTiles == kPageChunkTiles - L::kKStages) {
      // Chunk c + 1 is first read by the K copy after the next vote; its
      // entries, read a chunk ago, become visible at this tile's vote.
      const int c = it / kPageChunkTiles;
      page_chunks[((c + 1) % 2) * kThreads + threadIdx.x] = page_ahead;
      page_ahead = chunk_entry(c + 2);
    }
    sm90::mbar_wait(k_bar(slot), uint32_t(it / L::kKStages) & 1u);
    const uint8_t* kt = tile16(k_stage(slot), L::kKConv);

    // S = Q K^T over this warp's keys of the tile.
    float s[kNT][4];
#pragma unroll
    for (int i = 0; i < kNT; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
    if (L::kFp8InRegisters && warp_active) {
      // The warp's 16 keys, two k steps per ldmatrix: a lane's 4 FP8 bytes of
      // a key row are its k slots (2c, 2c + 1) and (2c + 8, 2c + 9) in Q's
      // fp8_k_dim order.
      const uint32_t kbase = smem_addr(kt);
      const int key = key_group * kKeysPerWarp + (mat & 1) * 8 + mat_row;
#pragma unroll
      for (int kc = 0; kc < kKC; kc += 2) {
        uint32_t bk[4];
        ldmatrix_x4(bk, kbase + fp8_tile_offset<D>(key, (kc + (mat >> 1)) * 16));
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          uint32_t qa[4];
          ldmatrix_x4(qa, smem_addr(q_smem) + 2u * swizzled<D>(mat_row + (mat & 1) * 8, (kc + h) * 16 + (mat >> 1) * 8));
          E::mma(s[0], qa, e4m3x2_to_f16x2(bk[2 * h]), e4m3x2_to_f16x2(bk[2 * h] >> 16));
          E::mma(s[1], qa, e4m3x2_to_f16x2(bk[2 * h + 1]), e4m3x2_to_f16x2(bk[2 * h + 1] >> 16));
        }
      }
    } else if (warp_active) {
      const uint32_t kbase = smem_addr(kt);
#pragma unroll
      for (int kc = 0; kc < kKC; ++kc) {
        uint32_t qa[4];  // Q fragments are read again each tile: registers go to S, O and P
        ldmatrix_x4(qa, smem_addr(q_smem) + 2u * swizzled<D>(warp_rows * 16 + mat_row + (mat & 1) * 8,
                                                             kc * 16 + (mat >> 1) * 8));
#pragma unroll
        for (int np = 0; np < kNT / 2; ++np) {
          uint32_t bk[4];
          const int key = key_group * kKeysPerWarp + np * 16 + mat_row + (mat >> 1) * 8;
          ldmatrix_x4(bk, kbase + tma_tile_offset<D>(key, kc * 16 + (mat & 1) * 8));
          E::mma(s[2 * np], qa, bk[0], bk[1]);
          E::mma(s[2 * np + 1], qa, bk[2], bk[3]);
        }
      }
    }
    // Mask (only a tile that needs it), then the row maxima of this warp's
    // keys (scaled, log2 units).
    const int k0 = t * kTileK;
    const int valid = valid_keys[slot];
    const uint32_t bad = bad_pages[slot];
    const bool full = valid == kTileK && bad == 0 && k0 + kTileK - 1 <= first_row_last_key;
    float pm[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int j = key_group * kKeysPerWarp + nt * 8 + col_in_quad + (e & 1);
        const int i = e >> 1;
        if (!row_valid[i] || (!full && (!key_valid(valid, bad, j) || k0 + j > last_key[i]))) s[nt][e] = -INFINITY;
        pm[i] = fmaxf(pm[i], s[nt][e]);
      }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 1));
      pm[i] = fmaxf(pm[i], __shfl_xor_sync(0xffffffffu, pm[i], 2));
      pm[i] *= scale_log2;
    }
    // The vote: a row allows the skip when its maximum over these keys does
    // (the tile's maximum is below m + log2(lambda) iff every part of it is).
    bool allow = it > 0;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      if (row_valid[i]) allow = allow && row_allows_skip(pm[i], m_run[i], log2_lambda);
      if (kKG > 1 && (lane % 4) == 0) partial_max[((it & 1) * kKG + key_group) * L::kRows + my_row[i]] = pm[i];
    }
    const bool skip = __syncthreads_and(allow) != 0;
    if (p.decisions != nullptr && threadIdx.x == 0) {
      p.decisions[decision_index(p.num_kv_heads, p.row_tiles, p.max_tiles, b, kv_head, row_block, t)] = skip ? kTileSkipped : kTileKept;
    }
    float tile_max[2] = {pm[0], pm[1]};
    if constexpr (kKG > 1) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int g = 0; g < kKG; ++g) {
          tile_max[i] = fmaxf(tile_max[i], partial_max[((it & 1) * kKG + g) * L::kRows + my_row[i]]);
        }
      }
    }

    // Copies, on two threads of different warps: V of a kept tile, and K of
    // the tile kKStages - 1 ahead into the slot of tile t - 1 (read by every
    // warp, and its pages by the V copy of tile t - 1, before this vote).
    const int v_slot = kept % kVStages;
    if (!skip && threadIdx.x == 0) issue(true, t, slot, v_stage(v_slot), v_bar(v_slot));
    if (threadIdx.x == kThreads - 32 && t + L::kKStages - 1 < t1) {
      const int ahead = (it + L::kKStages - 1) % L::kKStages;
      issue(false, t + L::kKStages - 1, ahead, k_stage(ahead), k_bar(ahead));
    }
    if (waiting) {
      sm90::mbar_wait(v_bar(wait_slot), uint32_t((kept - 1) / kVStages) & 1u);
      p_times_v(wait_slot, wait_valid, wait_bad);
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
      const float p0 = softmax_weight(s[nt][0], scale_log2, m_use[0]);
      const float p1 = softmax_weight(s[nt][1], scale_log2, m_use[0]);
      const float p2 = softmax_weight(s[nt][2], scale_log2, m_use[1]);
      const float p3 = softmax_weight(s[nt][3], scale_log2, m_use[1]);
      l_run[0] += p0 + p1;
      l_run[1] += p2 + p3;
      p_wait[nt][0] = pack_pair<kMmaBf16>(p0, p1);
      p_wait[nt][1] = pack_pair<kMmaBf16>(p2, p3);
    }
    waiting = true;
    wait_slot = v_slot;
    wait_valid = valid;
    wait_bad = bad;
    ++kept;
  }
  if (waiting) {
    __syncthreads();  // the last P.V in the loop read the tile this one converts or zeroes into
    sm90::mbar_wait(v_bar(wait_slot), uint32_t((kept - 1) / kVStages) & 1u);
    p_times_v(wait_slot, wait_valid, wait_bad);
  }
  __syncthreads();  // every tile read: the front of shared memory becomes the sums

  // Epilogue: each warp's rows, summed over the key groups.
  float* o_sum = reinterpret_cast<float*>(smem);
  float* l_sum = reinterpret_cast<float*>(smem + L::kReduceL);
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 1);
    l_run[i] += __shfl_xor_sync(0xffffffffu, l_run[i], 2);
    float* orow = o_sum + (key_group * L::kRows + my_row[i]) * L::kOStride;
    if constexpr (L::kFp8InRegisters) {
      // o[2 dp] holds dims 16 dp + 4c and + 2, o[2 dp + 1] dims + 1 and + 3.
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        *reinterpret_cast<float4*>(orow + dp * 16 + 2 * col_in_quad) =
            make_float4(o[2 * dp][2 * i], o[2 * dp + 1][2 * i], o[2 * dp][2 * i + 1], o[2 * dp + 1][2 * i + 1]);
      }
    } else {
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        *reinterpret_cast<float2*>(orow + dt * 8 + col_in_quad) = make_float2(o[dt][2 * i], o[dt][2 * i + 1]);
      }
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
#endif  // __CUDA_ARCH__ >= 900
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
void launch(const CUtensorMap& k, const CUtensorMap& v, const DecodeParams& params, dim3 grid, cudaStream_t stream,
            const char* function) {
  launch_checked(decode_kernel<kBf16, D, kRowTiles, kFp8>, grid, dim3(kThreads), Smem<D, kRowTiles, kFp8>::kBytes,
                 stream, function, k, v, params);
}

template <bool kBf16, int D, bool kFp8>
void launch_rows(const DecodeProblem& pr, const CUtensorMap& k, const CUtensorMap& v, const DecodeParams& params,
                 dim3 grid, cudaStream_t s, const char* function) {
  if (pr.plan.rows <= 16) {
    launch<kBf16, D, 1, kFp8>(k, v, params, grid, s, function);
  } else {
    launch<kBf16, D, 8, kFp8>(k, v, params, grid, s, function);
  }
}

template <bool kBf16>
void launch_dtype(const DecodeProblem& pr, const CUtensorMap& k, const CUtensorMap& v, const DecodeParams& params,
                  dim3 grid, cudaStream_t s, const char* function) {
  const bool fp8 = pr.kv.fp8();
  if (pr.kv.head_dim == 128) {
    fp8 ? launch_rows<kBf16, 128, true>(pr, k, v, params, grid, s, function)
        : launch_rows<kBf16, 128, false>(pr, k, v, params, grid, s, function);
  } else {
    fp8 ? launch_rows<kBf16, 64, true>(pr, k, v, params, grid, s, function)
        : launch_rows<kBf16, 64, false>(pr, k, v, params, grid, s, function);
  }
}

}  // namespace

void launch_decode_cuda(const DecodeProblem& pr, void* stream, const char* function) {
  require_cuda_device(function);
  int device = 0, major = 0;
  cuda_check(cudaGetDevice(&device), function, "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), function,
             "cudaDeviceGetAttribute");
  if (major < 9) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": the decode kernel needs a Hopper (sm_90) GPU or later (TMA)");
  }
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  DecodeParams params;
  params.q = static_cast<const uint16_t*>(pr.q.data);
  params.q_stride[0] = pr.q.batch_stride;
  params.q_stride[1] = pr.q.token_stride;
  params.q_stride[2] = pr.q.head_stride;
  params.out = static_cast<uint16_t*>(pr.out);
  for (int i = 0; i < 3; ++i) params.o_stride[i] = pr.out_strides[i];
  params.seqlens = pr.kv.seqlens_kv;
  params.max_seqlen = pr.kv.max_seqlen_kv;
  params.block_table = pr.kv.paged() ? pr.kv.block_table : nullptr;
  params.max_pages_per_seq = pr.kv.max_pages_per_seq;
  params.page_size = pr.kv.paged() ? pr.kv.page_size : kTileK;
  params.num_pages = pr.kv.num_pages;
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
  // Tensor maps of the two pools: (columns, rows, heads, batch or page).
  const KvCache& kv = pr.kv;
  const bool fp8 = kv.fp8();
  const CUtensorMapDataType type = fp8 ? CU_TENSOR_MAP_DATA_TYPE_UINT8
                                   : pr.dtype == SPATTN_DTYPE_BFLOAT16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                                       : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  const cuuint64_t dims[4] = {cuuint64_t(kv.head_dim),
                              cuuint64_t(std::max(1, kv.paged() ? kv.page_size : kv.max_seqlen_kv)),
                              cuuint64_t(kv.num_kv_heads), cuuint64_t(kv.paged() ? kv.num_pages : pr.batch)};
  CUtensorMap maps[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t* st = i == 0 ? kv.k_strides : kv.v_strides;
    const int64_t elem_strides[3] = {st[1], st[2], st[0]};  // rows, heads, batch or page
    if (!make_map_4d(&maps[i], type, kv.element_bytes(), i == 0 ? kv.k : kv.v, dims, elem_strides,
                     fp8 ? kv.head_dim : 64, kv.paged() ? kv.page_size : kTileK,
                     !fp8 || fp8_tile_swizzle_bytes(kv.head_dim) == 128 ? CU_TENSOR_MAP_SWIZZLE_128B
                                                                        : CU_TENSOR_MAP_SWIZZLE_64B)) {
      fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": the KV cache's " + (i == 0 ? "K" : "V") +
                                       " pool cannot be described for TMA (strides, extents or driver)");
    }
  }
  const dim3 grid(pr.plan.num_splits, pr.kv.num_kv_heads * pr.plan.row_tiles, pr.batch);
  const bool bf16 = pr.dtype == SPATTN_DTYPE_BFLOAT16;
  if (bf16) {
    launch_dtype<true>(pr, maps[0], maps[1], params, grid, s, function);
  } else {
    launch_dtype<false>(pr, maps[0], maps[1], params, grid, s, function);
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
