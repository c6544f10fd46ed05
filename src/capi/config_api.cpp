// extern "C" entry points of the user config handle.
#include <spattn/spattn.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>

#include "capi/config_handle.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "value/document.hpp"
#include "value/json_writer.hpp"

using spattn::fail;
using spattn::guarded;
using spattn::require_arg;

namespace {

void require_format(spattn_format format, const char* function) {
  if (format != SPATTN_FORMAT_AUTO && format != SPATTN_FORMAT_JSON && format != SPATTN_FORMAT_YAML) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         std::string(function) + ": format " + std::to_string(int(format)) + " is not a spattn_format");
  }
}

// A per-phase value as the C struct carries it: NaN for a phase not given.
spattn_phase_values phase_values(const spattn::PhaseValues& v) {
  const double not_given = std::numeric_limits<double>::quiet_NaN();
  return spattn_phase_values{v.prefill.value_or(not_given), v.decode.value_or(not_given)};
}

spattn_config* make_config(std::string_view text, spattn_format format, const std::string& origin) {
  spattn::Value document = spattn::parse_document(text, format, origin, SPATTN_MAX_CONFIG_BYTES);
  auto handle = std::make_unique<spattn_config>();
  handle->config = spattn::read_sparse_config(document, origin);
  return handle.release();
}

// The accessors' common checks: a config, an out struct of a published
// layout (struct_size.hpp), and the expected algorithm.
template <class Struct>
const spattn::SparseConfig& accessor_config(const spattn_config* config, Struct* out,
                                            spattn_algorithm expected, const char* function) {
  require_arg(config, function, "config");
  require_arg(out, function, "out");
  spattn::require_struct(out, function, "out");
  if (config->config.algorithm != expected) {
    fail(SPATTN_ERR_WRONG_ALGORITHM, std::string(function) + ": the config's algorithm is '" +
                                         spattn_algorithm_name(config->config.algorithm) + "', not '" +
                                         spattn_algorithm_name(expected) + "'");
  }
  return config->config;
}

}  // namespace

