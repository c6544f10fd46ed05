// Checkpoints as Model Optimizer exports them and as users have them on
// disk (issue #11 items 1-4, 7, 8): Hugging Face cache snapshots, Model
// Optimizer's export layouts, tolerant reading of unknown keys, calibration
// checked only where it is used, zero thresholds, and components that are
// not sparse-attention targets. Expected thresholds are computed by hand
// from the formulas written here.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_checkpoint_support.hpp"

namespace {

using spattn_test::LogCapture;
using spattn_test::lookup;
using spattn_test::lookup_status;
using spattn_test::open_model;
using spattn_test::open_status;
using spattn_test::parse_config;
using spattn_test::skip_softmax_config;
using spattn_test::TempDir;

const spattn_phase kPrefill = SPATTN_PHASE_PREFILL;
const spattn_phase kDecode = SPATTN_PHASE_DECODE;

// A plain (LLM) checkpoint whose config.json is `text`.
struct Plain {
  explicit Plain(const std::string& text) { dir.write("config.json", text); }
  TempDir dir;
};

const char* const kCalibrated =
    R"J("threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "coefficients": {"a": 1000.0, "b": 5.0}},
        "target_sparsity": 0.5)J";

// ---- item 1: Hugging Face cache snapshots ------------------------------------

// <cache>/models--org--name/{blobs/<hash>, snapshots/<rev>/<file> -> ../../blobs/<hash>}
struct Snapshot {
  Snapshot() { cache.mkdir(repo + "/snapshots/rev1"); }
  std::string snapshot() const { return cache / (repo + "/snapshots/rev1"); }
  // A file of the snapshot, symlinked to its blob as huggingface_hub does.
  void add(const std::string& relative, const std::string& hash, const std::string& text) const {
    cache.write(repo + "/blobs/" + hash, text);
    std::string up = "../../";
    for (char c : relative) up += c == '/' ? "../" : "";
    if (relative.find('/') != std::string::npos) cache.mkdir(repo + "/snapshots/rev1/" + relative.substr(0, relative.rfind('/')));
    cache.symlink(up + "blobs/" + hash, repo + "/snapshots/rev1/" + relative);
  }
  TempDir cache;
  std::string repo = "models--org--name";
};

TEST(CheckpointSnapshot, PlainSnapshotOpens) {
  Snapshot hf;
  hf.add("config.json", "0a1b2c", skip_softmax_config(kCalibrated));
  hf.cache.write(hf.repo + "/refs/main", "rev1");
  auto model = open_model(hf.snapshot());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "model.layers.3.self_attn", kPrefill).threshold_scale_factor,
                   1000.0 * std::exp(2.5));
}

TEST(CheckpointSnapshot, DiffusersSnapshotOpens) {
  Snapshot hf;
  hf.add("model_index.json", "idx", R"J({"transformer": ["diffusers", "T"], "vae": ["diffusers", "V"]})J");
  hf.add("transformer/config.json", "t1", skip_softmax_config(kCalibrated));
  hf.add("vae/config.json", "v1", "{}");
  auto model = open_model(hf.snapshot());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(lookup(model.get(), "transformer", "blocks.1.attn1", kPrefill, 0.5).threshold_scale_factor,
                   1000.0 * std::exp(2.5));
}

