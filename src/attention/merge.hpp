// Merging partial attention results by their log-sum-exp
// (spattn_merge_args), validated; and the CPU version.
#pragma once

#include <spattn/spattn.h>

#include <cstdint>

namespace spattn::attention {

struct MergeProblem {
  int32_t num_parts = 0;
  int32_t batch = 0, seqlen = 0, num_heads = 0, head_dim = 0;
  spattn_dtype parts_dtype = SPATTN_DTYPE_FLOAT32;
  const void* parts[SPATTN_MERGE_MAX_PARTS] = {};
  const float* part_lse[SPATTN_MERGE_MAX_PARTS] = {};
  int64_t part_strides[3] = {0, 0, 0};
  spattn_dtype out_dtype = SPATTN_DTYPE_FLOAT32;
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  float* lse = nullptr;
};

// Checks every field (and that no part pointer is NULL). Throws spattn::Error.
MergeProblem resolve_merge(const spattn_merge_args* args, const char* function);

// Element alignment the kernel needs (natural alignment of each dtype).
void check_merge_launch(const MergeProblem& problem, const char* function);

void reference_merge(const MergeProblem& problem);

}  // namespace spattn::attention
