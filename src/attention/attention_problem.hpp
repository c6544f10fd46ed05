// One attention forward pass, validated and resolved: what both the CUDA
// launcher and the CPU reference consume. Plain C++; no CUDA types, so the
// header is shared by src/ (spattn_core) and cuda/ (spattn_cuda).
#pragma once

#include <spattn/spattn.h>

#include <cstdint>

#include "attention/kv_cache.hpp"
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
  // Model Optimizer extras from layer_params (rules in sparse_softmax.hpp).
  int32_t sparsity_n = 0;  // N:M sparse softmax: 0/0 when off, else m 4 or 8, 1 <= n < m
  int32_t sparsity_m = 0;
  int32_t num_sink_tokens = 0;    // N:M only
  int32_t dense_window_size = 0;  // N:M only
  bool quantize_p = false;        // NVFP4 P before P.V
  int32_t skip_seqlen_kv = 0;     // > 0: the L_kv of lambda for every sequence (skip_length)
  // Chunked prefill over a cache: K/V (and each sequence's key count) come
  // from `kv`; k, v and cu_seqlens_kv are unused.
  bool has_kv_cache = false;
  KvCache kv;
  // Test hook, not reachable through the public API: when not null, the
  // kernels and the CPU reference write their decision for every visited
  // (query tile, key tile) pair here, at tile_decision_index() (skip_rule.hpp),
  // kTileKept or kTileSkipped; pairs not visited are left as they were.
  // Host memory for the reference, device memory for the kernels; null in
  // production, where it costs one predicated branch per tile.
  uint8_t* tile_decisions = nullptr;

  bool packed() const { return cu_seqlens_q != nullptr; }  // packed queries (and keys, without a cache)
  bool nm_sparse() const { return sparsity_m != 0; }
  // Needs the kernels' variants with the extras.
  bool extras() const { return nm_sparse() || quantize_p; }
};

// Checks every field of `args` and resolves defaults (softmax scale, the
// threshold and the N:M / NVFP4 P extras from layer_params). Throws spattn::Error naming `function` and the
// offending field. Pointer contents (cu_seqlens) are not read here.
Problem resolve_problem(const spattn_attention_args* args, const char* function);

// Helpers every attention entry point shares (the argument checks
// themselves: attention/arg_checks.hpp).
// The skip threshold from layer_params (its extras into *extras when not
// NULL) or, without layer_params, the direct value.
double resolve_threshold(const spattn_layer_params* layer_params, float threshold_scale_factor,
                         const char* function, Problem* extras);

// The factor from raw logits (q . stored key) to log2-scaled logits:
// softmax_scale * k_scale * log2(e) (k_scale 1 without an FP8 cache),
// computed the same way on every path (kernels and references).
SPATTN_HOST_DEVICE inline float logit_scale_log2(float softmax_scale, float k_scale) {
  return softmax_scale * k_scale * 1.4426950408889634f;
}

// Extra requirements of the CUDA kernel: 16-byte aligned rows for cp.async
// (q/k/v/out pointers 16-byte aligned, strides multiples of 8 elements), and
// batch and heads within CUDA's grid limits (65535).
void check_kernel_alignment(const Problem& problem, const char* function);

}  // namespace spattn::attention
