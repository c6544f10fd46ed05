// The canonical document of a config: fixed key order, per-phase values
// spelled out as given, defaults written, unset optionals omitted. Reading it
// back gives an equal config.
#include "config/sparse_config.hpp"
#include "core/enum_names.hpp"

namespace spattn {
namespace {

Value phase_values(const PhaseValues& v) {
  Value object = Value::make_object();
  if (v.prefill) object.add_member("prefill", Value::make_number(*v.prefill));
  if (v.decode) object.add_member("decode", Value::make_number(*v.decode));
  return object;
}

// A VisualGen value is a scalar: both phases hold it.
Value phase_values_or_scalar(const PhaseValues& v, bool scalar) {
  return scalar ? Value::make_number(*v.prefill) : phase_values(v);
}

void add_number(Value& object, const char* key, double n) { object.add_member(key, Value::make_number(n)); }
void add_bool(Value& object, const char* key, bool b) { object.add_member(key, Value::make_bool(b)); }

void add_optional(Value& object, const char* key, const std::optional<int32_t>& n) {
  if (n) add_number(object, key, *n);
}

void add_skip_softmax(Value& object, const SkipSoftmaxSettings& s, bool scalar) {
  if (s.threshold_scale_factor) {
    object.add_member("threshold_scale_factor", phase_values_or_scalar(*s.threshold_scale_factor, scalar));
  }
  if (s.target_sparsity) object.add_member("target_sparsity", phase_values_or_scalar(*s.target_sparsity, scalar));
  if (s.disabled_until_timestep) add_number(object, "disabled_until_timestep", *s.disabled_until_timestep);
  if (s.sparsity_m != 0) {
    add_number(object, "n", s.sparsity_n);
    add_number(object, "m", s.sparsity_m);
    add_number(object, "num_sink_tokens", s.num_sink_tokens);
    add_number(object, "dense_window_size", s.dense_window_size);
  }
  add_bool(object, "quantize_p", s.quantize_p);
}

void add_rocket(Value& object, const RocketSettings& r) {
  add_number(object, "window_size", r.window_size);
  add_number(object, "kernel_size", r.kernel_size);
  add_number(object, "topr", r.topr);
  add_number(object, "topk", r.topk);
  add_number(object, "prompt_budget", r.prompt_budget);
  add_number(object, "page_size", r.page_size);
  object.add_member("kt_cache_dtype", Value::make_string(kt_cache_dtype_name(r.kt_cache_dtype)));
}

void add_dsa(Value& object, const DsaSettings& d) {
  add_optional(object, "index_n_heads", d.index_n_heads);
  add_optional(object, "index_head_dim", d.index_head_dim);
  add_optional(object, "index_topk", d.index_topk);
  add_optional(object, "indexer_max_chunk_size", d.indexer_max_chunk_size);
  add_bool(object, "skip_indexer_for_short_seqs", d.skip_indexer_for_short_seqs);
  add_bool(object, "enable_heuristic_topk", d.enable_heuristic_topk);
  add_bool(object, "use_cute_dsl_topk", d.use_cute_dsl_topk);
  add_bool(object, "use_cute_dsl_paged_mqa_logits", d.use_cute_dsl_paged_mqa_logits);
  add_number(object, "q_split_threshold", d.q_split_threshold);
  add_bool(object, "indexer_rope_interleave", d.indexer_rope_interleave);
  add_bool(object, "use_self_sampling_topk", d.use_self_sampling_topk);
  add_bool(object, "use_gvr_emission", d.use_gvr_emission);
  object.add_member("indexer_k_dtype", Value::make_string(indexer_k_dtype_name(d.indexer_k_dtype)));
  if (d.index_share_for_mtp_iteration) add_bool(object, "index_share_for_mtp_iteration", *d.index_share_for_mtp_iteration);
}

void add_vsa(Value& object, const VsaSettings& v) {
  add_number(object, "vsa_sparsity", v.vsa_sparsity);
  Value shape = Value::make_array();
  for (int32_t extent : v.cube_shape) shape.items.push_back(Value::make_number(extent));
  object.add_member("block_size_3d", std::move(shape));
  if (v.disabled_until_timestep) add_number(object, "disabled_until_timestep", *v.disabled_until_timestep);
}

Value algorithm_object(const SparseConfig& config) {
  if (config.algorithm == SPATTN_ALGORITHM_NONE) return Value::make_null();
  Value object = Value::make_object();
  object.add_member("algorithm", Value::make_string(algorithm_name(config.algorithm)));
  switch (config.algorithm) {
    case SPATTN_ALGORITHM_SKIP_SOFTMAX: add_skip_softmax(object, config.skip_softmax, config.visualgen_form); break;
    case SPATTN_ALGORITHM_ROCKET: add_rocket(object, config.rocket); break;
    case SPATTN_ALGORITHM_DSA: add_dsa(object, config.dsa); break;
    case SPATTN_ALGORITHM_VSA: add_vsa(object, config.vsa); break;
    case SPATTN_ALGORITHM_NONE:
    case SPATTN_ALGORITHM_MAX_ENUM: break;
  }
  add_optional(object, "seq_len_threshold", config.seq_len_threshold);
  return object;
}

Value quant_attention(const QuantAttentionSettings& q) {
  Value object = Value::make_object();
  object.add_member("qk_dtype", Value::make_string(q.qk_dtype));
  object.add_member("v_dtype", Value::make_string(q.v_dtype));
  add_number(object, "q_block_size", q.q_block_size);
  add_number(object, "k_block_size", q.k_block_size);
  add_number(object, "v_block_size", q.v_block_size);
  return object;
}

}  // namespace

Value sparse_config_to_value(const SparseConfig& config) {
  Value root = Value::make_object();
  if (config.visualgen_form) {
    Value attention = Value::make_object();
    if (config.backend) attention.add_member("backend", Value::make_string(*config.backend));
    if (config.quant_attention) attention.add_member("quant_attention_config", quant_attention(*config.quant_attention));
    attention.add_member("sparse_attention_config", algorithm_object(config));
    root.add_member("attention_config", std::move(attention));
  } else {
    root.add_member("sparse_attention_config", algorithm_object(config));
  }
  return root;
}

}  // namespace spattn
