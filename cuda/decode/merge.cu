// spattn_attention_merge: partial attention results (KV splits, sequence-
// parallel shards) combined by their log-sum-exp, one warp per output row.
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/attention_cuda.hpp"
#include "common/cuda_check.hpp"
#include "decode/merge_rows.cuh"

namespace spattn::attention {
namespace {

struct MergeParams {
  const void* parts[SPATTN_MERGE_MAX_PARTS];
  const float* part_lse[SPATTN_MERGE_MAX_PARTS];
  int64_t part_stride[3];
  int64_t out_stride[3];
  void* out;
  float* lse;
  int32_t num_parts, seqlen, num_heads, head_dim, rows;
  int32_t parts_dtype, out_dtype;
};

__device__ __forceinline__ float load_value(const void* base, int64_t offset, int32_t dtype) {
  if (dtype == SPATTN_DTYPE_FLOAT32) return static_cast<const float*>(base)[offset];
  if (dtype == SPATTN_DTYPE_BFLOAT16) return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[offset]);
  return __half2float(static_cast<const __half*>(base)[offset]);
}

__device__ __forceinline__ void store_value(void* base, int64_t offset, int32_t dtype, float x) {
  if (dtype == SPATTN_DTYPE_FLOAT32) {
    static_cast<float*>(base)[offset] = x;
  } else {
    static_cast<uint16_t*>(base)[offset] = dtype == SPATTN_DTYPE_BFLOAT16 ? float_to_16bit<true>(x)
                                                                          : float_to_16bit<false>(x);
  }
}

__global__ void merge_kernel(const MergeParams p) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= p.rows) return;
  // Rows in the LSE order [batch][head][token].
  const int t = row % p.seqlen;
  const int h = (row / p.seqlen) % p.num_heads;
  const int b = row / (p.seqlen * p.num_heads);
  const int64_t part_offset = b * p.part_stride[0] + t * p.part_stride[1] + h * p.part_stride[2];
  const int64_t out_offset = b * p.out_stride[0] + t * p.out_stride[1] + h * p.out_stride[2];
  const float lse = merge_row(
      p.num_parts, p.head_dim, [&](int i) { return p.part_lse[i][row]; },
      [&](int i, int d) { return load_value(p.parts[i], part_offset + d, p.parts_dtype); },
      [&](int d, float x) { store_value(p.out, out_offset + d, p.out_dtype, x); });
  if (p.lse != nullptr && threadIdx.x % 32 == 0) p.lse[row] = lse;
}

}  // namespace

void launch_merge_cuda(const MergeProblem& pr, void* stream, const char* function) {
  require_cuda_device(function);
  MergeParams p;
  for (int i = 0; i < SPATTN_MERGE_MAX_PARTS; ++i) {
    p.parts[i] = pr.parts[i];
    p.part_lse[i] = pr.part_lse[i];
  }
  for (int i = 0; i < 3; ++i) {
    p.part_stride[i] = pr.part_strides[i];
    p.out_stride[i] = pr.out_strides[i];
  }
  p.out = pr.out;
  p.lse = pr.lse;
  p.num_parts = pr.num_parts;
  p.seqlen = pr.seqlen;
  p.num_heads = pr.num_heads;
  p.head_dim = pr.head_dim;
  p.rows = pr.batch * pr.seqlen * pr.num_heads;
  p.parts_dtype = pr.parts_dtype;
  p.out_dtype = pr.out_dtype;
  constexpr int kWarpsPerBlock = 4;
  launch_checked(merge_kernel, dim3((p.rows + kWarpsPerBlock - 1) / kWarpsPerBlock), dim3(32 * kWarpsPerBlock), 0,
                 static_cast<cudaStream_t>(stream), function, p);
}

}  // namespace spattn::attention
