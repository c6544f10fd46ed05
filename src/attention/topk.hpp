// Top-k selection per row (spattn_topk_args), validated, and its CPU
// reference. Rules: spattn.h at spattn_topk_args, ranking: topk_rule.hpp.
#pragma once

#include <spattn/spattn.h>

#include <cstdint>

namespace spattn::attention {

struct TopkProblem {
  int32_t num_rows = 0;
  int32_t num_cols = 0;
  const float* scores = nullptr;
  int64_t score_row_stride = 0;
  const int32_t* lengths = nullptr;
  int32_t k = 0;
  int32_t* indices = nullptr;
  int64_t index_row_stride = 0;
};

// Checks every field of `args`. Throws spattn::Error naming the field.
TopkProblem resolve_topk(const spattn_topk_args* args, const char* function);

// The kernel's extra needs (alignment, grid limits). Throws spattn::Error.
void check_topk_launch(const TopkProblem& problem, const char* function);

// Selects, on host memory, the min(k, candidates) best of `n` scores into
// out[0 ..] in increasing column order and -1 in the rest of out[0, k).
void select_topk_row(const float* scores, int32_t n, int32_t k, int32_t* out);

// Runs the problem on host pointers (lengths outside [0, num_cols] are
// clamped, as on the device).
void reference_topk(const TopkProblem& problem);

}  // namespace spattn::attention
