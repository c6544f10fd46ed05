// The coarse side of VSA on the GPU: cube means, selection scores and the
// top-k selection (the coarse attention itself runs on the dense attention
// kernel, from vsa_forward.cu). Every float32 operation whose result decides
// the selection is the one of src/attention/vsa_rules.hpp, in the same
// order as the CPU reference, so both select the same cubes bit for bit:
//  - means: one thread per (cube, head, 8 dimensions) sums the valid slots in
//    slot order (each addition rounded), divides (IEEE), rounds to the dtype;
//  - scores: a 64 x 64 block of (query cube, key cube) pairs per CTA, each
//    thread a 4 x 4 register tile; every score is one fmaf chain over the
//    dimensions in increasing order, fed from shared memory in chunks of 32
//    dimensions (the chunks, too, in increasing order);
//  - selection: one CTA per score row. The kept-th largest ranking key T is
//    found by a bitwise search (32 block-wide counts over the row's keys in
//    shared memory); the kept cubes are every key above T and the lowest
//    indices among those equal to T, written in increasing index order by a
//    block-wide running count.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/vsa_rules.hpp"
#include "common/cuda_check.hpp"
#include "common/kernel_common.cuh"
#include "vsa/vsa_stages.hpp"

namespace spattn::attention::vsa {
namespace {

// ---------------------------------------------------------------------------
// Means

constexpr int kMeanThreads = 128;

template <bool kBf16>
__global__ void __launch_bounds__(kMeanThreads)
    cube_means_kernel(const uint16_t* __restrict__ src, int64_t s_batch, int64_t s_token, int64_t s_head,
                      uint16_t* __restrict__ means, const Geometry g, int32_t heads, int32_t dim) {
  const int32_t c = blockIdx.x;
  const int32_t b = blockIdx.y;
  const int32_t valid = cube_valid(g, c);
  const int32_t chunks_per_head = dim / 8;
  const uint16_t* cube = src + b * s_batch + int64_t(c) * g.volume * s_token;
  uint16_t* out = means + (int64_t(b) * g.num_cubes + c) * heads * dim;
  for (int32_t x = threadIdx.x; x < heads * chunks_per_head; x += kMeanThreads) {
    const int32_t h = x / chunks_per_head;
    const int32_t d0 = (x % chunks_per_head) * 8;
    const uint16_t* p = cube + h * s_head + d0;
    float sum[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll 4
    for (int32_t s = 0; s < valid; ++s) {
      const uint4 raw = *reinterpret_cast<const uint4*>(p + s * s_token);
      const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
      for (int w = 0; w < 4; ++w) {
        const float2 f = unpack_pair<kBf16>(words[w]);
        sum[2 * w] = mean_add(sum[2 * w], f.x);
        sum[2 * w + 1] = mean_add(sum[2 * w + 1], f.y);
      }
    }
    uint4 packed;
    packed.x = pack_pair<kBf16>(mean_finish(sum[0], valid), mean_finish(sum[1], valid));
    packed.y = pack_pair<kBf16>(mean_finish(sum[2], valid), mean_finish(sum[3], valid));
    packed.z = pack_pair<kBf16>(mean_finish(sum[4], valid), mean_finish(sum[5], valid));
    packed.w = pack_pair<kBf16>(mean_finish(sum[6], valid), mean_finish(sum[7], valid));
    *reinterpret_cast<uint4*>(out + h * dim + d0) = packed;
  }
}

// ---------------------------------------------------------------------------
// Scores

constexpr int kScoreTile = 64;   // query cubes x key cubes per CTA
constexpr int kScoreChunk = 32;  // dimensions staged in shared memory at a time
constexpr int kScoreThreads = 256;

// Stages rows [row0, row0 + 64) x dims [d0, d0 + 32) of a [C][heads][dim]
// mean tensor as floats, transposed (dimension-major); rows past C are 0.
template <bool kBf16>
__device__ __forceinline__ void stage_means(float (&dst)[kScoreChunk][kScoreTile], const uint16_t* means,
                                            int32_t row0, int32_t C, int32_t heads, int32_t head, int32_t dim,
                                            int32_t d0) {
  const int row = threadIdx.x / 4, part = threadIdx.x % 4;  // 64 rows x 4 pieces of 8 dimensions
  float f[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  if (row0 + row < C) {
    const uint4 raw =
        *reinterpret_cast<const uint4*>(means + (int64_t(row0 + row) * heads + head) * dim + d0 + part * 8);
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const float2 x = unpack_pair<kBf16>(words[w]);
      f[2 * w] = x.x;
      f[2 * w + 1] = x.y;
    }
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) dst[part * 8 + e][row] = f[e];
}

template <bool kBf16>
__global__ void __launch_bounds__(kScoreThreads)
    scores_kernel(const uint16_t* __restrict__ q_means, const uint16_t* __restrict__ k_means,
                  float* __restrict__ scores, int32_t C, int32_t heads, int32_t kv_heads, int32_t dim) {
  __shared__ __align__(16) float qs[kScoreChunk][kScoreTile];
  __shared__ __align__(16) float ks[kScoreChunk][kScoreTile];
  const int32_t b = blockIdx.z / heads, h = blockIdx.z % heads;
  const int32_t kvh = h / (heads / kv_heads);
  const int32_t i0 = blockIdx.y * kScoreTile, j0 = blockIdx.x * kScoreTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const uint16_t* qm = q_means + int64_t(b) * C * heads * dim;
  const uint16_t* km = k_means + int64_t(b) * C * kv_heads * dim;
  float acc[4][4];
#pragma unroll
  for (int r = 0; r < 4; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c) acc[r][c] = 0.0f;
  for (int32_t d0 = 0; d0 < dim; d0 += kScoreChunk) {
    stage_means<kBf16>(qs, qm, i0, C, heads, h, dim, d0);
    stage_means<kBf16>(ks, km, j0, C, kv_heads, kvh, dim, d0);
    __syncthreads();
#pragma unroll 8
    for (int dd = 0; dd < kScoreChunk; ++dd) {
      const float4 a = *reinterpret_cast<const float4*>(&qs[dd][ty * 4]);
      const float4 k = *reinterpret_cast<const float4*>(&ks[dd][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w}, kv[4] = {k.x, k.y, k.z, k.w};
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[r][c] = score_step(acc[r][c], av[r], kv[c]);
    }
    __syncthreads();
  }
  float* row_base = scores + (int64_t(b) * heads + h) * C * C;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int32_t i = i0 + ty * 4 + r;
    if (i >= C) continue;
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int32_t j = j0 + tx * 4 + c;
      if (j < C) row_base[int64_t(i) * C + j] = acc[r][c];
    }
  }
}

// ---------------------------------------------------------------------------
// Selection

constexpr int kSelectThreads = 256;
constexpr int kSelectWarps = kSelectThreads / 32;

// The sum of `value` over the CTA (every thread must call).
__device__ __forceinline__ int block_sum(int value, int* scratch) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) value += __shfl_xor_sync(0xffffffffu, value, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = value;
  __syncthreads();
  int total = 0;
#pragma unroll
  for (int w = 0; w < kSelectWarps; ++w) total += scratch[w];
  __syncthreads();  // scratch is reused by the next call
  return total;
}

// How many threads of lower index in the CTA have `flag` set; `total` gets
// the count over the CTA (every thread must call).
__device__ __forceinline__ int block_count_before(bool flag, int& total, int* scratch) {
  const unsigned ballot = __ballot_sync(0xffffffffu, flag);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) scratch[warp] = __popc(ballot);
  __syncthreads();
  int before = __popc(ballot & ((1u << lane) - 1u));
  total = 0;
#pragma unroll
  for (int w = 0; w < kSelectWarps; ++w) {
    const int n = scratch[w];
    if (w < warp) before += n;
    total += n;
  }
  __syncthreads();
  return before;
}

