// The DSA lightning indexer (spattn_dsa_indexer_args), validated, and its CPU
// reference. Formula and layouts: spattn.h at spattn_dsa_indexer_args.
#pragma once

#include <spattn/spattn.h>

#include <cstdint>
#include <vector>

#include "attention/attention_problem.hpp"
#include "attention/kv_cache.hpp"

namespace spattn::attention {

struct IndexerProblem {
  spattn_dtype q_dtype = SPATTN_DTYPE_FLOAT8_E4M3;
  int32_t batch = 0;
  int32_t seqlen_q = 0;
  const int32_t* cu_seqlens_q = nullptr;
  int32_t num_heads = 0;
  int32_t head_dim = 0;  // the key cache's head_dim: 64 or 128
  TensorView q;
  const float* weights = nullptr;
  int64_t weight_strides[2] = {0, 0};  // batch, token
  KvCache k;
  const float* k_token_scales = nullptr;
  int64_t k_token_scale_strides[2] = {0, 0};
  float* logits = nullptr;
  int64_t logits_row_stride = 0;

  bool packed() const { return cu_seqlens_q != nullptr; }
  bool q_fp8() const { return q_dtype == SPATTN_DTYPE_FLOAT8_E4M3; }
  int32_t q_element_bytes() const { return q_fp8() ? 1 : 2; }
};

// Checks every field of `args` (the logits only when `with_logits`: the DSA
// layer keeps its scores in its workspace). Throws spattn::Error naming the field.
IndexerProblem resolve_indexer(const spattn_dsa_indexer_args* args, const char* function, bool with_logits);

// The kernel's extra needs (alignment, grid limits). Throws spattn::Error.
void check_indexer_launch(const IndexerProblem& problem, const char* function);

// The CPU reference into the problem's logits (host pointers): each score in
// float64, rounded to float32 once; -inf past each row's causal prefix.
void reference_indexer(const IndexerProblem& problem, const char* function);

}  // namespace spattn::attention
