// Validation and CPU reference of spattn_topk.
#include "attention/topk.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "attention/arg_checks.hpp"
#include "attention/topk_rule.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

}  // namespace

TopkProblem resolve_topk(const spattn_topk_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_topk_args a = read_struct(args, function, "args");
  if (a.num_rows < 0) invalid(function, "args.num_rows is " + std::to_string(a.num_rows) + "; must be >= 0");
  if (a.num_cols < 0) invalid(function, "args.num_cols is " + std::to_string(a.num_cols) + "; must be >= 0");
  if (a.k < 1) invalid(function, "args.k is " + std::to_string(a.k) + "; must be >= 1");
  if (a.num_rows > 0 && a.num_cols > 0 && a.scores == nullptr) invalid(function, "args.scores is NULL");
  if (a.num_rows > 0 && a.indices == nullptr) invalid(function, "args.indices is NULL");
  if (a.num_rows > 1 && a.score_row_stride < a.num_cols) {
    invalid(function, "args.score_row_stride is " + std::to_string(a.score_row_stride) +
                          "; must be >= args.num_cols (" + std::to_string(a.num_cols) + ")");
  }
  if (a.num_rows > 1 && a.index_row_stride < a.k) {
    invalid(function, "args.index_row_stride is " + std::to_string(a.index_row_stride) + "; must be >= args.k (" +
                          std::to_string(a.k) + ")");
  }
  TopkProblem p;
  p.num_rows = a.num_rows;
  p.num_cols = a.num_cols;
  p.scores = a.scores;
  p.score_row_stride = a.score_row_stride;
  p.lengths = a.lengths;
  p.k = a.k;
  p.indices = a.indices;
  p.index_row_stride = a.index_row_stride;
  return p;
}

void check_topk_launch(const TopkProblem& p, const char* function) {
  if (reinterpret_cast<uintptr_t>(p.scores) % 4 != 0) invalid(function, "args.scores is not 4-byte aligned");
  if (reinterpret_cast<uintptr_t>(p.indices) % 4 != 0) invalid(function, "args.indices is not 4-byte aligned");
  if (reinterpret_cast<uintptr_t>(p.lengths) % 4 != 0) invalid(function, "args.lengths is not 4-byte aligned");
}

void select_topk_row(const float* scores, int32_t n, int32_t k, int32_t* out) {
  std::vector<int32_t> cols;
  for (int32_t j = 0; j < n; ++j) {
    if (topk_candidate(scores[j])) cols.push_back(j);
  }
  const size_t keep = std::min(cols.size(), size_t(k));
  std::partial_sort(cols.begin(), cols.begin() + long(keep), cols.end(), [&](int32_t a, int32_t b) {
    const uint32_t ka = topk_key(scores[a]), kb = topk_key(scores[b]);
    return ka != kb ? ka > kb : a < b;
  });
  cols.resize(keep);
  std::sort(cols.begin(), cols.end());
  for (int32_t s = 0; s < k; ++s) out[s] = size_t(s) < keep ? cols[size_t(s)] : -1;
}

void reference_topk(const TopkProblem& p) {
  for (int32_t r = 0; r < p.num_rows; ++r) {
    int32_t n = p.num_cols;
    if (p.lengths != nullptr) n = std::min(std::max(p.lengths[r], 0), p.num_cols);
    select_topk_row(p.scores + int64_t(r) * p.score_row_stride, n, p.k, p.indices + int64_t(r) * p.index_row_stride);
  }
}

}  // namespace spattn::attention
