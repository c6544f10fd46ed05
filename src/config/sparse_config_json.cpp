// The canonical document of a config: fixed key order, per-phase values
// always spelled out, defaults written, unset optionals omitted. Reading it
// back gives an equal config.
#include "config/sparse_config.hpp"

namespace spattn {
namespace {

Value phase_values(const PhaseValues& v) {
  Value object = Value::make_object();
  object.add_member("prefill", Value::make_number(v.prefill));
  object.add_member("decode", Value::make_number(v.decode));
  return object;
}

void add_number(Value& object, const char* key, double n) { object.add_member(key, Value::make_number(n)); }

void add_optional(Value& object, const char* key, const std::optional<int32_t>& n) {
  if (n) add_number(object, key, *n);
}

void add_skip_softmax(Value& object, const SkipSoftmaxSettings& s) {
  if (s.threshold_scale_factor) object.add_member("threshold_scale_factor", phase_values(*s.threshold_scale_factor));
  if (s.target_sparsity) object.add_member("target_sparsity", phase_values(*s.target_sparsity));
  if (s.disabled_until_timestep) add_number(object, "disabled_until_timestep", *s.disabled_until_timestep);
  if (s.sparsity_m != 0) {
    add_number(object, "n", s.sparsity_n);
    add_number(object, "m", s.sparsity_m);
    add_number(object, "num_sink_tokens", s.num_sink_tokens);
    add_number(object, "dense_window_size", s.dense_window_size);
  }
  object.add_member("quantize_p", Value::make_bool(s.quantize_p));
}

void add_rocket(Value& object, const RocketSettings& r) {
  add_number(object, "window_size", r.window_size);
  add_number(object, "kernel_size", r.kernel_size);
  add_number(object, "topr", r.topr);
  add_number(object, "topk", r.topk);
  add_number(object, "prompt_budget", r.prompt_budget);
  add_number(object, "page_size", r.page_size);
  object.add_member("kt_cache_dtype", Value::make_string(r.kt_cache_dtype == SPATTN_KT_CACHE_BFLOAT16
                                                             ? "bfloat16"
                                                             : "float8_e5m2"));
}

void add_dsa(Value& object, const DsaSettings& d) {
  add_optional(object, "index_n_heads", d.index_n_heads);
  add_optional(object, "index_head_dim", d.index_head_dim);
  add_optional(object, "index_topk", d.index_topk);
  add_optional(object, "indexer_max_chunk_size", d.indexer_max_chunk_size);
  object.add_member("skip_indexer_for_short_seqs", Value::make_bool(d.skip_indexer_for_short_seqs));
  object.add_member("enable_heuristic_topk", Value::make_bool(d.enable_heuristic_topk));
}

Value algorithm_object(const SparseConfig& config) {
  if (config.algorithm == SPATTN_ALGORITHM_NONE) return Value::make_null();
  Value object = Value::make_object();
  object.add_member("algorithm", Value::make_string(spattn_algorithm_name(config.algorithm)));
  switch (config.algorithm) {
    case SPATTN_ALGORITHM_SKIP_SOFTMAX: add_skip_softmax(object, config.skip_softmax); break;
    case SPATTN_ALGORITHM_ROCKET: add_rocket(object, config.rocket); break;
    case SPATTN_ALGORITHM_DSA: add_dsa(object, config.dsa); break;
    case SPATTN_ALGORITHM_NONE:
    case SPATTN_ALGORITHM_MAX_ENUM: break;
  }
  add_optional(object, "seq_len_threshold", config.seq_len_threshold);
  return object;
}

}  // namespace

Value sparse_config_to_value(const SparseConfig& config) {
  Value root = Value::make_object();
  if (config.backend) {
    Value attention = Value::make_object();
    attention.add_member("backend", Value::make_string(*config.backend));
    attention.add_member("sparse_attention_config", algorithm_object(config));
    root.add_member("attention_config", std::move(attention));
  } else {
    root.add_member("sparse_attention_config", algorithm_object(config));
  }
  return root;
}

}  // namespace spattn