__global__ void __launch_bounds__(kSelectThreads)
    select_kernel(const float* __restrict__ scores, int32_t* __restrict__ selected, int32_t C, int32_t kept,
                  int32_t ties_to_higher) {
  extern __shared__ uint32_t keys[];
  __shared__ int scratch[kSelectWarps];
  const int64_t row = blockIdx.x;
  const float* s = scores + row * C;
  for (int32_t j = threadIdx.x; j < C; j += kSelectThreads) keys[j] = score_key(s[j]);
  __syncthreads();

  // T: the largest key value with at least `kept` keys >= it.
  uint32_t threshold = 0;
  for (int bit = 31; bit >= 0; --bit) {
    const uint32_t candidate = threshold | (1u << bit);
    int n = 0;
    for (int32_t j = threadIdx.x; j < C; j += kSelectThreads) n += keys[j] >= candidate ? 1 : 0;
    if (block_sum(n, scratch) >= kept) threshold = candidate;
  }
  int above = 0, equal = 0;
  for (int32_t j = threadIdx.x; j < C; j += kSelectThreads) {
    above += keys[j] > threshold ? 1 : 0;
    equal += keys[j] == threshold ? 1 : 0;
  }
  const int need = kept - block_sum(above, scratch);  // keys equal to T to keep, 1 <= need <= equal
  const int equal_total = block_sum(equal, scratch);

  // Keep every key above T and, of those equal to T, the `need` lowest
  // indices (the mutation: the highest); write the kept indices in order.
  int32_t* out = selected + row * kept;
  int equal_before = 0, written = 0;
  for (int32_t base = 0; base < C; base += kSelectThreads) {
    const int32_t j = base + threadIdx.x;
    const uint32_t key = j < C ? keys[j] : 0u;
    const bool is_equal = j < C && key == threshold;
    int chunk_equal = 0;
    const int equal_rank = equal_before + block_count_before(is_equal, chunk_equal, scratch);
    const bool take_equal = ties_to_higher ? equal_rank >= equal_total - need : equal_rank < need;
    const bool take = j < C && (key > threshold || (is_equal && take_equal));
    int chunk_taken = 0;
    const int position = written + block_count_before(take, chunk_taken, scratch);
    if (take) out[position] = j;
    equal_before += chunk_equal;
    written += chunk_taken;
  }
}

