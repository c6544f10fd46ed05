// One attention forward pass, validated and resolved: what both the CUDA
// launcher and the CPU reference consume. Plain C++; no CUDA types, so the
// header is shared by src/ (spattn_core) and cuda/ (spattn_cuda).
#pragma once

#include <spattn/spattn.h>

#include <cstdint>

#include "attention/skip_rule.hpp"

namespace spattn::attention {

// A strided [batch][token][head][dim] tensor view (element strides).
struct TensorView {
  const void* data = nullptr;
  int64_t batch_stride = 0;
  int64_t token_stride = 0;
  int64_t head_stride = 0;
};

struct Problem {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t seqlen_q = 0;   // fixed length, or the longest packed sequence
  int32_t seqlen_kv = 0;
  TensorView q, k, v;
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  const int32_t* cu_seqlens_q = nullptr;  // both NULL or both set
  const int32_t* cu_seqlens_kv = nullptr;
  float softmax_scale = 0.0f;             // resolved: never 0
  bool causal = false;
  double threshold_scale_factor = 0.0;    // resolved from layer_params or args; 0: dense
  float* lse = nullptr;
  unsigned long long* tile_counters = nullptr;
  int32_t total_q = 0;   // packed batches: cu_seqlens_q[batch], 0 when not given
  int32_t total_kv = 0;

  bool packed() const { return cu_seqlens_q != nullptr; }
};

// Checks every field of `args` and resolves defaults (softmax scale, the
// threshold from layer_params). Throws spattn::Error naming `function` and the
// offending field. Pointer contents (cu_seqlens) are not read here.
Problem resolve_problem(const spattn_attention_args* args, const char* function);

// Extra requirements of the CUDA kernel: 16-byte aligned rows for cp.async
// (q/k/v/out pointers 16-byte aligned, strides multiples of 8 elements), and
// batch and heads within CUDA's grid limits (65535).
void check_kernel_alignment(const Problem& problem, const char* function);

}  // namespace spattn::attention
