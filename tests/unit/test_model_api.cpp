// The model C API on the shipped sample checkpoints (the two seed examples):
// hand-computed resolution tables, argument errors, JSON, threads, and the
// `spattn inspect` tool.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_checkpoint_support.hpp"
#include "value/document.hpp"

namespace {

using spattn_test::config_file;
using spattn_test::lookup;
using spattn_test::lookup_status;
using spattn_test::open_model;
using spattn_test::parse_config;

const spattn_phase kPrefill = SPATTN_PHASE_PREFILL;
const spattn_phase kDecode = SPATTN_PHASE_DECODE;

// One expected row of a resolution table.
struct Expect {
  int enabled;
  spattn_disabled_reason reason;
  double threshold;  // 0 when not enabled
};

void check(const spattn_layer_params& p, const Expect& e, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(p.enabled, e.enabled);
  EXPECT_EQ(p.disabled_reason, e.reason);
  EXPECT_DOUBLE_EQ(p.threshold_scale_factor, e.threshold);
  EXPECT_EQ(p.phase_key, e.enabled ? SPATTN_PHASE_KEY_SPARSE : SPATTN_PHASE_KEY_DENSE);
  EXPECT_EQ(p.struct_size, sizeof(spattn_layer_params));
}

// ---- VisualGen seed: wan-mini ----------------------------------------------

TEST(ModelVisualGenSeed, CheckpointDefaultsPerLayerAndTimestep) {
  auto model = open_model(spattn_test::wan_mini());
  ASSERT_TRUE(model);
  const double on = 1000.0 * std::exp(5.0 * 0.5);  // a * exp(b * target), target 0.5
  const Expect enabled{1, SPATTN_DISABLED_NOT, on};
  const Expect by_time{0, SPATTN_DISABLED_TIMESTEP, 0.0};
  const Expect ignored{0, SPATTN_DISABLED_IGNORED, 0.0};
  struct Row {
    const char* layer;
    double timestep;
    Expect expect;
  } rows[] = {
      {"blocks.1.attn1", SPATTN_NO_TIMESTEP, enabled},
      {"blocks.1.attn1", 1.0, by_time},
      {"blocks.1.attn1", 0.9, by_time},
      {"blocks.1.attn1", 0.8, by_time},  // disabled while t >= 0.8
      {"blocks.1.attn1", 0.79, enabled},
      {"blocks.1.attn1", 0.0, enabled},
      {"blocks.1.attn1", -0.5, enabled},  // negative: no timestep
      {"transformer.blocks.7.attn2", 0.5, enabled},
      {"blocks.0.attn1", SPATTN_NO_TIMESTEP, ignored},
      {"blocks.0.attn1", 0.9, ignored},
      {"blocks.0.attn1", 0.79, ignored},
      {"transformer.blocks.0.attn2", 0.79, ignored},
      {"blocks.0.attn3", 0.79, enabled},
      {"blocks.10.attn1", 0.79, enabled},
  };
  for (spattn_phase phase : {kPrefill, kDecode}) {
    for (const Row& row : rows) {
      auto p = lookup(model.get(), "transformer", row.layer, phase, row.timestep);
      check(p, row.expect, std::string(row.layer) + " t=" + std::to_string(row.timestep));
      EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_SKIP_SOFTMAX);
      EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_FORMULA);
      EXPECT_EQ(p.target_sparsity, 0.5);
      EXPECT_EQ(p.target_source, SPATTN_SOURCE_CHECKPOINT);
      EXPECT_EQ(p.disabled_until_timestep, 0.8);
      EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_CHECKPOINT);
    }
  }
}

TEST(ModelVisualGenSeed, SecondTransformerHasItsOwnFormulaAndIgnoreList) {
  auto model = open_model(spattn_test::wan_mini());
  const double on = 8000.0 * 0.6 * 0.6 + 250.0;  // a * target ** 2 + c, target 0.6
  check(lookup(model.get(), "transformer_2", "blocks.0.attn1", kPrefill, 0.95), {1, SPATTN_DISABLED_NOT, on},
        "no cutoff in transformer_2; blocks.0.attn1 not ignored there");
  check(lookup(model.get(), "transformer_2", "blocks.5.attn2", kPrefill), {0, SPATTN_DISABLED_IGNORED, 0.0},
        "*.attn2");
  check(lookup(model.get(), "transformer_2", "transformer_2.blocks.39.ffn", kDecode),
        {0, SPATTN_DISABLED_IGNORED, 0.0}, "blocks.39.*");
  check(lookup(model.get(), "transformer_2", "blocks.38.attn1", kDecode), {1, SPATTN_DISABLED_NOT, on}, "ordinary");
  EXPECT_TRUE(std::isnan(lookup(model.get(), "transformer_2", "x", kPrefill).disabled_until_timestep));
}

TEST(ModelVisualGenSeed, NonTargetComponentsAreDense) {
  auto model = open_model(spattn_test::wan_mini());
  for (const char* component : {"scheduler", "text_encoder", "tokenizer", "vae"}) {
    auto p = lookup(model.get(), component, "encoder.block.0.layer.0.SelfAttention", kPrefill, 0.5);
    check(p, {0, SPATTN_DISABLED_NOT_TARGET, 0.0}, component);
    EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_NONE);
  }
}

