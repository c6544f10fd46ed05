// The fine stage of VSA for Hopper (sm_90a): block-sparse flash attention
// of each 64-token query cube over its kept 64-token key cubes, with the
// output combine (out = coarse * gate + fine) and the LSE in the epilogue.
// Built like the dense sm_90a kernel (cuda/prefill/attention_forward_sm90.cu):
// TMA loads into 128-byte-swizzled shared memory, an mbarrier K/V ring,
// wgmma with the accumulators in registers.
//
// One CTA = one query cube of one (batch, head): 5 warps.
//  - warps 0-3, one consumer warpgroup: S = Q K^T for one key cube
//    (m64n64k16 x head_dim/16, Q and K from shared memory), pad keys masked,
//    online softmax, O += P V (m64n{64,128}k16 x 4, P from registers). Of a
//    ragged key cube, P V runs only over the 16-key steps holding valid keys:
//    the edge cubes of a Wan latent (21 x 45 frames x rows, 4x4x4 cubes)
//    hold 16 of 64 keys.
//  - warp 4, the producer: one thread loads Q once, then walks the query
//    cube's kept list (increasing cube index, as the selection wrote it),
//    loading each key cube's K and V into a ring of kStages slots.
// Two (d128) or three (d64) CTAs share an SM, so one CTA's softmax overlaps
// another's matrix work (what the dense kernel gets from its two consumer
// warpgroups; here the two warpgroups would need different key cubes, and
// two separate K/V rings of 128-key slots do not fit in shared memory).
// Where this differs from ThunderKittens' block_sparse_h100.cu, which inspired
// it: a dedicated producer warp and a kStages-deep ring with empty barriers
// instead of single buffers reloaded by the consumer, and the epilogue fuses
// the gate and the coarse output.
//
// Pipeline, per ring slot s: k_full / v_full (TMA landed; the producer's
// arrive.expect_tx is the one arrival), k_empty / v_empty (one arrival per
// consumer warp once its wgmma reading the slot completed). Round r of a
// slot uses phase parity r & 1; the producer starts by waiting parity 1
// (complete at once on fresh barriers).
//
// Pads: keys at slots >= valid(cube) get a logit of -inf, so P is exactly 0
// there (the pad rows of V must be finite: 0 * inf is NaN; the gather
// writes zeros). Query rows >= valid(query cube) are computed and dropped:
// the epilogue writes 0 and an LSE of -inf for them.
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "attention/vsa_rules.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "common/sm90_ptx.cuh"
#include "common/tma_map.hpp"
#include "vsa/vsa_stages.hpp"

namespace spattn::attention::vsa {
namespace {

// The wgmma/TMA code exists only in the sm_90a device pass.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SPATTN_VSA_SM90A_DEVICE 1
#else
#define SPATTN_VSA_SM90A_DEVICE 0
#endif

using namespace spattn::attention::sm90;

constexpr int kCube = kGpuCubeVolume;  // rows of a Q, K or V tile
constexpr int kConsumerThreads = 128;
constexpr int kThreads = kConsumerThreads + 32;  // + the producer warp
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
struct FineLayout {
  // K/V ring depth and CTAs per SM: d128 80 KB per CTA (2 per SM), d64 72 KB (3 per SM).
  static constexpr int kStages = D == 128 ? 2 : 4;
  static constexpr int kMinBlocks = D == 128 ? 2 : 3;
  static constexpr int kBlockBytes = kCube * 128;  // one 64-column block of a 64-row tile
  static constexpr int kTileBytes = kCube * D * 2;  // D/64 such blocks
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kTileBytes;
  static constexpr int kV = kK + kStages * kTileBytes;
  static constexpr int kBarriers = kV + kStages * kTileBytes;
  // q_full, then per slot k_full, v_full, k_empty, v_empty.
  static constexpr int kBytes = kBarriers + 8 * (1 + 4 * kStages);
  static constexpr int kAlloc = kBytes + 1024;  // room to align the base to 1024 bytes
};

struct FineParams {
  uint16_t* out;
  int64_t o_stride[3];
  const uint16_t* gate;  // NULL: gate 1
  int64_t g_stride[3];
  const uint16_t* coarse;    // [batch][C][heads][D]
  const int32_t* selected;   // [batch][heads][C][kept]
  float* lse;                // [batch][heads][padded] or NULL
  Geometry geo;
  int32_t num_heads;
  int32_t heads_per_kv;
  int32_t kept;     // row length of `selected`
  int32_t visited;  // key cubes attended: kept (kept - 1 in the kDropLastCube mutation)
  float scale_log2;
};

// S = Q K^T over a key tile's 64 keys: head_dim / 16 wgmma k-steps, Q and
// K in shared memory (128-byte swizzle, 64-column blocks of kCube rows).
// (Narrower shapes for ragged cubes, m64n{16,32,48}k16, would save work too,
// but a second accumulator shape in the kernel makes ptxas serialize every
// wgmma, C7511.)
template <class M, int D>
__device__ __forceinline__ void qk_tile(float (&sc)[32], uint64_t q_desc, uint64_t k_desc) {
  constexpr int kBlockBytes = kCube * 128;
  wgmma_fence();
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    const uint64_t off = ((ks / 4) * kBlockBytes + (ks % 4) * 32) >> 4;
    M::qk(sc, q_desc + off, k_desc + off, ks > 0 ? 1 : 0);
  }
  wgmma_commit();
  wgmma_wait<0>();
}

// O += P V over the first 16 * kSteps keys of a value tile (P in registers,
// V MN-major in shared memory: 16 keys = two 8-row atoms per step).
template <class M, int kSteps, int kAccumulators>
__device__ __forceinline__ void pv_tile(float (&o)[kAccumulators], const uint32_t (&pa)[4][4], uint64_t v_desc) {
  wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kSteps; ++kk) M::pv(o, pa[kk], v_desc + ((kk * 16 * 128) >> 4));
  wgmma_commit();
  wgmma_wait<0>();
}