TEST(CheckpointSnapshot, OtherEscapesStayRefused) {
  {
    Snapshot hf;  // a link leaving the repository
    hf.cache.mkdir(hf.repo + "/blobs");
    hf.cache.write("outside/secret.json", "{}");
    hf.cache.symlink("../../../outside/secret.json", hf.repo + "/snapshots/rev1/config.json");
    std::string message;
    EXPECT_EQ(open_status(hf.snapshot(), &message), SPATTN_ERR_UNSAFE_PATH);
    EXPECT_NE(message.find("outside the checkpoint folder"), std::string::npos) << message;
    EXPECT_NE(message.find("and its snapshot's blobs"), std::string::npos) << message;
  }
  {
    Snapshot hf;  // a link into the repository, but not into blobs/
    hf.cache.write(hf.repo + "/refs/config.json", "{}");
    hf.cache.symlink("../../refs/config.json", hf.repo + "/snapshots/rev1/config.json");
    EXPECT_EQ(open_status(hf.snapshot()), SPATTN_ERR_UNSAFE_PATH);
  }
  {
    Snapshot hf;  // blobs/ itself a symlink elsewhere: no second root
    hf.cache.write("elsewhere/abc", skip_softmax_config(""));
    hf.cache.symlink(hf.cache / "elsewhere", hf.repo + "/blobs");
    hf.cache.symlink("../../blobs/abc", hf.repo + "/snapshots/rev1/config.json");
    EXPECT_EQ(open_status(hf.snapshot()), SPATTN_ERR_UNSAFE_PATH);
  }
  {
    TempDir dir;  // a sibling blobs/ of a folder that is no snapshot
    dir.write("blobs/abc", skip_softmax_config(""));
    dir.mkdir("model");
    dir.symlink("../blobs/abc", "model/config.json");
    EXPECT_EQ(open_status(dir / "model"), SPATTN_ERR_UNSAFE_PATH);
  }
}

// ---- item 2: Model Optimizer's groups and export layouts ---------------------

TEST(CheckpointModelOpt, SoftmaxSkipGroupKeepsItsIgnoreList) {
  for (const char* algorithm : {R"J("algorithm": "softmax_skip")J", R"J("sparse_algo": "softmax_skip")J",
                                R"J("sparse_algo": "skip_softmax")J"}) {
    Plain plain(std::string(R"J({"sparse_attention_config": {"config_groups": {"group_0": {)J") + algorithm + ", " +
                kCalibrated + R"J(, "ignore": ["model.layers.0.self_attn"]}}}})J");
    auto model = open_model(plain.dir.path());
    ASSERT_TRUE(model) << algorithm;
    auto ignored = lookup(model.get(), nullptr, "model.layers.0.self_attn", kPrefill);
    EXPECT_EQ(ignored.disabled_reason, SPATTN_DISABLED_IGNORED) << algorithm;
    EXPECT_EQ(lookup(model.get(), nullptr, "model.layers.1.self_attn", kPrefill).enabled, 1) << algorithm;
  }
}

// The layout of Model Optimizer's export_sparse_attention_config (its
// docstring's example): the formula beside config_groups, a group with
// sparse_algo and targets, a producer, and no target_sparsity.
TEST(CheckpointModelOpt, OlderExportLayout) {
  Plain plain(R"J({"architectures": ["LlamaForCausalLM"], "sparse_attention_config": {
    "config_groups": {"group_0": {"sparse_algo": "softmax_skip", "targets": ["LlamaAttention"]}},
    "threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)",
                               "prefill": {"a": 7.93, "b": 8.61}, "decode": {"a": 0.12, "b": 9.85}},
    "producer": {"name": "modelopt", "version": "0.37.0"}}})J");
  LogCapture log;
  auto user = parse_config("sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: {prefill: 0.5, decode: 0.3}\n");
  auto model = open_model(plain.dir.path(), user.get());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kPrefill).threshold_scale_factor, 7.93 * std::exp(8.61 * 0.5));
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kDecode).threshold_scale_factor, 0.12 * std::exp(9.85 * 0.3));
  EXPECT_TRUE(log.lines().empty()) << log.all();  // every key there is known
  // Without a user config nothing is asked for: dense, not an error.
  auto defaults = open_model(plain.dir.path());
  EXPECT_EQ(lookup(defaults.get(), nullptr, "x", kPrefill).disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
}

