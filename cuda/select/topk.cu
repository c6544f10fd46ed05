// spattn_topk: one CTA per row of a score matrix (cuda/select/topk.cuh).
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/index_sparse_cuda.hpp"
#include "common/cuda_check.hpp"
#include "select/topk.cuh"

namespace spattn::attention {
namespace {

constexpr int kTopkThreads = 512;

struct MatrixRows {
  const float* scores;
  int64_t score_stride;
  const int32_t* lengths;
  int32_t num_cols;
  int32_t* indices;
  int64_t index_stride;
};

__global__ void __launch_bounds__(kTopkThreads) topk_matrix_kernel(const MatrixRows rows, int32_t k) {
  __shared__ TopkShared<kTopkThreads> sh;
  const int64_t r = blockIdx.x;
  int n = rows.num_cols;
  if (rows.lengths != nullptr) n = min(max(rows.lengths[r], 0), rows.num_cols);
  const float* row = rows.scores + r * rows.score_stride;
  cta_topk<kTopkThreads>([&](int j) { return row[j]; }, n, k, false, rows.indices + r * rows.index_stride, sh);
}

}  // namespace

void launch_topk_cuda(const TopkProblem& p, void* stream, const char* function) {
  require_cuda_device(function);
  if (p.num_rows == 0) return;
  const MatrixRows rows{p.scores, p.score_row_stride, p.lengths, p.num_cols, p.indices, p.index_row_stride};
  launch_checked(topk_matrix_kernel, dim3(unsigned(p.num_rows)), dim3(kTopkThreads), 0,
                 static_cast<cudaStream_t>(stream), function, rows, p.k);
}

}  // namespace spattn::attention