TEST(ModelVisualGenSeed, UserTargetAndCutoff) {
  auto user = config_file("visualgen_target.yaml");  // target 0.5, cutoff 0.6
  auto model = open_model(spattn_test::wan_mini(), user.get());
  ASSERT_TRUE(model);
  const double t1 = 1000.0 * std::exp(5.0 * 0.5);
  const double t2 = 8000.0 * 0.5 * 0.5 + 250.0;
  for (spattn_phase phase : {kPrefill, kDecode}) {
    check(lookup(model.get(), "transformer", "blocks.3.attn1", phase, 0.7), {0, SPATTN_DISABLED_TIMESTEP, 0.0}, "0.7");
    check(lookup(model.get(), "transformer", "blocks.3.attn1", phase, 0.6), {0, SPATTN_DISABLED_TIMESTEP, 0.0}, "0.6");
    check(lookup(model.get(), "transformer", "blocks.3.attn1", phase, 0.59), {1, SPATTN_DISABLED_NOT, t1}, "0.59");
    check(lookup(model.get(), "transformer_2", "blocks.3.attn1", phase, 0.59), {1, SPATTN_DISABLED_NOT, t2}, "t2");
    check(lookup(model.get(), "transformer", "blocks.0.attn1", phase, 0.1), {0, SPATTN_DISABLED_IGNORED, 0.0}, "ign");
    auto p = lookup(model.get(), "transformer_2", "blocks.3.attn1", phase, 0.7);
    EXPECT_EQ(p.target_source, SPATTN_SOURCE_USER);
    EXPECT_EQ(p.disabled_until_timestep, 0.6);
    EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_USER);  // transformer_2 had none; the user's applies
  }
  // The JSON twin gives the same.
  auto twin = config_file("visualgen_target.json");
  auto model2 = open_model(spattn_test::wan_mini(), twin.get());
  EXPECT_DOUBLE_EQ(lookup(model2.get(), "transformer", "b", kPrefill, 0.5).threshold_scale_factor, t1);
}

TEST(ModelVisualGenSeed, UserTargetOnUncalibratedComponentFailsAtLookupOnly) {
  spattn_test::TempDir dir;
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "T"], "transformer_2": ["diffusers", "T"],
    "text_encoder": ["transformers", "E"]})J");
  dir.write("transformer/config.json", spattn_test::skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "a": 100}, "target_sparsity": 0.9)J"));
  dir.write("transformer_2/config.json", R"J({"num_layers": 40})J");
  auto user = config_file("visualgen_target.yaml");
  auto model = open_model(dir.path(), user.get());
  ASSERT_TRUE(model);  // transformer can map it
  EXPECT_DOUBLE_EQ(lookup(model.get(), "transformer", "x", kPrefill, 0.5).threshold_scale_factor, 50.0);
  std::string message;
  EXPECT_EQ(lookup_status(model.get(), "transformer_2", "x", kPrefill, 0.5, &message), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find("transformer_2/config.json"), std::string::npos) << message;
  // The message names the user config, where the target came from.
  EXPECT_NE(message.find("target_sparsity 0.5 from the user config (" + spattn_test::examples_dir() +
                         "/configs/visualgen_target.yaml:7:22: attention_config.sparse_attention_config.target_sparsity)"),
            std::string::npos)
      << message;
  // A text encoder is no target: dense, never an error.
  EXPECT_EQ(lookup(model.get(), "text_encoder", "x", kDecode).disabled_reason, SPATTN_DISABLED_NOT_TARGET);
}

// Opening reports through the log callback: one INFO line per component,
// a WARNING for each phase of a component that cannot map the user's target.
struct CollectedLog {
  std::vector<std::pair<spattn_log_level, std::string>> lines;
};

TEST(ModelLogging, OpenReportsComponentsAndUnresolvedTargets) {
  CollectedLog log;
  auto collect = [](spattn_log_level level, const char* message, void* user) {
    static_cast<CollectedLog*>(user)->lines.emplace_back(level, message);
  };
  ASSERT_EQ(spattn_set_log_callback(collect, SPATTN_LOG_INFO, &log), SPATTN_OK);
  auto user = config_file("visualgen_target.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  ASSERT_EQ(spattn_set_log_callback(nullptr, SPATTN_LOG_DEBUG, nullptr), SPATTN_OK);
  ASSERT_TRUE(model);

  int info = 0, warnings = 0;
  bool transformer_line = false, vae_line = false;
  for (const auto& line : log.lines) {
    if (line.first == SPATTN_LOG_INFO) ++info;
    if (line.first == SPATTN_LOG_WARNING) ++warnings;
    // target 0.5 through a * exp(b * target_sparsity), a=1000, b=5
    if (line.second.find("component 'transformer': prefill threshold_scale_factor 12182.49") != std::string::npos) {
      transformer_line = true;
    }
    if (line.second.find("component 'vae': not a sparse-attention target (dense)") != std::string::npos) vae_line = true;
  }
  EXPECT_EQ(info, int(spattn_model_component_count(model.get())));
  EXPECT_EQ(warnings, 0) << "text encoders and VAEs are not targets: nothing to warn about";
  EXPECT_TRUE(transformer_line);
  EXPECT_TRUE(vae_line);

  // Below the minimum level nothing is delivered.
  CollectedLog quiet;
  ASSERT_EQ(spattn_set_log_callback(collect, SPATTN_LOG_ERROR, &quiet), SPATTN_OK);
  auto again = open_model(spattn_test::wan_mini(), user.get());
  ASSERT_EQ(spattn_set_log_callback(nullptr, SPATTN_LOG_DEBUG, nullptr), SPATTN_OK);
  EXPECT_TRUE(quiet.lines.empty());
}

TEST(ModelVisualGenSeed, UserThresholdIgnoresFormulaButKeepsIgnoreAndCutoff) {
  auto user = config_file("visualgen_threshold.yaml");  // 5000
  auto model = open_model(spattn_test::wan_mini(), user.get());
  auto p = lookup(model.get(), "transformer", "blocks.1.attn1", kPrefill, 0.5);
  check(p, {1, SPATTN_DISABLED_NOT, 5000.0}, "user threshold");
  EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_USER);
  EXPECT_TRUE(std::isnan(p.target_sparsity));
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_CHECKPOINT);
  check(lookup(model.get(), "transformer", "blocks.1.attn1", kPrefill, 0.8), {0, SPATTN_DISABLED_TIMESTEP, 0.0}, "cut");
  check(lookup(model.get(), "transformer", "blocks.0.attn2", kPrefill, 0.5), {0, SPATTN_DISABLED_IGNORED, 0.0}, "ign");
  // No calibration is needed; but a user threshold never puts skip-softmax on a VAE or text encoder.
  check(lookup(model.get(), "transformer_2", "x", kPrefill, 0.9), {1, SPATTN_DISABLED_NOT, 5000.0}, "no calibration needed");
  check(lookup(model.get(), "vae", "x", kPrefill, 0.5), {0, SPATTN_DISABLED_NOT_TARGET, 0.0}, "vae");
  check(lookup(model.get(), "text_encoder", "x", kPrefill, 0.5), {0, SPATTN_DISABLED_NOT_TARGET, 0.0}, "text encoder");
}