// Model Optimizer's build_sparse_attention_config (its tests
// test_target_sparsity_covers_only_fitted_phases and
// test_preserves_nm_groups_and_replaces_old_skip_group): a prefill-only
// calibration, and an N:M group kept beside the skip-softmax one.
TEST(CheckpointModelOpt, CurrentExportWithOneFittedPhase) {
  Plain plain(R"J({"sparse_attention_config": {"config_groups": {
    "group_0": {"algorithm": "skip_softmax", "targets": ["LlamaAttention"],
                "threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "prefill": {"a": 7.9, "b": 8.6}},
                "target_sparsity": {"prefill": 0.4}},
    "group_1": {"algorithm": "sparse_softmax", "sparsity_n": 2, "sparsity_m": 4}},
    "producer": {"name": "modelopt", "version": "0.46.0"}}})J");
  LogCapture log;
  auto model = open_model(plain.dir.path());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kPrefill).threshold_scale_factor, 7.9 * std::exp(8.6 * 0.4));
  auto decode = lookup(model.get(), nullptr, "x", kDecode);
  EXPECT_EQ(decode.enabled, 0);
  EXPECT_EQ(decode.disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);  // no decode target: off
  EXPECT_TRUE(log.lines().empty()) << log.all();
  // A user target for both phases needs the decode coefficients that are not there.
  auto user = parse_config("sparse_attention_config: {algorithm: skip_softmax, target_sparsity: 0.5}\n");
  std::string message;
  EXPECT_EQ(open_status(plain.dir.path(), &message, user.get()), SPATTN_ERR_CALIBRATION_MISSING);
  EXPECT_NE(message.find("decode: target_sparsity 0.5 from the user config"), std::string::npos) << message;
  EXPECT_NE(message.find("no coefficients for decode"), std::string::npos) << message;
}

// TensorRT-LLM's test_other_sparse_attention_groups_are_ignored.
TEST(CheckpointModelOpt, OtherAlgorithmGroupsAreIgnored) {
  Plain plain(R"J({"sparse_attention_config": {"config_groups": {
    "group_0": {"algorithm": "skip_softmax", "threshold_scale_factor": {"formula": "exp(log_a + b * target_sparsity)",
                "coefficients": {"log_a": -10.0, "b": 2.0}}},
    "group_1": {"algorithm": "vsa", "target_sparsity": 0.8}}}})J");
  auto user = parse_config("algorithm: skip_softmax\ntarget_sparsity: 0.5\n");
  auto model = open_model(plain.dir.path(), user.get());
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kPrefill).threshold_scale_factor, std::exp(-10.0 + 2.0 * 0.5));
}

// ---- item 3: the other ways calibration is written ----------------------------

TEST(CheckpointLayouts, InlineCoefficients) {
  Plain plain(skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "a": 1000.0, "b": 5.0}, "target_sparsity": 0.5)J"));
  auto model = open_model(plain.dir.path());
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kDecode).threshold_scale_factor, 1000.0 * std::exp(2.5));
}

TEST(CheckpointLayouts, CoefficientsBesidePhaseBlocks) {
  // prefill has its block; decode falls back to `coefficients`.
  Plain plain(skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "coefficients": {"a": 2.0, "b": 1.0},
          "prefill": {"a": 100.0, "b": 5.0}}, "target_sparsity": 0.5)J"));
  auto model = open_model(plain.dir.path());
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kPrefill).threshold_scale_factor, 100.0 * std::exp(2.5));
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "x", kDecode).threshold_scale_factor, 2.0 * std::exp(0.5));
}

TEST(CheckpointLayouts, OuterIgnoreListAppliesWithTheGroups) {
  Plain plain(R"J({"sparse_attention_config": {"ignore": ["model.layers.0.*", "model.layers.9.self_attn"],
    "config_groups": {"g": {"algorithm": "skip_softmax", "threshold_scale_factor": {"formula": "a * target_sparsity",
                            "a": 10}, "target_sparsity": 0.5, "ignore": ["model.layers.9.self_attn", "model.layers.5.*"]}}}})J");
  auto model = open_model(plain.dir.path());
  ASSERT_EQ(spattn_model_ignore_count(model.get(), 0), 3u);  // outer first, then the group's new ones
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 0, 0), "model.layers.0.*");
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 0, 1), "model.layers.9.self_attn");
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 0, 2), "model.layers.5.*");
  for (const char* layer : {"model.layers.0.self_attn", "model.layers.5.self_attn", "model.layers.9.self_attn"}) {
    EXPECT_EQ(lookup(model.get(), nullptr, layer, kPrefill).disabled_reason, SPATTN_DISABLED_IGNORED) << layer;
  }
  EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "model.layers.1.self_attn", kPrefill).threshold_scale_factor, 5.0);
}