extern "C" {

spattn_status spattn_config_parse(const char* text, size_t length, spattn_format format,
                                  spattn_config** out_config) {
  return guarded([&] {
    require_arg(out_config, "spattn_config_parse", "out_config");
    *out_config = nullptr;
    require_arg(text, "spattn_config_parse", "text");
    require_format(format, "spattn_config_parse");
    *out_config = make_config(std::string_view(text, length), format, "<string>");
  });
}

spattn_status spattn_config_parse_file(const char* path, spattn_format format,
                                       spattn_config** out_config) {
  return guarded([&] {
    require_arg(out_config, "spattn_config_parse_file", "out_config");
    *out_config = nullptr;
    require_arg(path, "spattn_config_parse_file", "path");
    require_format(format, "spattn_config_parse_file");
    std::string text = spattn::read_file(path, SPATTN_MAX_CONFIG_BYTES);
    if (format == SPATTN_FORMAT_AUTO) format = spattn::format_from_path(path);
    *out_config = make_config(text, format, path);
  });
}

void spattn_config_destroy(spattn_config* config) { delete config; }

spattn_algorithm spattn_config_algorithm(const spattn_config* config) {
  return config == nullptr ? SPATTN_ALGORITHM_NONE : config->config.algorithm;
}

const char* spattn_config_backend(const spattn_config* config) {
  if (config == nullptr || !config->config.backend) return nullptr;
  return config->config.backend->c_str();
}

spattn_status spattn_config_to_json(const spattn_config* config, char** out_json) {
  return guarded([&] {
    require_arg(out_json, "spattn_config_to_json", "out_json");
    *out_json = nullptr;
    require_arg(config, "spattn_config_to_json", "config");
    *out_json = spattn::copy_out_string(spattn::write_json(spattn::sparse_config_to_value(config->config)));
  });
}

spattn_status spattn_config_skip_softmax(const spattn_config* config, spattn_skip_softmax_config* out) {
  return guarded([&] {
    static const char* const function = "spattn_config_skip_softmax";
    const auto& c = accessor_config(config, out, SPATTN_ALGORITHM_SKIP_SOFTMAX, function);
    const spattn::SkipSoftmaxSettings& s = c.skip_softmax;
    spattn_skip_softmax_config r{};
    r.struct_size = sizeof r;
    r.has_threshold_scale_factor = s.threshold_scale_factor.has_value();
    if (s.threshold_scale_factor) r.threshold_scale_factor = phase_values(*s.threshold_scale_factor);
    r.has_target_sparsity = s.target_sparsity.has_value();
    if (s.target_sparsity) r.target_sparsity = phase_values(*s.target_sparsity);
    r.has_disabled_until_timestep = s.disabled_until_timestep.has_value();
    r.disabled_until_timestep = s.disabled_until_timestep.value_or(0.0);
    r.sparsity_n = s.sparsity_n;
    r.sparsity_m = s.sparsity_m;
    r.num_sink_tokens = s.num_sink_tokens;
    r.dense_window_size = s.dense_window_size;
    r.quantize_p = s.quantize_p;
    spattn::write_struct(out, r, function, "out");
  });
}

spattn_status spattn_config_rocket(const spattn_config* config, spattn_rocket_config* out) {
  return guarded([&] {
    static const char* const function = "spattn_config_rocket";
    const auto& c = accessor_config(config, out, SPATTN_ALGORITHM_ROCKET, function);
    const spattn::RocketSettings& s = c.rocket;
    spattn_rocket_config r{};
    r.struct_size = sizeof r;
    r.window_size = s.window_size;
    r.kernel_size = s.kernel_size;
    r.topr = s.topr;
    r.topk = s.topk;
    r.prompt_budget = s.prompt_budget;
    r.page_size = s.page_size;
    r.kt_cache_dtype = s.kt_cache_dtype;
    r.has_seq_len_threshold = c.seq_len_threshold.has_value();
    r.seq_len_threshold = c.seq_len_threshold.value_or(0);
    spattn::write_struct(out, r, function, "out");
  });
}

spattn_status spattn_config_dsa(const spattn_config* config, spattn_dsa_config* out) {
  return guarded([&] {
    static const char* const function = "spattn_config_dsa";
    const auto& c = accessor_config(config, out, SPATTN_ALGORITHM_DSA, function);
    const spattn::DsaSettings& s = c.dsa;
    spattn_dsa_config r{};
    r.struct_size = sizeof r;
    r.index_n_heads = s.index_n_heads.value_or(0);
    r.index_head_dim = s.index_head_dim.value_or(0);
    r.index_topk = s.index_topk.value_or(0);
    r.indexer_max_chunk_size = s.indexer_max_chunk_size.value_or(0);
    r.skip_indexer_for_short_seqs = s.skip_indexer_for_short_seqs;
    r.enable_heuristic_topk = s.enable_heuristic_topk;
    r.seq_len_threshold = c.seq_len_threshold.value_or(0);
    r.use_cute_dsl_topk = s.use_cute_dsl_topk;
    r.use_cute_dsl_paged_mqa_logits = s.use_cute_dsl_paged_mqa_logits;
    r.q_split_threshold = s.q_split_threshold;
    r.indexer_rope_interleave = s.indexer_rope_interleave;
    r.use_self_sampling_topk = s.use_self_sampling_topk;
    r.use_gvr_emission = s.use_gvr_emission;
    r.indexer_k_dtype = s.indexer_k_dtype;
    r.index_share_for_mtp_iteration = s.index_share_for_mtp_iteration ? int32_t(*s.index_share_for_mtp_iteration) : -1;
    spattn::write_struct(out, r, function, "out");
  });
}

spattn_status spattn_config_vsa(const spattn_config* config, spattn_vsa_config* out) {
  return guarded([&] {
    static const char* const function = "spattn_config_vsa";
    const auto& c = accessor_config(config, out, SPATTN_ALGORITHM_VSA, function);
    const spattn::VsaSettings& s = c.vsa;
    spattn_vsa_config r{};
    r.vsa_sparsity = s.vsa_sparsity;
    for (int i = 0; i < 3; ++i) r.cube_shape[i] = s.cube_shape[size_t(i)];
    r.has_disabled_until_timestep = s.disabled_until_timestep.has_value();
    r.disabled_until_timestep = s.disabled_until_timestep.value_or(0.0);
    spattn::write_struct(out, r, function, "out");
  });
}

}  // extern "C"