// ---- TensorRT-LLM seed: llm-mini -------------------------------------------

TEST(ModelLlmSeed, PerPhaseCoefficientsAndTargets) {
  auto model = open_model(spattn_test::llm_mini());
  ASSERT_TRUE(model);
  const double prefill = 100.0 * std::exp(5.0 * 0.5);
  const double decode = 0.05 * std::exp(10.0 * 0.3);
  for (const char* component : {static_cast<const char*>(nullptr), ""}) {
    check(lookup(model.get(), component, "model.layers.2.self_attn", kPrefill), {1, SPATTN_DISABLED_NOT, prefill}, "p");
    check(lookup(model.get(), component, "model.layers.2.self_attn", kDecode), {1, SPATTN_DISABLED_NOT, decode}, "d");
    check(lookup(model.get(), component, "model.layers.31.self_attn", kDecode, 0.99), {1, SPATTN_DISABLED_NOT, decode},
          "no cutoff");
    for (const char* ignored : {"model.layers.0.self_attn", "model.layers.1.self_attn"}) {
      check(lookup(model.get(), component, ignored, kPrefill), {0, SPATTN_DISABLED_IGNORED, 0.0}, ignored);
      check(lookup(model.get(), component, ignored, kDecode), {0, SPATTN_DISABLED_IGNORED, 0.0}, ignored);
    }
    check(lookup(model.get(), component, "model.layers.10.self_attn", kPrefill), {1, SPATTN_DISABLED_NOT, prefill},
          "not layers.1");
  }
  auto p = lookup(model.get(), nullptr, "model.layers.5.self_attn", kDecode);
  EXPECT_EQ(p.target_sparsity, 0.3);
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_CHECKPOINT);
  EXPECT_TRUE(std::isnan(p.disabled_until_timestep));
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_NONE);
}

TEST(ModelLlmSeed, UserConfigs) {
  auto threshold = config_file("llm_threshold.yaml");
  auto m1 = open_model(spattn_test::llm_mini(), threshold.get());
  check(lookup(m1.get(), nullptr, "model.layers.4.self_attn", kPrefill), {1, SPATTN_DISABLED_NOT, 1000.0}, "p");
  check(lookup(m1.get(), nullptr, "model.layers.4.self_attn", kDecode), {1, SPATTN_DISABLED_NOT, 500.0}, "d");
  check(lookup(m1.get(), nullptr, "model.layers.0.self_attn", kDecode), {0, SPATTN_DISABLED_IGNORED, 0.0}, "ign");

  auto target = config_file("llm_target.yaml");  // the same targets as the checkpoint, from the user
  auto m2 = open_model(spattn_test::llm_mini(), target.get());
  auto p = lookup(m2.get(), nullptr, "model.layers.4.self_attn", kDecode);
  check(p, {1, SPATTN_DISABLED_NOT, 0.05 * std::exp(10.0 * 0.3)}, "user target");
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_USER);

  auto scalar = parse_config("sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: 0.7\n");
  auto m3 = open_model(spattn_test::llm_mini(), scalar.get());
  check(lookup(m3.get(), nullptr, "x", kPrefill), {1, SPATTN_DISABLED_NOT, 100.0 * std::exp(5.0 * 0.7)}, "p 0.7");
  check(lookup(m3.get(), nullptr, "x", kDecode), {1, SPATTN_DISABLED_NOT, 0.05 * std::exp(10.0 * 0.7)}, "d 0.7");

  auto cutoff = parse_config("sparse_attention_config: {algorithm: skip_softmax, disabled_until_timestep: 0.5}");
  auto m4 = open_model(spattn_test::llm_mini(), cutoff.get());
  check(lookup(m4.get(), nullptr, "x", kPrefill, 0.5), {0, SPATTN_DISABLED_TIMESTEP, 0.0}, "user cutoff");
  check(lookup(m4.get(), nullptr, "x", kPrefill, SPATTN_NO_TIMESTEP),
        {1, SPATTN_DISABLED_NOT, 100.0 * std::exp(5.0 * 0.5)}, "LLM: no timestep");
}

// Issue #11 item 5: llm-mini ignores model.layers.0.self_attn and
// model.layers.1.self_attn; TensorRT-LLM applies them to layer 0 and 1
// whatever name the caller's module has.
TEST(ModelLlmSeed, IgnorePatternsMatchTheLayerIndex) {
  auto model = open_model(spattn_test::llm_mini());
  for (const char* layer : {"layers.0.attention", "model.layers.0.attention", "0", "1", "model.layers.1._orig_mod.self_attn",
                            "decoder.layers.1.attn"}) {
    check(lookup(model.get(), nullptr, layer, kPrefill), {0, SPATTN_DISABLED_IGNORED, 0.0}, layer);
  }
  for (const char* layer : {"layers.10.attention", "2", "model.layers.01x.self_attn"}) {
    check(lookup(model.get(), nullptr, layer, kPrefill), {1, SPATTN_DISABLED_NOT, 100.0 * std::exp(2.5)}, layer);
  }
}