TEST(CheckpointLayouts, FlatGroupForm) {
  for (const char* algorithm : {R"J("algorithm": "skip_softmax", )J", R"J("sparse_algo": "softmax_skip", )J", ""}) {
    Plain plain(std::string(R"J({"sparse_attention_config": {)J") + algorithm + kCalibrated +
                R"J(, "disabled_until_timestep": 0.8, "ignore": ["blocks.0.*"], "producer": {"name": "modelopt"}}})J");
    auto model = open_model(plain.dir.path());
    ASSERT_TRUE(model) << algorithm;
    EXPECT_DOUBLE_EQ(lookup(model.get(), nullptr, "blocks.1.attn1", kPrefill).threshold_scale_factor, 1000.0 * std::exp(2.5));
    EXPECT_EQ(lookup(model.get(), nullptr, "blocks.1.attn1", kPrefill, 0.9).disabled_reason, SPATTN_DISABLED_TIMESTEP);
    EXPECT_EQ(lookup(model.get(), nullptr, "blocks.0.attn1", kPrefill).disabled_reason, SPATTN_DISABLED_IGNORED);
  }
  Plain rocket(R"J({"sparse_attention_config": {"algorithm": "rocket", "prompt_budget": 2048}})J");
  LogCapture log;
  auto model = open_model(rocket.dir.path());
  EXPECT_EQ(lookup(model.get(), nullptr, "x", kPrefill).algorithm, SPATTN_ALGORITHM_NONE);
  EXPECT_TRUE(log.lines().empty()) << log.all();  // another algorithm's fields are not ours to judge
}

TEST(CheckpointLayouts, UnknownKeysAreLoggedNeverSilent) {
  Plain misspelt(R"J({"sparse_attention_config": {"config_group": {"group_0": {"algorithm": "skip_softmax"}}}})J");
  LogCapture log;
  auto model = open_model(misspelt.dir.path());
  ASSERT_TRUE(model);
  EXPECT_TRUE(log.has({misspelt.dir / "config.json", "sparse_attention_config.config_group: unknown key 'config_group'",
                       "known keys here: producer, ignore, config_groups"}))
      << log.all();
  // ... and a user target then has nothing to map it.
  auto user = parse_config("algorithm: skip_softmax\ntarget_sparsity: 0.5\n");
  EXPECT_EQ(open_status(misspelt.dir.path(), nullptr, user.get()), SPATTN_ERR_CALIBRATION_MISSING);

  Plain extra(skip_softmax_config(std::string(kCalibrated) + R"J(, "threshold": 3, "initial_disabled_steps": 4)J"));
  auto with_extra = open_model(extra.dir.path());
  ASSERT_TRUE(with_extra);
  EXPECT_TRUE(log.has({"config_groups.group_0.threshold: unknown key 'threshold' ignored"})) << log.all();
  EXPECT_TRUE(log.has({"group_0.initial_disabled_steps", "a step count, 4", "not applied"})) << log.all();

  Plain no_algorithm(R"J({"sparse_attention_config": {"config_groups": {"g": {"ignore": []}}}})J");
  EXPECT_TRUE(open_model(no_algorithm.dir.path()));
  EXPECT_TRUE(log.has({"config_groups.g: group has neither 'algorithm' nor 'sparse_algo'; not read"})) << log.all();
}

// ---- item 4: a user threshold needs no calibration ---------------------------