template <bool kBf16>
void launch_means_typed(const Problem& p, const TensorView& t, int32_t heads, uint16_t* means, cudaStream_t stream,
                        const char* function) {
  const dim3 grid(p.geo.num_cubes, p.batch);
  cube_means_kernel<kBf16><<<grid, kMeanThreads, 0, stream>>>(static_cast<const uint16_t*>(t.data), t.batch_stride,
                                                               t.token_stride, t.head_stride, means, p.geo, heads,
                                                               p.head_dim);
  cuda_check(cudaGetLastError(), function, "VSA cube means kernel launch");
}

}  // namespace

void launch_means(const Problem& p, const TensorView& t, int32_t heads, uint16_t* means, cudaStream_t stream,
                  const char* function) {
  if (p.bf16()) launch_means_typed<true>(p, t, heads, means, stream, function);
  else launch_means_typed<false>(p, t, heads, means, stream, function);
}

void launch_scores(const Problem& p, const uint16_t* q_means, const uint16_t* k_means, float* scores,
                   cudaStream_t stream, const char* function) {
  const int32_t tiles = (p.geo.num_cubes + kScoreTile - 1) / kScoreTile;
  const dim3 grid(tiles, tiles, p.batch * p.num_heads);
  if (p.bf16()) {
    scores_kernel<true><<<grid, kScoreThreads, 0, stream>>>(q_means, k_means, scores, p.geo.num_cubes, p.num_heads,
                                                            p.num_kv_heads, p.head_dim);
  } else {
    scores_kernel<false><<<grid, kScoreThreads, 0, stream>>>(q_means, k_means, scores, p.geo.num_cubes, p.num_heads,
                                                             p.num_kv_heads, p.head_dim);
  }
  cuda_check(cudaGetLastError(), function, "VSA scores kernel launch");
}

void launch_select(const Problem& p, const float* scores, int32_t* selected, Mutation mutation, cudaStream_t stream,
                   const char* function) {
  const size_t smem = size_t(p.geo.num_cubes) * sizeof(uint32_t);
  cuda_check(cudaFuncSetAttribute(select_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), function,
             "cudaFuncSetAttribute (VSA selection)");
  const unsigned rows = unsigned(p.batch) * unsigned(p.num_heads) * unsigned(p.geo.num_cubes);
  select_kernel<<<rows, kSelectThreads, smem, stream>>>(scores, selected, p.geo.num_cubes, p.geo.kept,
                                                        mutation == Mutation::kTiesToHigherIndex ? 1 : 0);
  cuda_check(cudaGetLastError(), function, "VSA selection kernel launch");
}

}  // namespace spattn::attention::vsa