// ---- errors -----------------------------------------------------------------

TEST(ModelErrors, UserTargetOnUncalibratedPlainCheckpointFailsAtOpen) {
  spattn_test::TempDir dir;
  dir.write("config.json", R"J({"architectures": ["LlamaForCausalLM"], "hidden_size": 64})J");
  auto user = config_file("llm_target.yaml");
  std::string message;
  EXPECT_EQ(spattn_test::open_status(dir.path(), &message, user.get()), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("needs a calibration formula"), std::string::npos) << message;
  // A threshold needs no calibration; no user config gives dense attention.
  auto threshold = config_file("llm_threshold.yaml");
  EXPECT_EQ(spattn_test::open_status(dir.path(), nullptr, threshold.get()), SPATTN_OK);
  auto model = open_model(dir.path());
  EXPECT_EQ(lookup(model.get(), "", "x", kPrefill).algorithm, SPATTN_ALGORITHM_NONE);
}

TEST(ModelErrors, UserTargetOnDiffusersModelWithoutAnyFormulaFailsAtOpen) {
  spattn_test::TempDir dir;
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "X"], "transformer_2": ["diffusers", "X"],
    "vae": ["diffusers", "Y"]})J");
  dir.write("transformer/config.json", "{}");
  dir.write("transformer_2/config.json", "{}");
  dir.write("vae/config.json", "{}");
  auto user = config_file("visualgen_target.yaml");
  std::string message;
  EXPECT_EQ(spattn_test::open_status(dir.path(), &message, user.get()), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find(spattn_test::examples_dir() + "/configs/visualgen_target.yaml:7:22: "
                         "attention_config.sparse_attention_config.target_sparsity: the user config asks for target_sparsity, but none of the 2 target components"),
            std::string::npos)
      << message;
}

TEST(ModelErrors, CheckpointTargetWithoutFormulaFailsAtLookup) {
  spattn_test::TempDir dir;
  dir.write("config.json", spattn_test::skip_softmax_config(R"J("target_sparsity": 0.4)J"));
  auto model = open_model(dir.path());
  ASSERT_TRUE(model);
  EXPECT_EQ(lookup_status(model.get(), nullptr, "x", kPrefill), SPATTN_ERR_CALIBRATION_MISSING);
}

TEST(ModelErrors, UnknownComponentListsTheKnownOnes) {
  auto model = open_model(spattn_test::wan_mini());
  std::string message;
  EXPECT_EQ(lookup_status(model.get(), "transformer_3", "x", kPrefill, 0.5, &message), SPATTN_ERR_NOT_FOUND);
  EXPECT_NE(message.find("'transformer_3'"), std::string::npos) << message;
  EXPECT_NE(message.find("'scheduler', 'text_encoder', 'tokenizer', 'transformer', 'transformer_2', 'vae'"),
            std::string::npos)
      << message;
  EXPECT_EQ(lookup_status(model.get(), nullptr, "x", kPrefill), SPATTN_ERR_NOT_FOUND);  // no "" component here
}

TEST(ModelErrors, BadTimestepAndPhase) {
  auto model = open_model(spattn_test::wan_mini());
  std::string message;
  EXPECT_EQ(lookup_status(model.get(), "transformer", "x", kPrefill, std::nan(""), &message),
            SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("timestep"), std::string::npos) << message;
  EXPECT_EQ(lookup_status(model.get(), "transformer", "x", kPrefill, 1.01), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lookup_status(model.get(), "transformer", "x", kPrefill, INFINITY), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lookup_status(model.get(), "transformer", "x", kPrefill, -INFINITY), SPATTN_OK);
  EXPECT_EQ(lookup_status(model.get(), "transformer", "x", static_cast<spattn_phase>(2)), SPATTN_ERR_INVALID_ARGUMENT);
}

