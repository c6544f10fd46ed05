// Schema of the user config: the three accepted roots and each algorithm's
// fields, with TensorRT-LLM's names, types, ranges and validation (its
// llm_args.py for the LLM form, visual_gen/args.py for the VisualGen form).
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "config/sparse_config.hpp"
#include "core/error.hpp"
#include "value/document.hpp"

namespace spattn {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr int64_t kMinInt = std::numeric_limits<int32_t>::min();

const std::vector<std::string> kBackends = {"VANILLA", "TRTLLM", "FA4", "CUTEDSL", "TE"};

double check_threshold(const Node& n) {
  double value = n.number();
  if (!(value >= 0)) n.fail(SPATTN_ERR_OUT_OF_RANGE, "value " + n.text() + " must be >= 0 (0 turns skip-softmax off)");
  return value;
}
double check_fraction(const Node& n) { return n.number_in(0.0, 1.0); }

std::optional<int32_t> optional_positive_int(ObjectReader& object, const char* key) {
  std::optional<Node> node = object.optional(key);
  if (!node) return std::nullopt;
  return node->integer_in(1, kMaxInt);
}

void read_bool(ObjectReader& object, const char* key, bool& field) {
  if (auto node = object.optional(key)) field = node->boolean();
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

void read_skip_softmax(ObjectReader& object, SkipSoftmaxSettings& s, bool visualgen) {
  if (auto node = object.optional("threshold_scale_factor")) {
    s.threshold_scale_factor = read_phase_values(*node, check_threshold, visualgen);
  }
  if (auto node = object.optional("target_sparsity")) {
    s.target_sparsity = read_phase_values(*node, check_fraction, visualgen);
    s.target_location = node->where();
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
  read_bool(object, "skip_indexer_for_short_seqs", d.skip_indexer_for_short_seqs);
  read_bool(object, "enable_heuristic_topk", d.enable_heuristic_topk);
  read_bool(object, "use_cute_dsl_topk", d.use_cute_dsl_topk);
  read_bool(object, "use_cute_dsl_paged_mqa_logits", d.use_cute_dsl_paged_mqa_logits);
  if (auto node = object.optional("q_split_threshold")) d.q_split_threshold = node->integer_in(kMinInt, kMaxInt);
  read_bool(object, "indexer_rope_interleave", d.indexer_rope_interleave);
  read_bool(object, "use_self_sampling_topk", d.use_self_sampling_topk);
  read_bool(object, "use_gvr_emission", d.use_gvr_emission);
  if (auto node = object.optional("indexer_k_dtype")) {
    d.indexer_k_dtype = node->string_in({"fp8", "fp4"}) == "fp4" ? SPATTN_INDEXER_K_FP4 : SPATTN_INDEXER_K_FP8;
    if (d.indexer_k_dtype == SPATTN_INDEXER_K_FP4 && d.index_head_dim && *d.index_head_dim != 128) {
      node->fail(SPATTN_ERR_OUT_OF_RANGE, "indexer_k_dtype 'fp4' requires index_head_dim 128, got " +
                                              std::to_string(*d.index_head_dim));
    }
  }
  if (auto node = object.optional("index_share_for_mtp_iteration")) d.index_share_for_mtp_iteration = node->boolean();
}

void read_vsa(ObjectReader& object, VsaSettings& v) {
  if (auto node = object.optional_alias("vsa_sparsity", "VSA_sparsity")) {
    v.vsa_sparsity = node->number();
    if (!(v.vsa_sparsity >= 0.0 && v.vsa_sparsity < 1.0)) {
      node->fail(SPATTN_ERR_OUT_OF_RANGE,
                 "value " + node->text() + " is outside [0, 1): the fraction of KV cubes dropped (1 would keep none)");
    }
  }
  if (auto node = object.optional_alias("block_size_3d", "tile_size")) {
    const std::vector<Value>& items = node->list();
    if (items.size() != 3) {
      node->fail(SPATTN_ERR_OUT_OF_RANGE, "expected 3 integers [frames, height, width], got " +
                                              std::to_string(items.size()) + " values");
    }
    for (size_t i = 0; i < 3; ++i) v.cube_shape[i] = node->item(i).integer_in(1, 64);
  }
  if (auto node = object.optional("disabled_until_timestep")) v.disabled_until_timestep = node->number_in(0.0, 1.0);
  if (auto node = object.optional("top_k_ratio")) {
    node->fail(SPATTN_ERR_UNKNOWN_KEY,
               "Model Optimizer's top_k_ratio keeps floor(ratio x cubes) cubes; spattn keeps "
               "ceil((1 - vsa_sparsity) x cubes): write vsa_sparsity = 1 - top_k_ratio");
  }
}

// The algorithm object: `algorithm` picks which fields are known.
void read_algorithm_object(const Node& node, SparseConfig& config) {
  ObjectReader object(node);
  Node algorithm = object.required("algorithm");
  if (config.visualgen_form && (algorithm.string() == "rocket" || algorithm.string() == "dsa")) {
    algorithm.fail(SPATTN_ERR_OUT_OF_RANGE, "value '" + algorithm.string() +
                                                "' is an LLM algorithm; VisualGen's sparse_attention_config "
                                                "takes skip_softmax or vsa");
  }
  const std::string& name = algorithm.string_in({"skip_softmax", "rocket", "dsa", "vsa"});
  if (name == "skip_softmax") {
    config.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
    read_skip_softmax(object, config.skip_softmax, config.visualgen_form);
  } else if (name == "vsa") {
    config.algorithm = SPATTN_ALGORITHM_VSA;
    read_vsa(object, config.vsa);
  } else {
    config.algorithm = name == "rocket" ? SPATTN_ALGORITHM_ROCKET : SPATTN_ALGORITHM_DSA;
    config.seq_len_threshold = optional_positive_int(object, "seq_len_threshold");
    if (name == "rocket") read_rocket(object, config.rocket);
    else read_dsa(object, config.dsa);
  }
  object.finish();
}

QuantAttentionSettings read_quant_attention(const Node& node) {
  ObjectReader object(node);
  QuantAttentionSettings q;
  if (auto n = object.optional("qk_dtype")) q.qk_dtype = n->string_in({"bf16", "int8", "fp8", "mxfp8", "nvfp4"});
  if (auto n = object.optional("v_dtype")) q.v_dtype = n->string_in({"fp8"});
  if (auto n = object.optional("q_block_size")) q.q_block_size = n->integer_in(0, kMaxInt);
  if (auto n = object.optional("k_block_size")) q.k_block_size = n->integer_in(0, kMaxInt);
  if (auto n = object.optional("v_block_size")) q.v_block_size = n->integer_in(0, kMaxInt);
  object.finish();
  return q;
}

// TensorRT-LLM's VisualGen recipes (qk_dtype, q, k, v block sizes); v_dtype is always fp8.
using Recipe = std::tuple<std::string, int32_t, int32_t, int32_t>;

std::string describe(const Recipe& r) {
  return "(" + std::get<0>(r) + ", " + std::to_string(std::get<1>(r)) + ", " + std::to_string(std::get<2>(r)) +
         ", " + std::to_string(std::get<3>(r)) + ")";
}

void check_quant_recipe(const Node& node, const QuantAttentionSettings& q, const std::string& backend) {
  static const std::vector<Recipe> kTrtllm = {
      {"int8", 1, 1, 1}, {"int8", 1, 4, 1}, {"int8", 1, 16, 1}, {"fp8", 1, 1, 1}, {"fp8", 1, 4, 1}};
  static const std::vector<Recipe> kCutedsl = {
      {"bf16", 0, 0, 0}, {"mxfp8", 0, 0, 0}, {"mxfp8", 0, 0, 1}, {"nvfp4", 0, 0, 0}, {"nvfp4", 0, 0, 1}};
  if (backend != "TRTLLM" && backend != "CUTEDSL") {
    node.fail(SPATTN_ERR_OUT_OF_RANGE, "quant_attention_config requires backend TRTLLM or CUTEDSL, got '" +
                                           backend + "'");
  }
  const std::vector<Recipe>& recipes = backend == "TRTLLM" ? kTrtllm : kCutedsl;
  Recipe recipe{q.qk_dtype, q.q_block_size, q.k_block_size, q.v_block_size};
  for (const Recipe& supported : recipes) {
    if (supported == recipe) return;
  }
  std::string list;
  for (const Recipe& supported : recipes) list += (list.empty() ? "" : ", ") + describe(supported);
  node.fail(SPATTN_ERR_OUT_OF_RANGE, "recipe (qk_dtype, q_block_size, k_block_size, v_block_size) = " +
                                         describe(recipe) + " is not supported on backend '" + backend +
                                         "'; supported: " + list);
}

// TensorRT-LLM's AttentionConfig validators: the backend each algorithm
// runs on, and quantized attention's recipes.
void check_backend(const Node& attention, const std::optional<Node>& backend_node, const std::optional<Node>& quant_node,
                   const SparseConfig& config) {
  const std::string backend = config.backend.value_or("VANILLA");
  const Node& where = backend_node ? *backend_node : attention;
  const std::string shown = "'" + backend + "'" + (config.backend ? "" : " (the default when backend is not given)");
  if (config.algorithm == SPATTN_ALGORITHM_SKIP_SOFTMAX && backend != "TRTLLM" && backend != "CUTEDSL") {
    where.fail(SPATTN_ERR_OUT_OF_RANGE,
               "sparse_attention_config with algorithm 'skip_softmax' requires backend TRTLLM or CUTEDSL, got " +
                   shown);
  }
  if (config.algorithm == SPATTN_ALGORITHM_VSA && backend != "CUTEDSL") {
    where.fail(SPATTN_ERR_OUT_OF_RANGE,
               "sparse_attention_config with algorithm 'vsa' requires backend CUTEDSL, got " + shown);
  }
  if (!config.quant_attention) return;
  check_quant_recipe(*quant_node, *config.quant_attention, backend);
  if (config.algorithm == SPATTN_ALGORITHM_VSA) {
    quant_node->fail(SPATTN_ERR_OUT_OF_RANGE,
                     "quant_attention_config cannot be combined with a vsa sparse_attention_config "
                     "(CUTEDSL runs either the quantized dense path or the VSA path)");
  }
}

void read_visualgen(const Node& attention, SparseConfig& config) {
  config.visualgen_form = true;
  ObjectReader reader(attention);
  std::optional<Node> backend = reader.optional("backend");
  if (backend) config.backend = backend->string_in(kBackends);
  std::optional<Node> quant = reader.optional("quant_attention_config");
  if (quant) config.quant_attention = read_quant_attention(*quant);
  if (auto sparse = reader.optional("sparse_attention_config")) read_algorithm_object(*sparse, config);
  reader.finish();
  check_backend(attention, backend, quant, config);
}

}  // namespace

SparseConfig read_sparse_config(const Value& root, const std::string& origin) {
  SparseConfig config;
  config.origin = origin;
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
    // Other top-level keys belong to the rest of a VisualGen args file.
    if (auto attention = top.optional("attention_config")) read_visualgen(*attention, config);
    else config.visualgen_form = true;
  } else if (top.has("algorithm")) {
    read_algorithm_object(top.node(), config);
  } else {
    top.node().fail(SPATTN_ERR_MISSING_KEY,
                    "expected 'sparse_attention_config', 'attention_config' or 'algorithm' at the root");
  }
  return config;
}

}  // namespace spattn