TEST(CheckpointUse, UserThresholdIsNotBlockedByAnUnusedCalibration) {
  const std::string broken[] = {
      // a formula that fails at the checkpoint's target
      skip_softmax_config(R"J("threshold_scale_factor": {"formula": "a * log(target_sparsity - 1)", "a": 1}, "target_sparsity": 0.5)J"),
      // no decode coefficients for the checkpoint's decode target
      skip_softmax_config(R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "prefill": {"a": 1}},
                              "target_sparsity": {"prefill": 0.5, "decode": 0.3})J"),
      // a negative default target
      skip_softmax_config(std::string(R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "a": 1}, "target_sparsity": -0.5)J")),
      // a formula that does not parse
      skip_softmax_config(R"J("threshold_scale_factor": {"formula": "a *", "a": 1}, "target_sparsity": 0.5)J"),
  };
  auto user = parse_config("sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: {prefill: 1000, decode: 500}\n");
  for (const std::string& config : broken) {
    Plain plain(config);
    // Used without a user config, the defect is an error, at open or at lookup ...
    spattn_model* defaults = nullptr;
    if (spattn_model_open(plain.dir.path().c_str(), nullptr, &defaults) == SPATTN_OK) {
      EXPECT_EQ(lookup_status(defaults, nullptr, "x", kDecode), SPATTN_ERR_CALIBRATION_MISSING) << config;
      spattn_model_destroy(defaults);
    }
    // ... but the user's threshold does not use it: logged, not raised.
    LogCapture log;
    auto model = open_model(plain.dir.path(), user.get());
    ASSERT_TRUE(model) << config;
    auto p = lookup(model.get(), nullptr, "x", kDecode);
    EXPECT_EQ(p.threshold_scale_factor, 500.0);
    EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_USER);
    if (config.find("prefill\": {\"a\"") == std::string::npos) {  // a missing block is no defect
      EXPECT_TRUE(log.has({plain.dir / "config.json", "(not used: "})) << config << "\n" << log.all();
    }
  }
}

// ---- item 7: a threshold of 0 is off -----------------------------------------

TEST(CheckpointUse, ZeroOrNegativeThresholdIsOffForThatPhase) {
  Plain plain(skip_softmax_config(
      R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "prefill": {"a": 10}, "decode": {"a": -10}},
          "target_sparsity": {"prefill": 0.0, "decode": 0.5})J"));
  auto model = open_model(plain.dir.path());
  ASSERT_TRUE(model);
  for (spattn_phase phase : {kPrefill, kDecode}) {
    auto p = lookup(model.get(), nullptr, "x", phase);  // 10 * 0 = 0; -10 * 0.5 = -5
    EXPECT_EQ(p.enabled, 0);
    EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_ZERO_THRESHOLD);
    EXPECT_EQ(p.threshold_scale_factor, 0.0);
    EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_FORMULA);
    EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_DENSE);
  }
  // The user's target 0 through the same formula, and a user threshold of 0.
  auto user_target = parse_config("algorithm: skip_softmax\ntarget_sparsity: {prefill: 0.0, decode: 0.0}\n");
  auto model2 = open_model(plain.dir.path(), user_target.get());
  ASSERT_TRUE(model2);
  EXPECT_EQ(lookup(model2.get(), nullptr, "x", kPrefill).disabled_reason, SPATTN_DISABLED_ZERO_THRESHOLD);
  auto user_zero = parse_config("algorithm: skip_softmax\nthreshold_scale_factor: {prefill: 0, decode: 7}\n");
  auto model3 = open_model(plain.dir.path(), user_zero.get());
  auto off = lookup(model3.get(), nullptr, "x", kPrefill);
  EXPECT_EQ(off.disabled_reason, SPATTN_DISABLED_ZERO_THRESHOLD);
  EXPECT_EQ(off.threshold_source, SPATTN_SOURCE_USER);
  EXPECT_EQ(lookup(model3.get(), nullptr, "x", kDecode).threshold_scale_factor, 7.0);
}

