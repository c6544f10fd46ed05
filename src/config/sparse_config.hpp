// The user's sparse-attention config as understood: the model behind the
// spattn_config handle, filled from a Value tree by read_sparse_config().
#pragma once

#include <spattn/spattn.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "value/schema.hpp"
#include "value/value.hpp"

namespace spattn {

// A value per phase; a phase may be absent (not given: off for that phase).
struct PhaseValues {
  std::optional<double> prefill;
  std::optional<double> decode;

  static PhaseValues both(double value) { return PhaseValues{value, value}; }
  const std::optional<double>& of(spattn_phase phase) const {
    return phase == SPATTN_PHASE_DECODE ? decode : prefill;
  }
};

struct SkipSoftmaxSettings {
  std::optional<PhaseValues> threshold_scale_factor;  // each >= 0; 0 is off
  std::optional<PhaseValues> target_sparsity;         // each in [0, 1]
  std::string target_location;                        // "file:line:col: key.path", for messages
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

// Defaults are TensorRT-LLM's DeepSeekSparseAttentionConfig defaults.
struct DsaSettings {
  std::optional<int32_t> index_n_heads;
  std::optional<int32_t> index_head_dim;
  std::optional<int32_t> index_topk;
  std::optional<int32_t> indexer_max_chunk_size;
  bool skip_indexer_for_short_seqs = true;
  bool enable_heuristic_topk = false;
  bool use_cute_dsl_topk = false;
  bool use_cute_dsl_paged_mqa_logits = false;
  int32_t q_split_threshold = 8192;
  bool indexer_rope_interleave = false;
  bool use_self_sampling_topk = true;
  bool use_gvr_emission = false;
  spattn_indexer_k_dtype indexer_k_dtype = SPATTN_INDEXER_K_FP8;
  std::optional<bool> index_share_for_mtp_iteration;
};

// Video Sparse Attention; defaults are TensorRT-LLM's (sparsity) and Model
// Optimizer's / FastVideo's (cube shape).
struct VsaSettings {
  double vsa_sparsity = 0.9;                 // [0, 1)
  std::array<int32_t, 3> cube_shape{4, 4, 4};  // frames, height, width
  std::optional<double> disabled_until_timestep;
};

// VisualGen's attention_config.quant_attention_config (checked, kept for the
// canonical JSON; spattn's kernels do not quantize attention this way).
struct QuantAttentionSettings {
  std::string qk_dtype = "bf16";
  std::string v_dtype = "fp8";
  int32_t q_block_size = 0;
  int32_t k_block_size = 0;
  int32_t v_block_size = 0;
};

struct SparseConfig {
  std::string origin;          // file path or "<string>": where it was read from
  bool visualgen_form = false;  // read from an attention_config root
  spattn_algorithm algorithm = SPATTN_ALGORITHM_NONE;
  std::optional<std::string> backend;  // VisualGen attention_config.backend as given
  std::optional<QuantAttentionSettings> quant_attention;
  std::optional<int32_t> seq_len_threshold;  // rocket and dsa
  SkipSoftmaxSettings skip_softmax;
  RocketSettings rocket;
  DsaSettings dsa;
  VsaSettings vsa;
};

// Applies the schema to a parsed document (any of the three accepted roots).
SparseConfig read_sparse_config(const Value& root, const std::string& origin);

// The canonical document of a config (see spattn_config_to_json).
Value sparse_config_to_value(const SparseConfig& config);

// A number applying to both phases, or {prefill: x, decode: y} with one or
// both phases; each value checked by `check` (which throws with the node's
// path). `scalar_only` refuses the mapping form (VisualGen), saying why.
template <class Check>
PhaseValues read_phase_values(const Node& node, Check check, bool scalar_only = false) {
  if (node.value.kind != Value::Kind::Object) return PhaseValues::both(check(node));
  if (scalar_only) {
    node.fail(SPATTN_ERR_TYPE,
              "expected a number: VisualGen has no prefill/decode phases (TensorRT-LLM refuses "
              "per-phase values in attention_config)");
  }
  ObjectReader phases(node);
  PhaseValues values;
  if (auto prefill = phases.optional("prefill")) values.prefill = check(*prefill);
  if (auto decode = phases.optional("decode")) values.decode = check(*decode);
  phases.finish();
  if (!values.prefill && !values.decode) node.fail(SPATTN_ERR_MISSING_KEY, "give 'prefill', 'decode' or both");
  return values;
}

}  // namespace spattn