template <bool kBf16, int D>
__global__ void __launch_bounds__(kThreads, FineLayout<D>::kMinBlocks)
    vsa_fine_sm90_kernel(const __grid_constant__ CUtensorMap tm_q, const __grid_constant__ CUtensorMap tm_k,
                         const __grid_constant__ CUtensorMap tm_v, const FineParams p) {
#if SPATTN_VSA_SM90A_DEVICE
  using L = FineLayout<D>;
  using M = Wgmma<kBf16>;
  constexpr int kStages = L::kStages;
  constexpr int kBlocks = D / 64;  // 64-column (128-byte) blocks per row

  extern __shared__ uint8_t smem_raw[];
  const uint32_t base = (smem_u32(smem_raw) + 1023u) & ~1023u;  // swizzle atoms: 1024-byte aligned
  const uint32_t q_smem = base + L::kQ;
  auto k_smem = [&](int s) { return base + L::kK + uint32_t(s) * L::kTileBytes; };
  auto v_smem = [&](int s) { return base + L::kV + uint32_t(s) * L::kTileBytes; };
  const uint32_t q_full = base + L::kBarriers;
  auto k_full = [&](int s) { return q_full + 8u * (1 + s); };
  auto v_full = [&](int s) { return q_full + 8u * (1 + kStages + s); };
  auto k_empty = [&](int s) { return q_full + 8u * (1 + 2 * kStages + s); };
  auto v_empty = [&](int s) { return q_full + 8u * (1 + 3 * kStages + s); };

  const int cube = blockIdx.x;
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const int kv_head = head / p.heads_per_kv;
  const int32_t* kept_list =
      p.selected + ((int64_t(batch) * p.num_heads + head) * p.geo.num_cubes + cube) * p.kept;
  const int n = p.visited;

  if (threadIdx.x == 0) {
    mbar_init(q_full, 1);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(k_full(s), 1);
      mbar_init(v_full(s), 1);
      mbar_init(k_empty(s), 4);  // one arrival per consumer warp
      mbar_init(v_empty(s), 4);
    }
    mbar_init_fence();
  }
  __syncthreads();

  if (threadIdx.x >= kConsumerThreads) {
    // ---------------- producer ----------------
    if (threadIdx.x == kConsumerThreads && n > 0) {
      mbar_arrive_expect_tx(q_full, L::kTileBytes);
      for (int b = 0; b < kBlocks; ++b) {
        tma_load_4d(q_smem + b * L::kBlockBytes, &tm_q, q_full, b * 64, cube * kCube, head, batch);
      }
      for (int t = 0; t < n; ++t) {
        const int s = t % kStages;
        const uint32_t parity = (t / kStages) & 1;
        const int key_cube = __ldg(kept_list + t);
        mbar_wait(k_empty(s), parity ^ 1);
        mbar_arrive_expect_tx(k_full(s), L::kTileBytes);
        for (int b = 0; b < kBlocks; ++b) {
          tma_load_4d(k_smem(s) + b * L::kBlockBytes, &tm_k, k_full(s), b * 64, key_cube * kCube, kv_head, batch);
        }
        mbar_wait(v_empty(s), parity ^ 1);
        mbar_arrive_expect_tx(v_full(s), L::kTileBytes);
        for (int b = 0; b < kBlocks; ++b) {
          tma_load_4d(v_smem(s) + b * L::kBlockBytes, &tm_v, v_full(s), b * 64, key_cube * kCube, kv_head, batch);
        }
      }
    }
    return;
  }

  // ---------------- consumers ----------------
  const int tid = threadIdx.x;
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int col_in_quad = (lane % 4) * 2;
  const int row0 = warp * 16 + lane / 4;  // this thread's rows of the cube: row0, row0 + 8

  float o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};
  float l_run[2] = {0.0f, 0.0f};

  // wgmma descriptors (see the dense kernel): Q and K K-major, 8-row atoms
  // 1024 bytes apart; V MN-major, 16 keys = two atoms per k-step, column
  // blocks kBlockBytes apart.
  const uint64_t q_desc = smem_desc_sw128(q_smem, 16, 1024);
  const uint64_t k_desc0 = smem_desc_sw128(k_smem(0), 16, 1024);
  const uint64_t v_desc0 = smem_desc_sw128(v_smem(0), L::kBlockBytes, 1024);
  constexpr uint64_t kSlotStep = L::kTileBytes >> 4;

  if (n > 0) mbar_wait(q_full, 0);
  for (int t = 0; t < n; ++t) {
    const int s = t % kStages;
    const uint32_t parity = (t / kStages) & 1;
    const int valid_keys = cube_valid(p.geo, __ldg(kept_list + t));

    // S = Q K^T over the key cube's 64 slots.
    float sc[32];
    mbar_wait(k_full(s), parity);
    qk_tile<M, D>(sc, q_desc, k_desc0 + uint64_t(s) * kSlotStep);
    if (lane == 0) mbar_arrive(k_empty(s));

    // Pad keys of a ragged cube: -inf.
    if (valid_keys < kCube) {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int key = j * 8 + col_in_quad;
        if (key >= valid_keys) sc[4 * j + 0] = sc[4 * j + 2] = -INFINITY;
        if (key + 1 >= valid_keys) sc[4 * j + 1] = sc[4 * j + 3] = -INFINITY;
      }
    }

    // Row maxima (a quad of lanes shares a row), online softmax, P.
    float mx[2], m_use[2];
    tile_row_max<8>(sc, p.scale_log2, mx);
    rescale_rows<D / 8>(o, m_run, l_run, mx, m_use);
    exponentiate<8>(sc, p.scale_log2, m_use, l_run);
    uint32_t pa[4][4];
    pack_p<kBf16, 4>(sc, pa);

    // O += P V, over the 16-key steps that hold valid keys (valid keys come
    // first: a ragged cube needs fewer steps).
    mbar_wait(v_full(s), parity);
    const uint64_t v_desc = v_desc0 + uint64_t(s) * kSlotStep;
    if (valid_keys > 48) pv_tile<M, 4>(o, pa, v_desc);
    else if (valid_keys > 32) pv_tile<M, 3>(o, pa, v_desc);
    else if (valid_keys > 16) pv_tile<M, 2>(o, pa, v_desc);
    else pv_tile<M, 1>(o, pa, v_desc);
    if (lane == 0) mbar_arrive(v_empty(s));
  }

  // Epilogue: normalize; out = coarse * gate + fine; LSE. Pad rows: 0, -inf.
  float inv[2];
  finish_row_sums(l_run, inv);
  const int valid_rows = cube_valid(p.geo, cube);
  const uint16_t* coarse = p.coarse + ((int64_t(batch) * p.geo.num_cubes + cube) * p.num_heads + head) * D;
  const int rows[2] = {row0, row0 + 8};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t token = int64_t(cube) * kCube + rows[i];
    uint16_t* orow = p.out + batch * p.o_stride[0] + token * p.o_stride[1] + head * p.o_stride[2];
    const bool valid = rows[i] < valid_rows;
    if (!valid) {
#pragma unroll
      for (int j = 0; j < D / 8; ++j) *reinterpret_cast<uint32_t*>(orow + j * 8 + col_in_quad) = 0u;
    } else {
      const uint16_t* grow = p.gate != nullptr
                                 ? p.gate + batch * p.g_stride[0] + token * p.g_stride[1] + head * p.g_stride[2]
                                 : nullptr;
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        const int col = j * 8 + col_in_quad;
        const float2 c = unpack_pair<kBf16>(*reinterpret_cast<const uint32_t*>(coarse + col));
        const float2 g = grow != nullptr ? unpack_pair<kBf16>(*reinterpret_cast<const uint32_t*>(grow + col))
                                         : make_float2(1.0f, 1.0f);
        *reinterpret_cast<uint32_t*>(orow + col) =
            pack_pair<kBf16>(fmaf(c.x, g.x, o[4 * j + 2 * i] * inv[i]), fmaf(c.y, g.y, o[4 * j + 2 * i + 1] * inv[i]));
      }
    }
    if (p.lse != nullptr && (lane % 4) == 0) {
      p.lse[(int64_t(batch) * p.num_heads + head) * p.geo.padded_tokens + token] =
          valid ? row_lse(m_run[i], l_run[i]) : -INFINITY;
    }
  }