TEST(ModelErrors, StructSizeAndNulls) {
  auto model = open_model(spattn_test::wan_mini());
  spattn_layer_params params{};
  params.struct_size = offsetof(spattn_layer_params, vsa_sparsity) - 4;  // shorter than the first version
  params.threshold_scale_factor = 123.0;
  EXPECT_EQ(spattn_model_lookup(model.get(), "transformer", "x", kPrefill, 0.5, &params), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("struct_size"), std::string::npos);
  EXPECT_EQ(params.threshold_scale_factor, 123.0);  // untouched on failure
  params.struct_size = 0;
  EXPECT_EQ(spattn_model_lookup(model.get(), "transformer", "x", kPrefill, 0.5, &params), SPATTN_ERR_INVALID_ARGUMENT);
  params.struct_size = sizeof(params);
  EXPECT_EQ(spattn_model_lookup(nullptr, "transformer", "x", kPrefill, 0.5, &params), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_model_lookup(model.get(), "transformer", nullptr, kPrefill, 0.5, &params), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_model_lookup(model.get(), "transformer", "x", kPrefill, 0.5, nullptr), SPATTN_ERR_INVALID_ARGUMENT);

  spattn_model* out = reinterpret_cast<spattn_model*>(0x1);
  EXPECT_EQ(spattn_model_open(nullptr, nullptr, &out), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(spattn_model_open(spattn_test::wan_mini().c_str(), nullptr, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  char* json = reinterpret_cast<char*>(0x1);
  EXPECT_EQ(spattn_model_to_json(nullptr, &json), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(json, nullptr);
  EXPECT_EQ(spattn_model_to_json(model.get(), nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_model_component_count(nullptr), 0u);
  EXPECT_EQ(spattn_model_component_name(nullptr, 0), nullptr);
  EXPECT_EQ(spattn_model_ignore_count(nullptr, 0), 0u);
  EXPECT_EQ(spattn_model_ignore_pattern(nullptr, 0, 0), nullptr);
  spattn_model_destroy(nullptr);
}

// A caller built before the VSA fields were appended passes the smaller
// struct_size: the lookup fills that much and writes nothing past it.
TEST(ModelErrors, OlderStructSizeIsFilledUpToItsEnd) {
  auto model = open_model(spattn_test::wan_mini());
  spattn_layer_params params;
  std::memset(&params, 0xAB, sizeof params);
  params.struct_size = offsetof(spattn_layer_params, vsa_sparsity);
  ASSERT_EQ(spattn_model_lookup(model.get(), "transformer", "blocks.1.attn1", kPrefill, 0.5, &params), SPATTN_OK)
      << spattn_last_error();
  EXPECT_EQ(params.struct_size, offsetof(spattn_layer_params, vsa_sparsity));
  EXPECT_DOUBLE_EQ(params.threshold_scale_factor, 1000.0 * std::exp(2.5));
  const unsigned char* tail = reinterpret_cast<const unsigned char*>(&params) + offsetof(spattn_layer_params, vsa_sparsity);
  for (size_t i = 0; i < sizeof params - offsetof(spattn_layer_params, vsa_sparsity); ++i) {
    EXPECT_EQ(tail[i], 0xAB) << "byte " << i << " past the caller's struct was written";
  }
}

TEST(ModelErrors, ConfigMayBeDestroyedAfterOpen) {
  auto user = config_file("visualgen_threshold.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  user.reset();
  EXPECT_EQ(lookup(model.get(), "transformer", "b", kPrefill).threshold_scale_factor, 5000.0);
}

// ---- the CUDA-graph phase of a whole component (issue #11 item 14) -----------

TEST(ModelPhaseKey, WholeComponentAtATimestep) {
  auto user = config_file("visualgen_target.yaml");  // cutoff 0.6 for both transformers
  auto model = open_model(spattn_test::wan_mini(), user.get());
  auto key = [&](const char* component, double timestep) {
    spattn_phase_key out = SPATTN_PHASE_KEY_MAX_ENUM;
    EXPECT_EQ(spattn_model_phase_key(model.get(), component, kPrefill, timestep, &out), SPATTN_OK) << spattn_last_error();
    return out;
  };
  for (const char* component : {"transformer", "transformer_2"}) {
    EXPECT_EQ(key(component, 1.0), SPATTN_PHASE_KEY_DENSE);
    EXPECT_EQ(key(component, 0.6), SPATTN_PHASE_KEY_DENSE);
    EXPECT_EQ(key(component, 0.59), SPATTN_PHASE_KEY_SPARSE);
    EXPECT_EQ(key(component, SPATTN_NO_TIMESTEP), SPATTN_PHASE_KEY_SPARSE);
  }
  EXPECT_EQ(key("vae", 0.1), SPATTN_PHASE_KEY_DENSE);
  // The per-layer key of an ignored layer stays dense where the component's turns sparse.
  EXPECT_EQ(lookup(model.get(), "transformer", "blocks.0.attn1", kPrefill, 0.59).phase_key, SPATTN_PHASE_KEY_DENSE);

  spattn_phase_key out = SPATTN_PHASE_KEY_SPARSE;
  EXPECT_EQ(spattn_model_phase_key(model.get(), "nope", kPrefill, 0.5, &out), SPATTN_ERR_NOT_FOUND);
  EXPECT_EQ(spattn_model_phase_key(model.get(), "transformer", kPrefill, 1.5, &out), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_model_phase_key: timestep 1.5"), std::string::npos);
  EXPECT_EQ(spattn_model_phase_key(model.get(), "transformer", static_cast<spattn_phase>(7), 0.5, &out),
            SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_model_phase_key(nullptr, "transformer", kPrefill, 0.5, &out), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_model_phase_key(model.get(), "transformer", kPrefill, 0.5, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, SPATTN_PHASE_KEY_SPARSE);  // untouched on failure
  // An unresolved component reports its error, as a lookup does.
  spattn_test::TempDir dir;
  dir.write("config.json", spattn_test::skip_softmax_config(R"J("target_sparsity": 0.4)J"));
  auto uncalibrated = open_model(dir.path());
  EXPECT_EQ(spattn_model_phase_key(uncalibrated.get(), nullptr, kPrefill, SPATTN_NO_TIMESTEP, &out),
            SPATTN_ERR_CALIBRATION_MISSING);
}

// ---- JSON -------------------------------------------------------------------

TEST(ModelJson, DescribesCalibrationAndResolvedParameters) {
  auto user = config_file("visualgen_target.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  char* text = nullptr;
  ASSERT_EQ(spattn_model_to_json(model.get(), &text), SPATTN_OK);
  std::string json = text;
  spattn_free(text);
  spattn::Value doc = spattn::parse_json(json, "to_json", 1 << 20);
  const spattn::Value* components = doc.find("components");
  ASSERT_NE(components, nullptr);
  ASSERT_EQ(components->items.size(), 6u);
  const spattn::Value& transformer = components->items[3];
  EXPECT_EQ(transformer.find("name")->string, "transformer");
  EXPECT_TRUE(transformer.find("target")->boolean);
  const spattn::Value* calibration = transformer.find("calibration");
  EXPECT_EQ(calibration->find("formula")->find("text")->string, "a * exp(b * target_sparsity)");
  EXPECT_EQ(calibration->find("formula")->find("decode")->find("b")->number, 5.0);
  EXPECT_EQ(calibration->find("target_sparsity")->find("prefill")->number, 0.5);
  EXPECT_EQ(calibration->find("disabled_until_timestep")->number, 0.8);
  EXPECT_EQ(calibration->find("ignore")->items.size(), 2u);
  const spattn::Value* resolved = transformer.find("resolved")->find("prefill");
  EXPECT_DOUBLE_EQ(resolved->find("threshold_scale_factor")->number, 1000.0 * std::exp(2.5));
  EXPECT_EQ(resolved->find("threshold_source")->string, "formula");
  EXPECT_EQ(resolved->find("disabled_until_timestep")->number, 0.6);
  const spattn::Value& encoder = components->items[1];
  EXPECT_EQ(encoder.find("name")->string, "text_encoder");
  EXPECT_FALSE(encoder.find("target")->boolean);
  EXPECT_EQ(encoder.find("config")->kind, spattn::Value::Kind::Null);  // not read
  EXPECT_EQ(encoder.find("calibration")->kind, spattn::Value::Kind::Null);
  EXPECT_EQ(encoder.find("resolved")->find("decode")->find("disabled_reason")->string, "not_target");
}

TEST(ModelJson, NaNIsWrittenAsNullAndOtherGroupsAreListed) {
  spattn_test::TempDir dir;
  dir.write("config.json", R"J({"sparse_attention_config": {"config_groups": {
    "r": {"algorithm": "rocket", "prompt_budget": 2048}, "s": {"algorithm": "skip_softmax", "ignore": ["a"]}}}})J");
  auto model = open_model(dir.path());
  char* text = nullptr;
  ASSERT_EQ(spattn_model_to_json(model.get(), &text), SPATTN_OK);
  spattn::Value doc = spattn::parse_json(text, "to_json", 1 << 20);
  spattn_free(text);
  const spattn::Value& c = doc.find("components")->items[0];
  EXPECT_EQ(c.find("other_groups")->items[0].find("algorithm")->string, "rocket");
  EXPECT_EQ(c.find("resolved")->find("prefill")->find("target_sparsity")->kind, spattn::Value::Kind::Null);
  EXPECT_EQ(c.find("resolved")->find("prefill")->find("disabled_reason")->string, "not_configured");
}

// ---- threads (run under ThreadSanitizer in CI) ------------------------------

TEST(ModelLookupConcurrent, ManyThreadsAgree) {
  auto user = config_file("visualgen_target.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  ASSERT_TRUE(model);
  struct Query {
    const char* component;
    std::string layer;
    spattn_phase phase;
    double timestep;
  };
  std::vector<Query> queries;
  for (const char* component : {"transformer", "transformer_2", "text_encoder"}) {
    for (int block = 0; block < 40; ++block) {
      for (const char* attn : {"attn1", "attn2"}) {
        for (double t : {SPATTN_NO_TIMESTEP, 0.9, 0.6, 0.3}) {
          queries.push_back({component, "blocks." + std::to_string(block) + "." + attn,
                             block % 2 ? kDecode : kPrefill, t});
        }
      }
    }
  }
  struct Answer {
    spattn_status status;
    spattn_layer_params params;
  };
  auto answer = [&](const Query& q) {
    Answer a{};
    a.params.struct_size = sizeof a.params;
    a.status = spattn_model_lookup(model.get(), q.component, q.layer.c_str(), q.phase, q.timestep, &a.params);
    return a;
  };
  std::vector<Answer> expected;
  for (const Query& q : queries) expected.push_back(answer(q));

  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < queries.size(); ++i) {
          size_t k = (i * 7 + size_t(t) * 13 + size_t(round)) % queries.size();
          Answer a = answer(queries[k]);
          bool same = a.status == expected[k].status &&
                      (a.status != SPATTN_OK ||
                       (a.params.enabled == expected[k].params.enabled &&
                        a.params.disabled_reason == expected[k].params.disabled_reason &&
                        a.params.threshold_scale_factor == expected[k].params.threshold_scale_factor &&
                        a.params.phase_key == expected[k].params.phase_key));
          if (!same) ++mismatches[size_t(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(mismatches[size_t(t)], 0) << "thread " << t;
}

// ---- the spattn tool ----------------------------------------------------------

struct ToolRun {
  int exit_code;
  std::string out;  // stdout and stderr together
};

// Runs the tool with `arguments` (shell words), stdin from `stdin_file` if given.
ToolRun run_tool(const std::string& arguments, const std::string& stdin_file = "") {
  std::string tool = std::string(SPATTN_BINARY_DIR) + "/spattn";
  std::string command = "'" + tool + "' " + arguments + (stdin_file.empty() ? "" : " < '" + stdin_file + "'") + " 2>&1";
  ToolRun run{-1, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.out.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// The table row of `component` and `layer` in `out`, split at blanks.
std::vector<std::string> table_row(const std::string& out, const std::string& component, const std::string& layer) {
  size_t start = 0;
  while (start < out.size()) {
    size_t end = std::min(out.find('\n', start), out.size());
    std::vector<std::string> words;
    std::string line = out.substr(start, end - start);
    for (size_t i = 0; i < line.size();) {
      // cells are separated by two or more blanks; a cell may hold one blank ("no (ignored)")
      size_t gap = line.find("  ", i);
      words.push_back(line.substr(i, gap == std::string::npos ? std::string::npos : gap - i));
      if (gap == std::string::npos) break;
      i = line.find_first_not_of(' ', gap);
      if (i == std::string::npos) break;
    }
    if (words.size() >= 2 && words[0] == component && words[1] == layer) return words;
    start = end + 1;
  }
  return {};
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FILE* f = std::fopen((std::string(SPATTN_BINARY_DIR) + "/spattn").c_str(), "rb")) {
      std::fclose(f);
    } else {
      GTEST_SKIP() << "the spattn tool is not built";
    }
  }
  const std::string wan = "'" + spattn_test::wan_mini() + "'";
  const std::string llm = "'" + spattn_test::llm_mini() + "'";
  const std::string configs = spattn_test::examples_dir() + "/configs/";
};

TEST_F(ModelCli, InspectPrintsTheResolvedTable) {
  ToolRun run = run_tool("inspect " + wan);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("config:     (none) the checkpoint's own calibration"), std::string::npos) << run.out;
  // COMPONENT LAYER PHASE ALGORITHM ENABLED THRESHOLD SOURCE TARGET CUTOFF KEY DETAIL
  EXPECT_EQ(table_row(run.out, "transformer", "*"),
            (std::vector<std::string>{"transformer", "*", "prefill", "skip_softmax", "yes", "12182.49396", "formula",
                                      "0.5 (checkpoint)", "0.8 (checkpoint)", "sparse", "-"}))
      << run.out;  // 1000 * exp(2.5)
  // A disabled row shows no threshold and no source (#11 item 15).
  EXPECT_EQ(table_row(run.out, "transformer", "blocks.0.attn1"),
            (std::vector<std::string>{"transformer", "blocks.0.attn1", "prefill", "skip_softmax", "no (ignored)", "-", "-",
                                      "0.5 (checkpoint)", "0.8 (checkpoint)", "dense", "-"}))
      << run.out;
  EXPECT_EQ(table_row(run.out, "transformer_2", "*")[5], "3130") << run.out;  // 8000 * 0.6**2 + 250
  EXPECT_EQ(table_row(run.out, "vae", "*"),
            (std::vector<std::string>{"vae", "*", "prefill", "none", "no (not_target)", "-", "-", "-", "-", "dense", "-"}))
      << run.out;
  // A diffusers checkpoint has no decode phase: no decode rows unless asked for.
  EXPECT_EQ(run.out.find("decode"), std::string::npos) << run.out;
}

TEST_F(ModelCli, InspectLayersPhaseAndTimestep) {
  for (const char* options : {"--phase decode --timestep 0.9", "--phase=decode --timestep=0.9"}) {
    ToolRun run = run_tool("inspect " + wan + " " + options + " transformer.blocks.3.attn1 transformer_2:blocks.39.attn1");
    EXPECT_EQ(run.exit_code, 0) << run.out;
    EXPECT_EQ(table_row(run.out, "transformer", "transformer.blocks.3.attn1")[4], "no (timestep)") << run.out;
    EXPECT_EQ(table_row(run.out, "transformer_2", "blocks.39.attn1")[4], "no (ignored)") << run.out;
    EXPECT_EQ(run.out.find("prefill  "), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("text_encoder"), std::string::npos) << run.out;  // full names pick their component
    // The whole-component graph key at 0.9: transformer (cutoff 0.8) dense, transformer_2 (none) sparse.
    EXPECT_NE(run.out.find("graph key:  transformer dense, transformer_2 sparse"), std::string::npos) << run.out;
  }
}

TEST_F(ModelCli, RowErrorsMakeTheExitStatusOne) {
  spattn_test::TempDir dir;
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "T"], "transformer_2": ["diffusers", "T"]})J");
  dir.write("transformer/config.json", spattn_test::skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "a": 100})J"));
  dir.write("transformer_2/config.json", "{}");
  ToolRun run = run_tool("inspect '" + dir.path() + "' --config '" + configs + "visualgen_target.yaml'");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_EQ(table_row(run.out, "transformer_2", "*")[4], "error") << run.out;
  EXPECT_NE(run.out.find("errors:\n  transformer_2: SPATTN_ERR_CALIBRATION_MISSING: "), std::string::npos) << run.out;
  EXPECT_EQ(table_row(run.out, "transformer", "*")[5], "50") << run.out;  // still printed: 100 * 0.5
}

TEST_F(ModelCli, ConfigFromStdin) {
  ToolRun run = run_tool("inspect " + llm + " --config - model.layers.4.self_attn", configs + "llm_threshold.yaml");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("config:     <stdin> (algorithm skip_softmax)"), std::string::npos) << run.out;
  EXPECT_EQ(table_row(run.out, "-", "model.layers.4.self_attn")[5], "1000") << run.out;
}

TEST_F(ModelCli, LayerIndexNamesAndSnapshots) {
  ToolRun run = run_tool("inspect " + llm + " --phase prefill 0 layers.1.attention 2");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(table_row(run.out, "-", "0")[4], "no (ignored)") << run.out;
  EXPECT_EQ(table_row(run.out, "-", "layers.1.attention")[4], "no (ignored)") << run.out;
  EXPECT_EQ(table_row(run.out, "-", "2")[4], "yes") << run.out;
  // A Hugging Face cache snapshot whose files are symlinks into blobs/.
  spattn_test::TempDir cache;
  cache.write("models--org--llm/blobs/4f2a", spattn_test::skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "a": 100}, "target_sparsity": 0.25)J"));
  cache.mkdir("models--org--llm/snapshots/0123");
  cache.symlink("../../blobs/4f2a", "models--org--llm/snapshots/0123/config.json");
  ToolRun snapshot = run_tool("inspect '" + cache / "models--org--llm/snapshots/0123" + "' --phase=prefill");
  EXPECT_EQ(snapshot.exit_code, 0) << snapshot.out;
  EXPECT_EQ(table_row(snapshot.out, "-", "*")[5], "25") << snapshot.out;
}

TEST_F(ModelCli, OtherAlgorithmsPrintTheirParameters) {
  spattn_test::TempDir dir;
  dir.write("rocket.yaml", "sparse_attention_config: {algorithm: rocket, prompt_budget: 1024}\n");
  dir.write("dsa.yaml", "sparse_attention_config: {algorithm: dsa, index_topk: 2048}\n");
  ToolRun rocket = run_tool("inspect " + llm + " --config '" + dir / "rocket.yaml" + "'");
  EXPECT_EQ(rocket.exit_code, 0) << rocket.out;
  EXPECT_NE(rocket.out.find("parameters: window_size 32, kernel_size 63, topr 128, topk 64, prompt_budget 1024, "
                            "page_size 4, kt_cache_dtype float8_e5m2"),
            std::string::npos)
      << rocket.out;
  EXPECT_EQ(table_row(rocket.out, "-", "*")[4], "-") << rocket.out;  // skip-softmax's columns do not apply
  ToolRun dsa = run_tool("inspect " + llm + " --config '" + dir / "dsa.yaml" + "'");
  EXPECT_NE(dsa.out.find("index_topk 2048"), std::string::npos) << dsa.out;
}

TEST_F(ModelCli, VsaRows) {
  spattn_test::TempDir dir;
  dir.write("vsa.yaml", "attention_config:\n  backend: CUTEDSL\n  sparse_attention_config: {algorithm: vsa, vsa_sparsity: 0.8, "
                        "disabled_until_timestep: 0.9}\n");
  ToolRun run = run_tool("inspect " + wan + " --config '" + dir / "vsa.yaml" + "' --timestep 0.5");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(table_row(run.out, "transformer", "*"),
            (std::vector<std::string>{"transformer", "*", "prefill", "vsa", "yes", "-", "-", "-", "0.9 (user)", "sparse",
                                      "vsa_sparsity 0.8, cube 4x4x4"}))
      << run.out;
}

// One vocabulary: the --json rows carry the fields of spattn_layer_params
// under the names spattn_model_to_json gives them, with the same words.
TEST_F(ModelCli, InspectJsonUsesTheModelJsonNames) {
  ToolRun run = run_tool("inspect " + llm + " --json model.layers.0.self_attn model.layers.9.self_attn");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  spattn::Value doc = spattn::parse_json(run.out, "stdout", 1 << 20);
  const spattn::Value& rows = *doc.find("rows");
  ASSERT_EQ(rows.items.size(), 4u);
  const spattn::Value& resolved = *doc.find("model")->find("components")->items[0].find("resolved")->find("prefill");
  std::vector<std::string> model_keys, row_keys;
  for (const auto& member : resolved.members) model_keys.push_back(member.first);
  for (const auto& member : rows.items[0].members) {
    if (member.first != "component" && member.first != "layer" && member.first != "phase") row_keys.push_back(member.first);
  }
  EXPECT_EQ(row_keys, model_keys);
  EXPECT_EQ(rows.items[0].find("disabled_reason")->string, "ignored");
  EXPECT_EQ(rows.items[2].find("disabled_reason")->string, "not");
  EXPECT_EQ(rows.items[2].find("threshold_source")->string, "formula");
  EXPECT_EQ(rows.items[2].find("phase_key")->string, "sparse");
  EXPECT_EQ(rows.items[1].find("phase")->string, "decode");
  const spattn::Value& keys = *doc.find("graph_keys");
  ASSERT_EQ(keys.items.size(), 2u);
  EXPECT_EQ(keys.items[1].find("phase_key")->string, "sparse");
}

TEST_F(ModelCli, Validate) {
  ToolRun ok = run_tool("validate '" + configs + "visualgen_target.yaml'");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  spattn_config* c = nullptr;
  ASSERT_EQ(spattn_config_parse(ok.out.data(), ok.out.size(), SPATTN_FORMAT_JSON, &c), SPATTN_OK) << ok.out;
  char* canonical = nullptr;
  ASSERT_EQ(spattn_config_to_json(c, &canonical), SPATTN_OK);
  EXPECT_EQ(ok.out, std::string(canonical) + "\n");
  spattn_free(canonical);
  spattn_config_destroy(c);
  ToolRun from_stdin = run_tool("validate -", configs + "llm_target.json");
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.out;
  EXPECT_NE(from_stdin.out.find("\"decode\": 0.3"), std::string::npos) << from_stdin.out;
  spattn_test::TempDir dir;
  dir.write("bad.yaml", "attention_config:\n  backend: VANILLA\n  sparse_attention_config: {algorithm: skip_softmax}\n");
  ToolRun bad = run_tool("validate '" + dir / "bad.yaml" + "'");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("spattn: SPATTN_ERR_OUT_OF_RANGE: " + dir / "bad.yaml" + ":2:12: attention_config.backend: "),
            std::string::npos)
      << bad.out;
}

TEST_F(ModelCli, BadUsageExitsTwo) {
  for (const char* arguments : {"", "inspect", "inspect --phase", "frobnicate", "inspect x --phase both",
                                "inspect x --timestep abc", "inspect x --bogus", "inspect x --timestep -0.5",
                                "inspect x --timestep=1.5", "inspect x --timestep nan", "inspect x --json=1",
                                "validate", "validate a b"}) {
    ToolRun run = run_tool(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.out;
    EXPECT_NE(run.out.find("usage:"), std::string::npos) << run.out;
  }
  EXPECT_NE(run_tool("inspect x --timestep -0.5").out.find("is not a number in [0, 1]"), std::string::npos);
}

TEST_F(ModelCli, LibraryErrorsExitOne) {
  ToolRun missing = run_tool("inspect /nonexistent/checkpoint");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_NE(missing.out.find("spattn: SPATTN_ERR_NOT_FOUND: "), std::string::npos) << missing.out;
  ToolRun component = run_tool("inspect " + wan + " nope:blocks.0");
  EXPECT_EQ(component.exit_code, 1) << component.out;
  EXPECT_NE(component.out.find("SPATTN_ERR_NOT_FOUND"), std::string::npos) << component.out;
}

TEST_F(ModelCli, VersionAndHelp) {
  for (const char* command : {"version", "--version"}) {
    ToolRun version = run_tool(command);
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, std::string("spattn ") + spattn_version_string() + "\n");
  }
  ToolRun help = run_tool("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("component:layer"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("spattn validate CONFIG|-"), std::string::npos) << help.out;
}

}  // namespace
