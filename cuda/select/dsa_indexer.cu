// The DSA lightning indexer (spattn_dsa_indexer): for query token t and key
// s, I = key_scale[s] * sum_h w[t][h] * ReLU(q[t][h] . k[s]) over the causal
// prefix. mma.sync: FP8 E4M3 m16n8k32 when the queries are FP8, bf16/fp16
// m16n8k16 otherwise (FP8 keys converted to 16 bits, exactly); fp32
// accumulation.
//
// The GEMM runs keys x heads: one CTA owns a block of 128 keys (8 warps x 16
// keys, the warp's keys held in registers as the A operand for the whole
// CTA) and scores up to 32 query tokens of one sequence against it, one
// token at a time: the token's [heads][D] queries and its weights are staged
// in shared memory (double-buffered), every warp multiplies its 16 keys by
// them in groups of 16 heads, and each lane reduces its accumulators through
// ReLU and the weights into its keys' sums (the 4 lanes of a quad hold the
// heads of a key between them: two shuffles finish the sum).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/index_sparse_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kv_cache.cuh"
#include "common/mma_sync.cuh"
#include "select/dsa_select.hpp"

namespace spattn::attention {
namespace {

constexpr int kIdxWarps = 8;
constexpr int kIdxThreads = 32 * kIdxWarps;
constexpr int kIdxKeys = 16 * kIdxWarps;  // keys per CTA
constexpr int kIdxTokens = 32;            // query tokens per CTA
constexpr int kIdxMaxHeads = 128;

// Operand types: E4M3 (FP8 queries and keys), bf16, fp16.
enum Op { kOpE4m3 = 0, kOpBf16 = 1, kOpFp16 = 2 };

__device__ __forceinline__ void mma_e4m3(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int kOp>
__device__ __forceinline__ void mma_op(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (kOp == kOpE4m3) {
    mma_e4m3(d, a, b0, b1);
  } else {
    Elem<kOp == kOpBf16>::mma(d, a, b0, b1);
  }
}

// Byte offset of 16-byte chunk `chunk` of row `row` in a swizzled tile of
// kRowBytes-byte rows (conflict-free ldmatrix for 64-, 128- and 256-byte
// rows; for 16-bit rows it is the swizzle of mma_sync.cuh).
template <int kRowBytes>
__device__ __forceinline__ int swizzle_bytes(int row, int chunk) {
  constexpr int kChunks = kRowBytes / 16;
  const int x = kChunks >= 8 ? (row & 7) : ((row >> 1) & 3);
  return row * kRowBytes + 16 * (chunk ^ x);
}

struct IndexerParams {
  const uint8_t* q;
  int64_t q_stride[3];  // bytes
  const float* w;
  int64_t w_stride[2];
  KvDevice k;
  const float* token_scales;
  int64_t ts_stride[2];
  float k_scale;
  const int32_t* cu_q;
  int32_t seqlen_q, num_heads, heads_pad;
  IndexerRows rows;
};

template <int kOp, int D, bool kKeysFp8>
struct IndexerLayout {
  static constexpr int kRowBytes = D * (kOp == kOpE4m3 ? 1 : 2);
  static constexpr bool kConvert = kOp != kOpE4m3 && kKeysFp8;
  static constexpr int kK = 0;                                          // [128][kRowBytes]
  static constexpr int kStaging = kK + kIdxKeys * kRowBytes;            // FP8 keys for 16-bit queries
  static constexpr int kQ = kStaging + (kConvert ? kIdxKeys * D : 0);   // 2 x [128][kRowBytes]
  static constexpr int kW = kQ + 2 * kIdxMaxHeads * kRowBytes;          // 2 x [128] f32
  static constexpr int kScale = kW + 2 * kIdxMaxHeads * 4;              // [128] f32
  static constexpr int kBytes = kScale + kIdxKeys * 4;
};

template <int kOp, int D, bool kKeysFp8>
__global__ void __launch_bounds__(kIdxThreads, 1) indexer_kernel(const IndexerParams p) {
  using L = IndexerLayout<kOp, D, kKeysFp8>;
  constexpr int kRowBytes = L::kRowBytes;
  constexpr int kKSteps = kRowBytes / 32;  // 32 bytes of k per mma (k32 E4M3, k16 16-bit)
  extern __shared__ __align__(128) uint8_t smem[];
  float* w_smem = reinterpret_cast<float*>(smem + L::kW);
  float* key_scale = reinterpret_cast<float*>(smem + L::kScale);

  const int b = blockIdx.z;
  const int k0 = blockIdx.x * kIdxKeys;
  int lq = p.seqlen_q, t0 = 0;
  if (p.cu_q != nullptr) {
    t0 = p.cu_q[b];
    lq = min(max(p.cu_q[b + 1] - t0, 0), p.seqlen_q);
  }
  const int lk = kv_seqlen(p.k, b);
  const int i_lo = p.rows.q_begin + blockIdx.y * kIdxTokens;
  const int i_hi = min(min(p.rows.q_end, lq), i_lo + kIdxTokens);
  if (i_lo >= i_hi) return;
  if (p.rows.skip_short > 0 && lk <= p.rows.skip_short) return;
  const int shift = lk - lq;  // query i sees keys j <= i + shift
  if (!p.rows.write_masked && k0 > i_hi - 1 + shift) return;
  const int max_cols = p.k.max_seqlen;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int mat = lane / 8, mat_row = lane % 8;

  // The key block (and its scales), committed with the first token.
  {
    uint8_t* dst = smem + (L::kConvert ? L::kStaging : L::kK);
    constexpr int kSrcBytes = kKeysFp8 ? D : D * 2;
    constexpr int kChunks = kSrcBytes / 16;
    for (int i = threadIdx.x; i < kIdxKeys * kChunks; i += kIdxThreads) {
      const int row = i / kChunks, chunk = i % kChunks;
      const int key = k0 + row;
      int64_t k_off = 0, unused = 0;
      const bool ok = key < lk && kv_row(p.k, b, key, k_off, unused);
      const uint32_t at = L::kConvert ? uint32_t(row * D + chunk * 16) : uint32_t(swizzle_bytes<kRowBytes>(row, chunk));
      cp_async_16(smem_addr(dst) + at, ok ? p.k.k + k_off + chunk * 16 : p.k.k, ok ? 16 : 0);
      if (chunk == 0) {
        float s = ok ? p.k_scale : 0.0f;
        if (ok && p.token_scales != nullptr) {
          int64_t at_scale;
          if (p.k.paged) {
            const int32_t page = p.k.block_table[int64_t(b) * p.k.max_pages_per_seq + (key >> p.k.page_shift)];
            at_scale = page * p.ts_stride[0] + (key & ((1 << p.k.page_shift) - 1)) * p.ts_stride[1];
          } else {
            at_scale = b * p.ts_stride[0] + int64_t(key) * p.ts_stride[1];
          }
          s *= p.token_scales[at_scale];
        }
        key_scale[row] = s;
      }
    }
  }
  // Stages token i's queries and weights into buffer `buf`.
  auto stage_token = [&](int i, int buf) {
    const int64_t t = p.cu_q != nullptr ? t0 + i : i;
    const uint8_t* src = p.q + (p.cu_q != nullptr ? 0 : b * p.q_stride[0]) + t * p.q_stride[1];
    uint8_t* dst = smem + L::kQ + buf * kIdxMaxHeads * kRowBytes;
    constexpr int kChunks = kRowBytes / 16;
    for (int x = threadIdx.x; x < p.heads_pad * kChunks; x += kIdxThreads) {
      const int h = x / kChunks, chunk = x % kChunks;
      const bool ok = h < p.num_heads;
      cp_async_16(smem_addr(dst) + swizzle_bytes<kRowBytes>(h, chunk), ok ? src + h * p.q_stride[2] + chunk * 16 : p.q,
                  ok ? 16 : 0);
    }
    const float* w = p.w + (p.cu_q != nullptr ? 0 : b * p.w_stride[0]) + t * p.w_stride[1];
    for (int h = threadIdx.x; h < p.heads_pad; h += kIdxThreads) {
      w_smem[buf * kIdxMaxHeads + h] = h < p.num_heads ? w[h] : 0.0f;
    }
  };
  stage_token(i_lo, 0);
  cp_async_commit();

  uint32_t a[kKSteps][4];
  for (int i = i_lo; i < i_hi; ++i) {
    const int buf = (i - i_lo) & 1;
    cp_async_wait<0>();
    __syncthreads();  // token i (and, first, the key block) landed; buffer buf ^ 1 free
    if (i + 1 < i_hi) stage_token(i + 1, buf ^ 1);
    cp_async_commit();
    if (i == i_lo) {
      if constexpr (L::kConvert) {
        fp8_to_tile<kOp == kOpBf16, D, kIdxThreads, kIdxKeys>(smem + L::kStaging,
                                                              reinterpret_cast<uint16_t*>(smem + L::kK));
        __syncthreads();
      }
      const int row = warp * 16 + mat_row + (mat & 1) * 8;
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        ldmatrix_x4(a[ks], smem_addr(smem + L::kK) + swizzle_bytes<kRowBytes>(row, ks * 2 + (mat >> 1)));
      }
    }
    const int prefix = min(lk, i + shift + 1);  // keys [0, prefix) are scored
    if (k0 >= prefix && !p.rows.write_masked) continue;
    const int64_t t = p.cu_q != nullptr ? t0 + i : i;
    const int64_t row = (p.rows.packed_rows ? int64_t(t0) : int64_t(b) * p.rows.row_batch_stride) + i - p.rows.q_begin;
    float* out = p.rows.logits + row * p.rows.row_stride;
    (void)t;
    float sum[2] = {0.0f, 0.0f};
    if (k0 < prefix) {
      const uint32_t qbase = smem_addr(smem + L::kQ + buf * kIdxMaxHeads * kRowBytes);
      const float* w = w_smem + buf * kIdxMaxHeads;
      for (int h0 = 0; h0 < p.heads_pad; h0 += 16) {
        float acc[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
        const int head = h0 + mat_row + (mat >> 1) * 8;
#pragma unroll
        for (int ks = 0; ks < kKSteps; ++ks) {
          uint32_t bq[4];
          ldmatrix_x4(bq, qbase + swizzle_bytes<kRowBytes>(head, ks * 2 + (mat & 1)));
          mma_op<kOp>(acc[0], a[ks], bq[0], bq[1]);
          mma_op<kOp>(acc[1], a[ks], bq[2], bq[3]);
        }
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
          const int h = h0 + nt * 8 + (lane % 4) * 2;
          const float w0 = w[h], w1 = w[h + 1];
          sum[0] += w0 * fmaxf(acc[nt][0], 0.0f) + w1 * fmaxf(acc[nt][1], 0.0f);
          sum[1] += w0 * fmaxf(acc[nt][2], 0.0f) + w1 * fmaxf(acc[nt][3], 0.0f);
        }
      }
#pragma unroll
      for (int x = 0; x < 2; ++x) {
        sum[x] += __shfl_xor_sync(0xffffffffu, sum[x], 1);
        sum[x] += __shfl_xor_sync(0xffffffffu, sum[x], 2);
      }
    }
    // Lane l < 16 stores key l of the warp's 16: its sum sits in lane
    // 4 (l % 8), slot l / 8.
    const float lo = __shfl_sync(0xffffffffu, sum[0], (lane % 8) * 4);
    const float hi = __shfl_sync(0xffffffffu, sum[1], (lane % 8) * 4);
    if (lane < 16) {
      const int key_local = warp * 16 + lane;
      const int col = k0 + key_local;
      if (col < max_cols) {
        if (col < prefix) {
          out[col] = (lane < 8 ? lo : hi) * key_scale[key_local];
        } else if (p.rows.write_masked) {
          out[col] = -INFINITY;
        }
      }
    }
  }
  cp_async_wait<0>();
}

template <int kOp, int D, bool kKeysFp8>
void launch(const IndexerParams& params, dim3 grid, cudaStream_t stream, const char* function) {
  launch_checked(indexer_kernel<kOp, D, kKeysFp8>, grid, dim3(kIdxThreads), IndexerLayout<kOp, D, kKeysFp8>::kBytes,
                 stream, function, params);
}

template <int kOp, bool kKeysFp8>
void launch_dim(const IndexerProblem& pr, const IndexerParams& params, dim3 grid, cudaStream_t s, const char* f) {
  pr.head_dim == 128 ? launch<kOp, 128, kKeysFp8>(params, grid, s, f) : launch<kOp, 64, kKeysFp8>(params, grid, s, f);
}

}  // namespace

void launch_indexer_rows(const IndexerProblem& pr, const IndexerRows& rows, void* stream, const char* function) {
  require_cuda_device(function);
  IndexerParams params;
  params.q = static_cast<const uint8_t*>(pr.q.data);
  const int eb = pr.q_element_bytes();
  params.q_stride[0] = pr.q.batch_stride * eb;
  params.q_stride[1] = pr.q.token_stride * eb;
  params.q_stride[2] = pr.q.head_stride * eb;
  params.w = pr.weights;
  params.w_stride[0] = pr.weight_strides[0];
  params.w_stride[1] = pr.weight_strides[1];
  params.k = kv_device(pr.k);
  params.token_scales = pr.k_token_scales;
  params.ts_stride[0] = pr.k_token_scale_strides[0];
  params.ts_stride[1] = pr.k_token_scale_strides[1];
  params.k_scale = pr.k.k_scale;
  params.cu_q = pr.cu_seqlens_q;
  params.seqlen_q = pr.seqlen_q;
  params.num_heads = pr.num_heads;
  params.heads_pad = (pr.num_heads + 15) / 16 * 16;
  params.rows = rows;
  const int queries = rows.q_end - rows.q_begin;
  if (queries <= 0 || pr.k.max_seqlen_kv == 0) return;
  const dim3 grid(unsigned((pr.k.max_seqlen_kv + kIdxKeys - 1) / kIdxKeys), unsigned((queries + kIdxTokens - 1) / kIdxTokens),
                  unsigned(pr.batch));
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const bool k_fp8 = pr.k.fp8();
  if (pr.q_fp8()) {
    launch_dim<kOpE4m3, true>(pr, params, grid, s, function);
  } else if (pr.q_dtype == SPATTN_DTYPE_BFLOAT16) {
    k_fp8 ? launch_dim<kOpBf16, true>(pr, params, grid, s, function)
          : launch_dim<kOpBf16, false>(pr, params, grid, s, function);
  } else {
    k_fp8 ? launch_dim<kOpFp16, true>(pr, params, grid, s, function)
          : launch_dim<kOpFp16, false>(pr, params, grid, s, function);
  }
}

void launch_indexer_cuda(const IndexerProblem& pr, void* stream, const char* function) {
  IndexerRows rows;
  rows.q_begin = 0;
  rows.q_end = pr.seqlen_q;
  rows.logits = pr.logits;
  rows.row_stride = pr.logits_row_stride;
  rows.row_batch_stride = pr.seqlen_q;
  rows.packed_rows = pr.packed();
  rows.write_masked = true;
  rows.skip_short = 0;
  launch_indexer_rows(pr, rows, stream, function);
}

}  // namespace spattn::attention
