// The model C API on the shipped sample checkpoints (the two seed examples):
// hand-computed resolution tables, argument errors, JSON, threads, and the
// `spattn inspect` tool.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
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

TEST(ModelVisualGenSeed, UncalibratedComponentsAreDenseWithoutUserConfig) {
  auto model = open_model(spattn_test::wan_mini());
  for (const char* component : {"text_encoder", "vae"}) {
    auto p = lookup(model.get(), component, "encoder.block.0.layer.0.SelfAttention", kPrefill, 0.5);
    check(p, {0, SPATTN_DISABLED_NOT_CONFIGURED, 0.0}, component);
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
  auto user = config_file("visualgen_target.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  ASSERT_TRUE(model);  // transformer and transformer_2 can map it
  std::string message;
  EXPECT_EQ(lookup_status(model.get(), "text_encoder", "x", kPrefill, 0.5, &message), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find("text_encoder/config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("target_sparsity 0.5 from the user config"), std::string::npos) << message;
  EXPECT_EQ(lookup_status(model.get(), "vae", "x", kDecode), SPATTN_ERR_CALIBRATION_MISSING);
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
  bool transformer_line = false;
  for (const auto& line : log.lines) {
    if (line.first == SPATTN_LOG_INFO) ++info;
    if (line.first == SPATTN_LOG_WARNING) {
      ++warnings;
      EXPECT_TRUE(line.second.find("text_encoder") != std::string::npos || line.second.find("vae") != std::string::npos)
          << line.second;
    }
    // target 0.5 through a * exp(b * target_sparsity), a=1000, b=5
    if (line.second.find("component 'transformer': prefill threshold_scale_factor 12182.49") != std::string::npos) {
      transformer_line = true;
    }
  }
  EXPECT_EQ(info, int(spattn_model_component_count(model.get())));
  EXPECT_EQ(warnings, 4) << "text_encoder and vae, each in both phases";
  EXPECT_TRUE(transformer_line);

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
  check(lookup(model.get(), "text_encoder", "x", kPrefill, 0.9), {1, SPATTN_DISABLED_NOT, 5000.0}, "no calibration needed");
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
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "X"], "vae": ["diffusers", "Y"]})J");
  dir.write("transformer/config.json", "{}");
  dir.write("vae/config.json", "{}");
  auto user = config_file("visualgen_target.yaml");
  std::string message;
  EXPECT_EQ(spattn_test::open_status(dir.path(), &message, user.get()), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find("none of the 2 components"), std::string::npos) << message;
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
  EXPECT_NE(message.find("'text_encoder', 'transformer', 'transformer_2', 'vae'"), std::string::npos) << message;
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
  params.struct_size = sizeof(params) - 4;
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

TEST(ModelErrors, ConfigMayBeDestroyedAfterOpen) {
  auto user = config_file("visualgen_threshold.yaml");
  auto model = open_model(spattn_test::wan_mini(), user.get());
  user.reset();
  EXPECT_EQ(lookup(model.get(), "transformer", "b", kPrefill).threshold_scale_factor, 5000.0);
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
  ASSERT_EQ(components->items.size(), 4u);
  const spattn::Value& transformer = components->items[1];
  EXPECT_EQ(transformer.find("name")->string, "transformer");
  const spattn::Value* calibration = transformer.find("calibration");
  EXPECT_EQ(calibration->find("formula")->string, "a * exp(b * target_sparsity)");
  EXPECT_EQ(calibration->find("coefficients")->find("decode")->find("b")->number, 5.0);
  EXPECT_EQ(calibration->find("target_sparsity")->find("prefill")->number, 0.5);
  EXPECT_EQ(calibration->find("disabled_until_timestep")->number, 0.8);
  EXPECT_EQ(calibration->find("ignore")->items.size(), 2u);
  const spattn::Value* resolved = transformer.find("resolved")->find("prefill");
  EXPECT_DOUBLE_EQ(resolved->find("threshold_scale_factor")->number, 1000.0 * std::exp(2.5));
  EXPECT_EQ(resolved->find("threshold_source")->string, "formula");
  EXPECT_EQ(resolved->find("disabled_until_timestep")->number, 0.6);
  const spattn::Value& encoder = components->items[0];
  EXPECT_EQ(encoder.find("calibration")->kind, spattn::Value::Kind::Null);
  EXPECT_EQ(encoder.find("resolved")->find("decode")->find("error")->find("status")->string,
            "SPATTN_ERR_CALIBRATION_MISSING");
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

ToolRun run_tool(const std::string& arguments) {
  std::string tool = std::string(SPATTN_BINARY_DIR) + "/spattn";
  std::string command = "'" + tool + "' " + arguments + " 2>&1";
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
  EXPECT_NE(run.out.find("12182.49396"), std::string::npos) << run.out;  // 1000 * exp(2.5)
  EXPECT_NE(run.out.find("blocks.0.attn1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("no (ignored)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("3130"), std::string::npos) << run.out;
}

TEST_F(ModelCli, InspectLayersPhaseAndTimestep) {
  ToolRun run = run_tool("inspect " + wan + " --phase decode --timestep 0.9 transformer.blocks.3.attn1 transformer_2:blocks.39.attn1");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("no (timestep)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("no (ignored)"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("prefill  "), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("text_encoder"), std::string::npos) << run.out;  // full names pick their component
}

TEST_F(ModelCli, InspectWithConfigShowsPerComponentErrors) {
  ToolRun run = run_tool("inspect " + wan + " --config '" + configs + "visualgen_target.yaml'");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("SPATTN_ERR_CALIBRATION_MISSING"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("0.5 (user)"), std::string::npos) << run.out;
}

TEST_F(ModelCli, InspectJsonParses) {
  ToolRun run = run_tool("inspect " + llm + " --json model.layers.0.self_attn model.layers.9.self_attn");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  spattn::Value doc = spattn::parse_json(run.out, "stdout", 1 << 20);
  EXPECT_EQ(doc.find("rows")->items.size(), 4u);
  EXPECT_NE(doc.find("model")->find("components"), nullptr);
  EXPECT_EQ(doc.find("rows")->items[0].find("status")->string, "no (ignored)");
}

TEST_F(ModelCli, BadUsageExitsTwo) {
  for (const char* arguments : {"", "inspect", "inspect --phase", "frobnicate", "inspect x --phase both",
                                "inspect x --timestep abc", "inspect x --bogus"}) {
    ToolRun run = run_tool(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.out;
    EXPECT_NE(run.out.find("usage:"), std::string::npos) << run.out;
  }
}

TEST_F(ModelCli, LibraryErrorsExitOne) {
  ToolRun missing = run_tool("inspect /nonexistent/checkpoint");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_NE(missing.out.find("spattn: SPATTN_ERR_NOT_FOUND: "), std::string::npos) << missing.out;
  ToolRun timestep = run_tool("inspect " + wan + " --timestep 2");
  EXPECT_EQ(timestep.exit_code, 1) << timestep.out;
  EXPECT_NE(timestep.out.find("SPATTN_ERR_INVALID_ARGUMENT"), std::string::npos) << timestep.out;
  ToolRun component = run_tool("inspect " + wan + " nope:blocks.0");
  EXPECT_EQ(component.exit_code, 1) << component.out;
  EXPECT_NE(component.out.find("SPATTN_ERR_NOT_FOUND"), std::string::npos) << component.out;
}

TEST_F(ModelCli, VersionAndHelp) {
  ToolRun version = run_tool("version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("spattn ") + spattn_version_string() + "\n");
  ToolRun help = run_tool("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("component:layer"), std::string::npos) << help.out;
}

}  // namespace