// ---- item 8: text encoders and VAEs are not targets --------------------------

TEST(CheckpointTargets, NonTargetsAreDenseAndTheirFilesUnread) {
  TempDir dir;
  dir.write("model_index.json", R"J({"text_encoder": ["transformers", "UMT5EncoderModel"], "vae": ["diffusers", "V"],
    "transformer": ["diffusers", "T"], "image_encoder": ["transformers", "CLIP"], "tokenizer": ["transformers", "T5"]})J");
  dir.write("text_encoder/config.json", "{\"d_model\": NaN, \"d_model\": 1, \"name\": \"caf\xe9\"}");  // Latin-1, duplicate
  dir.write("vae/config.json", "{not json");
  dir.write("transformer/config.json", skip_softmax_config(std::string(kCalibrated) + R"J(, "disabled_until_timestep": 0.8)J"));
  TempDir outside;
  outside.write("secret.json", "{}");
  dir.mkdir("image_encoder");
  dir.symlink(outside / "secret.json", "image_encoder/config.json");  // never read
  auto user = parse_config("attention_config:\n  backend: TRTLLM\n  sparse_attention_config: {algorithm: skip_softmax, threshold_scale_factor: 5000}\n");
  const spattn_config* configs[] = {nullptr, user.get()};
  for (const spattn_config* config : configs) {
    auto model = open_model(dir.path(), config);
    ASSERT_TRUE(model);
    ASSERT_EQ(spattn_model_component_count(model.get()), 5u);
    for (const char* component : {"text_encoder", "vae", "image_encoder", "tokenizer"}) {
      auto p = lookup(model.get(), component, "encoder.block.0.layer.0.SelfAttention", kPrefill, 0.5);
      EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_NONE) << component;
      EXPECT_EQ(p.enabled, 0) << component;
      EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_NOT_TARGET) << component;
      EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_DENSE) << component;
      spattn_phase_key key = SPATTN_PHASE_KEY_SPARSE;
      EXPECT_EQ(spattn_model_phase_key(model.get(), component, kPrefill, 0.5, &key), SPATTN_OK);
      EXPECT_EQ(key, SPATTN_PHASE_KEY_DENSE) << component;
    }
    EXPECT_EQ(lookup(model.get(), "transformer", "blocks.1.attn1", kPrefill, 0.5).enabled, 1);
  }
}

TEST(CheckpointTargets, AnyComponentWithSparseMetadataIsATarget) {
  TempDir dir;
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "T"], "prior": ["diffusers", "P"],
    "connector": ["diffusers", "C"], "broken": ["diffusers", "B"]})J");
  dir.write("transformer/config.json", "{}");
  dir.write("prior/config.json", skip_softmax_config(kCalibrated));
  dir.write("connector/config.json", R"J({"hidden_size": 8})J");
  dir.write("broken/config.json", "[1,");
  LogCapture log;
  auto model = open_model(dir.path());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(lookup(model.get(), "prior", "x", kPrefill).threshold_scale_factor, 1000.0 * std::exp(2.5));
  EXPECT_EQ(lookup(model.get(), "connector", "x", kPrefill).disabled_reason, SPATTN_DISABLED_NOT_TARGET);
  EXPECT_EQ(lookup(model.get(), "broken", "x", kPrefill).disabled_reason, SPATTN_DISABLED_NOT_TARGET);
  EXPECT_TRUE(log.has({dir / "broken/config.json", "JSON syntax error", "listed as dense"})) << log.all();
  EXPECT_EQ(lookup(model.get(), "transformer", "x", kPrefill).disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
  // A path escaping the folder is refused even for such a component.
  TempDir outside;
  outside.write("c/config.json", skip_softmax_config(""));
  dir.symlink(outside / "c", "escape");
  dir.write("model_index.json", R"J({"transformer": ["diffusers", "T"], "escape": ["diffusers", "E"]})J");
  EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_UNSAFE_PATH);
}

}  // namespace
