// The user's sparse-attention config as understood: the model behind the
// spattn_config handle, filled from a Value tree by read_sparse_config().
#pragma once

#include <spattn/spattn.h>

#include <cstdint>
#include <optional>
#include <string>

#include "value/schema.hpp"
#include "value/value.hpp"

namespace spattn {

struct PhaseValues {
  double prefill = 0.0;
  double decode = 0.0;
  double of(spattn_phase phase) const { return phase == SPATTN_PHASE_DECODE ? decode : prefill; }
  bool operator==(const PhaseValues& o) const { return prefill == o.prefill && decode == o.decode; }
};

struct SkipSoftmaxSettings {
  std::optional<PhaseValues> threshold_scale_factor;  // each > 0
  std::optional<PhaseValues> target_sparsity;         // each in [0, 1]
  std::optional<double> disabled_until_timestep;      // in [0, 1]
  int32_t sparsity_n = 0;  // N:M sparse softmax: 0/0 when off
  int32_t sparsity_m = 0;
  int32_t num_sink_tokens = 0;
  int32_t dense_window_size = 0;
  bool quantize_p = false;
};

// Defaults are TensorRT-LLM's RocketSparseAttentionConfig defaults.
struct RocketSettings {
  int32_t window_size = 32;
  int32_t kernel_size = 63;
  double topr = 128;
  int32_t topk = 64;
  int32_t prompt_budget = 2048;
  int32_t page_size = 4;
  spattn_kt_cache_dtype kt_cache_dtype = SPATTN_KT_CACHE_FLOAT8_E5M2;
};

struct DsaSettings {
  std::optional<int32_t> index_n_heads;
  std::optional<int32_t> index_head_dim;
  std::optional<int32_t> index_topk;
  std::optional<int32_t> indexer_max_chunk_size;
  bool skip_indexer_for_short_seqs = true;
  bool enable_heuristic_topk = false;
};

struct SparseConfig {
  spattn_algorithm algorithm = SPATTN_ALGORITHM_NONE;
  std::optional<std::string> backend;  // VisualGen attention_config.backend
  std::optional<int32_t> seq_len_threshold;  // rocket and dsa
  SkipSoftmaxSettings skip_softmax;
  RocketSettings rocket;
  DsaSettings dsa;
};

// Applies the schema to a parsed document (any of the three accepted roots).
SparseConfig read_sparse_config(const Value& root, const std::string& origin);

// The canonical document of a config (see spattn_config_to_json).
Value sparse_config_to_value(const SparseConfig& config);

// A number applying to both phases, or {prefill: x, decode: y}; each value
// checked by `check` (which throws with the node's path).
template <class Check>
PhaseValues read_phase_values(const Node& node, Check check) {
  if (node.value.kind != Value::Kind::Object) {
    double v = check(node);
    return PhaseValues{v, v};
  }
  ObjectReader phases(node);
  PhaseValues values;
  values.prefill = check(phases.required("prefill"));
  values.decode = check(phases.required("decode"));
  phases.finish();
  return values;
}

}  // namespace spattn
