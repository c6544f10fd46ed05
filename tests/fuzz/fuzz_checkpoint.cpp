// libFuzzer target for checkpoint calibration metadata: the bytes are a
// component's config.json, run through JSON parsing, the calibration schema,
// formula compilation and resolution (no file system), then looked up.
// Properties beyond "no crash, no leak, no UB": every failure is a
// spattn::Error with a message; resolved thresholds are finite and > 0 when
// enabled and 0 otherwise; the phase key follows `enabled`.
#include <spattn/spattn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/sparse_config.hpp"
#include "core/error.hpp"
#include "resolve/component_resolution.hpp"
#include "value/document.hpp"
#include "value/value.hpp"

namespace {

spattn::SparseConfig make_user(const char* yaml) {
  return spattn::read_sparse_config(spattn::parse_yaml(yaml, "<user>", 1 << 16), "<user>");
}

void check_params(const spattn_layer_params& p) {
  if (p.enabled) {
    if (!(p.threshold_scale_factor > 0.0) || !std::isfinite(p.threshold_scale_factor)) std::abort();
    if (p.phase_key != SPATTN_PHASE_KEY_SPARSE || p.disabled_reason != SPATTN_DISABLED_NOT) std::abort();
  } else {
    if (p.threshold_scale_factor != 0.0 || p.phase_key != SPATTN_PHASE_KEY_DENSE) std::abort();
  }
}

void resolve_and_look_up(const spattn::Value& config, const spattn::SparseConfig* user) {
  spattn::ResolvedComponent component;
  try {
    component = spattn::resolve_component("transformer", config, "config.json", user);
  } catch (const spattn::Error& e) {
    if (e.what()[0] == '\0' || e.status() == SPATTN_OK) std::abort();
    return;
  }
  static const char* const kLayers[] = {"blocks.0.attn1", "transformer.blocks.0.attn2", "model.layers.1.self_attn",
                                        "", "blocks.[0].x", "\xC3\xA9.attn"};
  for (const char* layer : kLayers) {
    for (spattn_phase phase : {SPATTN_PHASE_PREFILL, SPATTN_PHASE_DECODE}) {
      for (double timestep : {SPATTN_NO_TIMESTEP, 0.0, 0.5, 1.0}) {
        spattn_layer_params params{};
        params.struct_size = sizeof params;
        try {
          spattn::lookup_layer(component, layer, phase, timestep, params);
        } catch (const spattn::Error& e) {
          if (e.status() != SPATTN_ERR_CALIBRATION_MISSING) std::abort();
          continue;
        }
        check_params(params);
      }
    }
  }
  // The patterns are matched against the config text itself too.
  for (const spattn::GlobPattern& pattern : component.ignore) (void)pattern.matches(pattern.text());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const spattn::SparseConfig kTarget = make_user("algorithm: skip_softmax\ntarget_sparsity: {prefill: 0.25, decode: 0.9}\n");
  static const spattn::SparseConfig kThreshold = make_user("algorithm: skip_softmax\nthreshold_scale_factor: 100\ndisabled_until_timestep: 0.5\n");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  spattn::Value config;
  try {
    config = spattn::parse_json(text, "config.json", SPATTN_MAX_CHECKPOINT_FILE_BYTES);
  } catch (const spattn::Error& e) {
    if (e.what()[0] == '\0') std::abort();
    return 0;
  }
  resolve_and_look_up(config, nullptr);
  resolve_and_look_up(config, &kTarget);
  resolve_and_look_up(config, &kThreshold);
  return 0;
}