#endif  // SPATTN_VSA_SM90A_DEVICE
}

template <bool kBf16, int D>
void launch(const CUtensorMap& q, const CUtensorMap& k, const CUtensorMap& v, const FineParams& p, dim3 grid,
            cudaStream_t stream, const char* function) {
  auto kernel = vsa_fine_sm90_kernel<kBf16, D>;
  constexpr int kSmem = FineLayout<D>::kAlloc;
  cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem), function,
             "cudaFuncSetAttribute (VSA fine stage)");
  kernel<<<grid, kThreads, kSmem, stream>>>(q, k, v, p);
  cuda_check(cudaGetLastError(), function, "VSA fine stage kernel launch");
}

}  // namespace

bool launch_fine_sm90(const Problem& pr, const uint16_t* coarse, const int32_t* selected, Mutation mutation,
                      cudaStream_t stream, const char* function) {
  const bool bf16 = pr.bf16();
  const int tokens = int(pr.geo.padded_tokens);
  CUtensorMap q, k, v;
  if (!sm90::make_map(&q, pr.q, bf16, pr.head_dim, tokens, pr.num_heads, pr.batch, kCube) ||
      !sm90::make_map(&k, pr.k, bf16, pr.head_dim, tokens, pr.num_kv_heads, pr.batch, kCube) ||
      !sm90::make_map(&v, pr.v, bf16, pr.head_dim, tokens, pr.num_kv_heads, pr.batch, kCube)) {
    return false;
  }
  FineParams p;
  p.out = static_cast<uint16_t*>(pr.out);
  p.gate = static_cast<const uint16_t*>(pr.gate.data);
  for (int i = 0; i < 3; ++i) p.o_stride[i] = pr.out_strides[i];
  p.g_stride[0] = pr.gate.batch_stride;
  p.g_stride[1] = pr.gate.token_stride;
  p.g_stride[2] = pr.gate.head_stride;
  p.coarse = coarse;
  p.selected = selected;
  p.lse = pr.lse;
  p.geo = pr.geo;
  p.num_heads = pr.num_heads;
  p.heads_per_kv = pr.num_heads / pr.num_kv_heads;
  p.kept = pr.geo.kept;
  p.visited = mutation == Mutation::kDropLastCube ? pr.geo.kept - 1 : pr.geo.kept;
  p.scale_log2 = pr.softmax_scale * kLog2e;
  const dim3 grid(pr.geo.num_cubes, pr.num_heads, pr.batch);
  if (bf16 && pr.head_dim == 128) launch<true, 128>(q, k, v, p, grid, stream, function);
  else if (bf16) launch<true, 64>(q, k, v, p, grid, stream, function);
  else if (pr.head_dim == 128) launch<false, 128>(q, k, v, p, grid, stream, function);
  else launch<false, 64>(q, k, v, p, grid, stream, function);
  return true;
}

}  // namespace spattn::attention::vsa
