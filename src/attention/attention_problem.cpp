// Argument validation shared by spattn_attention_forward and
// spattn_attention_reference.
#include "attention/attention_problem.hpp"

#include <cmath>
#include <cstddef>
#include <string>

#include "attention/arg_checks.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

TensorView view(const void* data, const int64_t strides[3]) {
  TensorView v;
  v.data = data;
  v.batch_stride = strides[0];
  v.token_stride = strides[1];
  v.head_stride = strides[2];
  return v;
}

// N:M sparse softmax and NVFP4 P quantization from layer_params. The config
// layer only produces valid values, but a caller may fill the struct by hand.
void read_extras(const spattn_layer_params& lp, Problem& p, const char* function) {
  const std::string field = "args.layer_params->";
  if (lp.sparsity_n != 0 || lp.sparsity_m != 0) {
    if (lp.sparsity_m != 4 && lp.sparsity_m != 8) {
      invalid(function, field + "sparsity_m is " + std::to_string(lp.sparsity_m) +
                            "; N:M sparse softmax needs 4 or 8 (sparsity_n " +
                            std::to_string(lp.sparsity_n) + "; 0 and 0: off)");
    }
    if (lp.sparsity_n < 1 || lp.sparsity_n >= lp.sparsity_m) {
      invalid(function, field + "sparsity_n is " + std::to_string(lp.sparsity_n) + "; with sparsity_m " +
                            std::to_string(lp.sparsity_m) + " it must be in [1, " +
                            std::to_string(lp.sparsity_m - 1) + "]");
    }
  }
  if (lp.num_sink_tokens < 0) {
    invalid(function, field + "num_sink_tokens is " + std::to_string(lp.num_sink_tokens) + "; must be >= 0");
  }
  if (lp.dense_window_size < 0) {
    invalid(function,
            field + "dense_window_size is " + std::to_string(lp.dense_window_size) + "; must be >= 0");
  }
  if (lp.quantize_p != 0 && lp.quantize_p != 1) {
    invalid(function, field + "quantize_p is " + std::to_string(lp.quantize_p) + "; expected 0 or 1");
  }
  p.sparsity_n = lp.sparsity_n;
  p.sparsity_m = lp.sparsity_m;
  p.num_sink_tokens = lp.num_sink_tokens;
  p.dense_window_size = lp.dense_window_size;
  p.quantize_p = lp.quantize_p != 0;
}

// total_q / total_kv (appended after the first layout: 0, unknown, for a
// caller whose struct predates them; read_struct sees to that).
void read_packed_totals(const spattn_attention_args& a, Problem& p, const char* function) {
  if (!p.packed()) return;
  if (a.total_q < 0 || a.total_kv < 0 || (a.total_q == 0) != (a.total_kv == 0)) {
    invalid(function, "args.total_q is " + std::to_string(a.total_q) + " and args.total_kv is " +
                          std::to_string(a.total_kv) + "; give both token totals of the packed batch, or 0 for both");
  }
  if (a.total_q != 0 && (a.total_q < a.seqlen_q || a.total_kv < a.seqlen_kv)) {
    invalid(function, "args.total_q " + std::to_string(a.total_q) + " / total_kv " + std::to_string(a.total_kv) +
                          " are smaller than the longest sequence (seqlen_q " + std::to_string(a.seqlen_q) +
                          ", seqlen_kv " + std::to_string(a.seqlen_kv) + ")");
  }
  p.total_q = a.total_q;
  p.total_kv = a.total_kv;
}

// Where the keys come from: args.k/v (fixed or packed lengths), or the
// caller's KV cache (lengths from its seqlens_kv), which the kernels and the
// reference read through KvCache.
void read_keys(const spattn_attention_args& a, Problem& p, const char* function) {
  if (a.kv_cache == nullptr) {
    p.num_kv_heads = a.num_kv_heads;
    p.seqlen_kv = a.seqlen_kv;
    p.k = view(a.k, a.k_strides);
    p.v = view(a.v, a.v_strides);
    return;
  }
  p.has_kv_cache = true;
  p.kv = resolve_kv_cache(a.kv_cache, a.batch, a.dtype, function, "args.kv_cache");
  if (p.kv.head_dim != a.head_dim || p.kv.head_dim_v != a.head_dim) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.kv_cache->head_dim / head_dim_v (" +
                                     std::to_string(p.kv.head_dim) + " / " + std::to_string(p.kv.head_dim_v) +
                                     ") differ from args.head_dim " + std::to_string(a.head_dim));
  }
  p.num_kv_heads = p.kv.num_kv_heads;
  p.seqlen_kv = p.kv.max_seqlen_kv;
}

}  // namespace

double resolve_threshold(const spattn_layer_params* layer_params, float threshold_scale_factor,
                         const char* function, Problem* extras) {
  if (layer_params == nullptr) {
    if (!std::isfinite(threshold_scale_factor) || threshold_scale_factor < 0.0f) {
      invalid(function, "args.threshold_scale_factor is " + std::to_string(threshold_scale_factor) +
                            "; must be finite and >= 0");
    }
    return threshold_scale_factor;
  }
  const spattn_layer_params p = read_struct(layer_params, function, "args.layer_params");
  if (extras != nullptr) read_extras(p, *extras, function);
  if (!p.enabled) return 0.0;
  if (!std::isfinite(p.threshold_scale_factor) || p.threshold_scale_factor < 0.0) {
    invalid(function, "args.layer_params->threshold_scale_factor is " +
                          std::to_string(p.threshold_scale_factor) + "; must be finite and >= 0");
  }
  return p.threshold_scale_factor;
}

