// Schema of the user config: the three accepted roots and each algorithm's
// fields, with TensorRT-LLM's names, types and ranges.
#include <limits>

#include "config/sparse_config.hpp"
#include "core/error.hpp"

namespace spattn {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

double check_threshold(const Node& n) { return n.positive_number(); }
double check_fraction(const Node& n) { return n.number_in(0.0, 1.0); }

std::optional<int32_t> optional_positive_int(ObjectReader& object, const char* key) {
  std::optional<Node> node = object.optional(key);
  if (!node) return std::nullopt;
  return node->integer_in(1, kMaxInt);
}

void read_sparse_softmax(ObjectReader& object, SkipSoftmaxSettings& s) {
  std::optional<Node> n = object.optional("n");
  std::optional<Node> m = object.optional("m");
  std::optional<Node> sinks = object.optional("num_sink_tokens");
  std::optional<Node> window = object.optional("dense_window_size");
  if (m) {
    s.sparsity_m = m->integer_in(1, kMaxInt);
    if (s.sparsity_m != 4 && s.sparsity_m != 8) m->fail(SPATTN_ERR_OUT_OF_RANGE, "m must be 4 or 8");
    if (!n) object.node().fail(SPATTN_ERR_MISSING_KEY, "N:M sparse softmax needs 'n' beside 'm'");
    s.sparsity_n = n->integer_in(1, s.sparsity_m - 1);
  } else if (n) {
    object.node().fail(SPATTN_ERR_MISSING_KEY, "N:M sparse softmax needs 'm' beside 'n'");
  }
  if ((sinks || window) && !m) {
    object.node().fail(SPATTN_ERR_MISSING_KEY,
                       "num_sink_tokens and dense_window_size apply to N:M sparse softmax: set 'n' and 'm'");
  }
  if (sinks) s.num_sink_tokens = sinks->integer_in(0, kMaxInt);
  if (window) s.dense_window_size = window->integer_in(0, kMaxInt);
}

void read_skip_softmax(ObjectReader& object, SkipSoftmaxSettings& s) {
  if (auto node = object.optional("threshold_scale_factor")) {
    s.threshold_scale_factor = read_phase_values(*node, check_threshold);
  }
  if (auto node = object.optional("target_sparsity")) {
    s.target_sparsity = read_phase_values(*node, check_fraction);
  }
  if (auto node = object.optional("disabled_until_timestep")) {
    s.disabled_until_timestep = node->number_in(0.0, 1.0);
  }
  read_sparse_softmax(object, s);
  if (auto node = object.optional("quantize_p")) s.quantize_p = node->boolean();
}

void read_rocket(ObjectReader& object, RocketSettings& r) {
  auto positive_int = [&](const char* key, int32_t& field) {
    if (auto value = optional_positive_int(object, key)) field = *value;
  };
  positive_int("window_size", r.window_size);
  positive_int("kernel_size", r.kernel_size);
  if (auto node = object.optional("topr")) r.topr = node->positive_number();
  positive_int("topk", r.topk);
  positive_int("prompt_budget", r.prompt_budget);
  positive_int("page_size", r.page_size);
  if (auto node = object.optional("kt_cache_dtype")) {
    r.kt_cache_dtype = node->string_in({"float8_e5m2", "bfloat16"}) == "bfloat16"
                           ? SPATTN_KT_CACHE_BFLOAT16
                           : SPATTN_KT_CACHE_FLOAT8_E5M2;
  }
}

void read_dsa(ObjectReader& object, DsaSettings& d) {
  d.index_n_heads = optional_positive_int(object, "index_n_heads");
  d.index_head_dim = optional_positive_int(object, "index_head_dim");
  d.index_topk = optional_positive_int(object, "index_topk");
  d.indexer_max_chunk_size = optional_positive_int(object, "indexer_max_chunk_size");
  if (auto node = object.optional("skip_indexer_for_short_seqs")) d.skip_indexer_for_short_seqs = node->boolean();
  if (auto node = object.optional("enable_heuristic_topk")) d.enable_heuristic_topk = node->boolean();
}

// The algorithm object: `algorithm` picks which fields are known.
void read_algorithm_object(const Node& node, SparseConfig& config) {
  ObjectReader object(node);
  const std::string& name = object.required("algorithm").string_in({"skip_softmax", "rocket", "dsa"});
  if (name == "skip_softmax") {
    config.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
    read_skip_softmax(object, config.skip_softmax);
  } else {
    config.algorithm = name == "rocket" ? SPATTN_ALGORITHM_ROCKET : SPATTN_ALGORITHM_DSA;
    config.seq_len_threshold = optional_positive_int(object, "seq_len_threshold");
    if (name == "rocket") read_rocket(object, config.rocket);
    else read_dsa(object, config.dsa);
  }
  object.finish();
}

}  // namespace

SparseConfig read_sparse_config(const Value& root, const std::string& origin) {
  SparseConfig config;
  ObjectReader top(Node{root, "", origin});
  bool llm_form = top.has("sparse_attention_config");
  bool visualgen_form = top.has("attention_config");
  if (llm_form && visualgen_form) {
    top.node().fail(SPATTN_ERR_OUT_OF_RANGE,
                    "both 'sparse_attention_config' and 'attention_config' are given; use one");
  }
  if (llm_form) {
    // Other top-level keys belong to the rest of an LLM API options file.
    if (auto sparse = top.optional("sparse_attention_config")) read_algorithm_object(*sparse, config);
  } else if (visualgen_form) {
    if (auto attention = top.optional("attention_config")) {
      ObjectReader reader(*attention);
      if (auto backend = reader.optional("backend")) config.backend = backend->string();
      if (auto sparse = reader.optional("sparse_attention_config")) read_algorithm_object(*sparse, config);
      reader.finish();
    }
  } else if (top.has("algorithm")) {
    read_algorithm_object(top.node(), config);
  } else {
    top.node().fail(SPATTN_ERR_MISSING_KEY,
                    "expected 'sparse_attention_config', 'attention_config' or 'algorithm' at the root");
  }
  return config;
}

}  // namespace spattn