Problem resolve_problem(const spattn_attention_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_attention_args a = read_struct(args, function, "args");

  checks::dtype(a.dtype, "args.dtype", function);
  checks::positive(a.batch, "args.batch", function);
  checks::positive(a.num_heads, "args.num_heads", function);
  checks::positive(a.head_dim, "args.head_dim", function);
  checks::positive(a.seqlen_q, "args.seqlen_q", function);
  if (a.head_dim != 64 && a.head_dim != 128) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.head_dim is " +
                                     std::to_string(a.head_dim) + "; supported: 64, 128");
  }
  require_arg(a.q, function, "args.q");
  require_arg(a.out, function, "args.out");
  checks::strides(a.q_strides, "args.q_strides", function);
  checks::strides(a.out_strides, "args.out_strides", function);
  if (a.kv_cache == nullptr) {
    checks::positive(a.num_kv_heads, "args.num_kv_heads", function);
    checks::positive(a.seqlen_kv, "args.seqlen_kv", function);
    require_arg(a.k, function, "args.k");
    require_arg(a.v, function, "args.v");
    checks::strides(a.k_strides, "args.k_strides", function);
    checks::strides(a.v_strides, "args.v_strides", function);
    if ((a.cu_seqlens_q == nullptr) != (a.cu_seqlens_kv == nullptr)) {
      invalid(function, std::string("args.") +
                            (a.cu_seqlens_q == nullptr ? "cu_seqlens_q" : "cu_seqlens_kv") +
                            " is NULL but " +
                            (a.cu_seqlens_q == nullptr ? "cu_seqlens_kv" : "cu_seqlens_q") +
                            " is not; give both (packed batch) or neither");
    }
  } else if (a.cu_seqlens_kv != nullptr) {
    invalid(function, "args.cu_seqlens_kv is set with args.kv_cache; the cache's seqlens_kv gives the key counts");
  }
  if (a.skip_seqlen_kv < 0) {
    invalid(function, "args.skip_seqlen_kv is " + std::to_string(a.skip_seqlen_kv) +
                          "; must be >= 0 (0: each sequence's own)");
  }
  if (!std::isfinite(a.softmax_scale) || a.softmax_scale < 0.0f) {
    invalid(function, "args.softmax_scale is " + std::to_string(a.softmax_scale) +
                          "; must be finite and >= 0 (0: 1/sqrt(head_dim))");
  }
  if (a.causal != 0 && a.causal != 1) {
    invalid(function, "args.causal is " + std::to_string(a.causal) + "; expected 0 or 1");
  }

  Problem p;
  p.dtype = a.dtype;
  p.batch = a.batch;
  p.num_heads = a.num_heads;
  p.head_dim = a.head_dim;
  p.seqlen_q = a.seqlen_q;
  p.q = view(a.q, a.q_strides);
  read_keys(a, p, function);
  if (p.num_heads % p.num_kv_heads != 0) {
    invalid(function, "args.num_heads (" + std::to_string(p.num_heads) + ") is not a multiple of " +
                          (p.has_kv_cache ? "args.kv_cache->num_kv_heads (" : "args.num_kv_heads (") +
                          std::to_string(p.num_kv_heads) + ")");
  }
  p.out = a.out;
  for (int i = 0; i < 3; ++i) p.out_strides[i] = a.out_strides[i];
  p.cu_seqlens_q = a.cu_seqlens_q;
  p.cu_seqlens_kv = a.cu_seqlens_kv;
  p.softmax_scale = a.softmax_scale != 0.0f
                        ? a.softmax_scale
                        : static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.head_dim)));
  p.causal = a.causal != 0;
  p.threshold_scale_factor = resolve_threshold(a.layer_params, a.threshold_scale_factor, function, &p);
  p.lse = a.lse;
  p.tile_counters = a.tile_counters;
  p.skip_seqlen_kv = a.skip_seqlen_kv;
  if (!p.has_kv_cache) read_packed_totals(a, p, function);
  return p;
}

void check_kernel_alignment(const Problem& p, const char* function) {
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  const int64_t k_s[3] = {p.k.batch_stride, p.k.token_stride, p.k.head_stride};
  const int64_t v_s[3] = {p.v.batch_stride, p.v.token_stride, p.v.head_stride};
  checks::rows_16b(p.q.data, q_s, "args.q", function);
  if (p.has_kv_cache) {
    check_kv_cache_alignment(p.kv, function, "args.kv_cache");
  } else {
    checks::rows_16b(p.k.data, k_s, "args.k", function);
    checks::rows_16b(p.v.data, v_s, "args.v", function);
  }
  checks::rows_16b(p.out, p.out_strides, "args.out", function);
  if (p.lse != nullptr && reinterpret_cast<uintptr_t>(p.lse) % 4 != 0) {
    invalid(function, "args.lse is not 4-byte aligned");
  }
  if (p.tile_counters != nullptr && reinterpret_cast<uintptr_t>(p.tile_counters) % 8 != 0) {
    invalid(function, "args.tile_counters is not 8-byte aligned");
  }
  // The launch grid is (query tiles, heads, batch); CUDA caps grid y and z.
  const int32_t kMaxGridYZ = 65535;
  if (p.num_heads > kMaxGridYZ || p.batch > kMaxGridYZ) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.num_heads " + std::to_string(p.num_heads) +
                                     " and args.batch " + std::to_string(p.batch) +
                                     " must each be at most 65535 for the CUDA kernel");
  }
}

}  // namespace spattn::attention
