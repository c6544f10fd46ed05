// Resolution internals (src/resolve/): fnmatch-compatible ignore patterns,
// full vs component-relative names, and the precedence rules, on parsed
// documents without a file system.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "config/sparse_config.hpp"
#include "core/error.hpp"
#include "resolve/component_resolution.hpp"
#include "resolve/glob_pattern.hpp"
#include "resolve/layer_names.hpp"
#include "test_checkpoint_support.hpp"
#include "value/document.hpp"

namespace {

using spattn::GlobPattern;

bool glob(const std::string& pattern, const std::string& name) { return GlobPattern(pattern).matches(name); }

// ---- fnmatch semantics (expected values are Python's fnmatch.fnmatchcase) --

TEST(ResolveGlob, LiteralsAreExactAndCaseSensitive) {
  EXPECT_TRUE(glob("blocks.0.attn1", "blocks.0.attn1"));
  EXPECT_FALSE(glob("blocks.0.attn1", "blocks.0.attn10"));
  EXPECT_FALSE(glob("blocks.0.attn1", "xblocks.0.attn1"));
  EXPECT_FALSE(glob("Blocks.0.attn1", "blocks.0.attn1"));
  EXPECT_TRUE(glob("", ""));
  EXPECT_FALSE(glob("", "a"));
}

TEST(ResolveGlob, StarMatchesAnyRunIncludingDotsAndSlashes) {
  EXPECT_TRUE(glob("*", ""));
  EXPECT_TRUE(glob("*", "a.b/c"));
  EXPECT_TRUE(glob("blocks.*.attn1", "blocks.12.attn1"));
  EXPECT_TRUE(glob("blocks.*.attn1", "blocks.1.2.attn1"));
  EXPECT_FALSE(glob("blocks.*.attn1", "blocks.12.attn2"));
  EXPECT_TRUE(glob("*.attn2", "transformer.blocks.3.attn2"));
  EXPECT_TRUE(glob("a**b", "ab"));
  EXPECT_TRUE(glob("*a*a*a*", "xaxaxax"));
  EXPECT_FALSE(glob("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(ResolveGlob, QuestionMarkIsOneCharacter) {
  EXPECT_TRUE(glob("blocks.?.attn1", "blocks.7.attn1"));
  EXPECT_FALSE(glob("blocks.?.attn1", "blocks.17.attn1"));
  EXPECT_FALSE(glob("?", ""));
  EXPECT_TRUE(glob("?", "\xC3\xA9"));  // one code point, two bytes
  EXPECT_FALSE(glob("??", "\xC3\xA9"));
}

TEST(ResolveGlob, Sets) {
  EXPECT_TRUE(glob("blocks.[01].attn1", "blocks.1.attn1"));
  EXPECT_FALSE(glob("blocks.[01].attn1", "blocks.2.attn1"));
  EXPECT_TRUE(glob("blocks.[0-3].x", "blocks.3.x"));
  EXPECT_FALSE(glob("blocks.[0-3].x", "blocks.4.x"));
  EXPECT_TRUE(glob("[!0-3]", "4"));
  EXPECT_FALSE(glob("[!0-3]", "2"));
  EXPECT_TRUE(glob("[]]", "]"));     // leading ']' is literal
  EXPECT_TRUE(glob("[!]]", "a"));
  EXPECT_FALSE(glob("[!]]", "]"));
  EXPECT_TRUE(glob("[a-]", "-"));    // trailing '-' is literal
  EXPECT_TRUE(glob("[-a]", "-"));    // leading '-' is literal
  EXPECT_TRUE(glob("[a-c-e]", "-"));
  EXPECT_TRUE(glob("[a-c-e]", "e"));
  EXPECT_FALSE(glob("[a-c-e]", "d"));
  EXPECT_FALSE(glob("[z-a]", "m"));  // reversed range: empty, never matches
  EXPECT_TRUE(glob("[!z-a]", "m"));  // negated empty set: any character
  EXPECT_TRUE(glob("[az-ab]", "b"));
  EXPECT_FALSE(glob("[az-ab]", "z"));
  EXPECT_TRUE(glob("[*?]", "*"));
  EXPECT_FALSE(glob("[*?]", "x"));
}

TEST(ResolveGlob, UnclosedBracketAndBackslashAreLiteral) {
  EXPECT_TRUE(glob("a[b", "a[b"));
  EXPECT_TRUE(glob("[", "["));
  EXPECT_TRUE(glob("[!", "[!"));
  EXPECT_TRUE(glob("a\\*", "a\\xyz"));  // no escapes: '\' then '*'
  EXPECT_FALSE(glob("a\\*", "a*"));
  EXPECT_TRUE(glob("[\\]", "\\"));
}

// ---- names: full vs component-relative ------------------------------------

spattn::ResolvedComponent component(const std::string& name, const std::string& group_body,
                                    const spattn::SparseConfig* user = nullptr) {
  std::string text = spattn_test::skip_softmax_config(group_body);
  return spattn::resolve_component(name, spattn::parse_json(text, "c.json", 1 << 20), "c.json", user);
}

spattn::SparseConfig user_config(const std::string& yaml) {
  return spattn::read_sparse_config(spattn::parse_yaml(yaml, "<user>", 1 << 20), "<user>");
}

spattn_layer_params look(const spattn::ResolvedComponent& c, const std::string& layer,
                         spattn_phase phase = SPATTN_PHASE_PREFILL, double timestep = SPATTN_NO_TIMESTEP) {
  spattn_layer_params params{};
  params.struct_size = sizeof params;
  spattn::lookup_layer(c, layer, phase, timestep, params);
  return params;
}

TEST(ResolveIgnore, RelativePatternMatchesFullAndRelativeNames) {
  auto c = component("transformer", R"J("ignore": ["blocks.0.attn1"])J");
  EXPECT_TRUE(spattn::is_ignored(c, "blocks.0.attn1"));
  EXPECT_TRUE(spattn::is_ignored(c, "transformer.blocks.0.attn1"));
  EXPECT_FALSE(spattn::is_ignored(c, "blocks.0.attn2"));
  EXPECT_FALSE(spattn::is_ignored(c, "transformer_2.blocks.0.attn1"));  // relative name of another prefix
}

TEST(ResolveIgnore, FullPatternMatchesBothForms) {
  auto c = component("transformer", R"J("ignore": ["transformer.blocks.1.*"])J");
  EXPECT_TRUE(spattn::is_ignored(c, "transformer.blocks.1.attn1"));
  EXPECT_TRUE(spattn::is_ignored(c, "blocks.1.attn1"));  // full name built as transformer.blocks.1.attn1
  EXPECT_FALSE(spattn::is_ignored(c, "blocks.2.attn1"));
}

TEST(ResolveIgnore, PlainCheckpointMatchesTheNameAsGiven) {
  auto c = component("", R"J("ignore": ["model.layers.[01].self_attn", "decoder.*"])J");
  EXPECT_TRUE(spattn::is_ignored(c, "model.layers.0.self_attn"));
  EXPECT_TRUE(spattn::is_ignored(c, "model.layers.1.self_attn"));
  EXPECT_FALSE(spattn::is_ignored(c, "model.layers.2.self_attn"));
  EXPECT_TRUE(spattn::is_ignored(c, "decoder.x"));
  EXPECT_FALSE(spattn::is_ignored(c, "model.decoder.x"));
}

// Issue #11 item 5: TensorRT-LLM's SkipSoftmaxAttentionConfig.to_sparse_params
// matches each pattern against four names it builds from the layer index.
TEST(ResolveIgnore, LlmLayerIndexMatchesTheFourNamesTensorRtLlmBuilds) {
  auto c = component("", R"J("ignore": ["model.layers.3.self_attn", "layers.7.attention", "model.layers.1?.*"])J");
  for (const char* name : {"model.layers.3.self_attn", "layers.3.self_attn", "model.layers.3.attention",
                           "layers.3.attention", "3", "transformer.h.layers.3.attn", "model.layers.7.self_attn",
                           "7", "model.layers.12.self_attn", "layers.15.attention"}) {
    EXPECT_TRUE(spattn::is_ignored(c, name)) << name;
  }
  for (const char* name : {"model.layers.30.self_attn", "model.layers.1.self_attn", "mylayers.3.attn",
                           "model.layers.x3.self_attn", "33", "model.layers.", ""}) {
    EXPECT_FALSE(spattn::is_ignored(c, name)) << name;
  }
}

// torch.compile wraps modules as `_orig_mod`; TensorRT-LLM's VisualGen test
// test_checkpoint_ignore_patterns_disable_matching_attention_layers.
TEST(ResolveIgnore, OrigModIsRemoved) {
  auto c = component("transformer_2", R"J("ignore": ["blocks.0.attn1", "*.attn2"])J");
  EXPECT_TRUE(spattn::is_ignored(c, "transformer_2.blocks.0._orig_mod.attn1"));
  EXPECT_TRUE(spattn::is_ignored(c, "blocks.0._orig_mod.attn1"));
  EXPECT_TRUE(spattn::is_ignored(c, "transformer_2._orig_mod.blocks.3.attn2"));
  EXPECT_FALSE(spattn::is_ignored(c, "transformer_2.blocks.1.attn1"));
  EXPECT_FALSE(spattn::is_ignored(c, "blocks.0._orig_mod_attn1"));
  auto llm = component("", R"J("ignore": ["model.layers.2.self_attn"])J");
  EXPECT_TRUE(spattn::is_ignored(llm, "model._orig_mod.layers.2.self_attn"));
  EXPECT_TRUE(spattn::is_ignored(llm, "model.layers.2._orig_mod.self_attn"));
}

TEST(ResolveIgnore, LayerNamesAreBuiltWithoutSurprises) {
  spattn::LayerNames plain("", "model._orig_mod.layers.12.self_attn");
  std::vector<std::string> names;
  for (size_t i = 0; i < plain.size(); ++i) names.emplace_back(plain[i]);
  EXPECT_EQ(names, (std::vector<std::string>{"model._orig_mod.layers.12.self_attn", "model.layers.12.self_attn",
                                             "model.layers.12.attention", "layers.12.self_attn",
                                             "layers.12.attention"}));
  spattn::LayerNames component("transformer", "blocks.0._orig_mod.attn1");
  names.clear();
  for (size_t i = 0; i < component.size(); ++i) names.emplace_back(component[i]);
  EXPECT_EQ(names, (std::vector<std::string>{"transformer.blocks.0._orig_mod.attn1", "blocks.0._orig_mod.attn1",
                                             "transformer.blocks.0.attn1", "blocks.0.attn1"}));
  std::string long_name = std::string(5000, 'x') + "._orig_mod.layers.4.y";  // beyond the stack buffer
  spattn::LayerNames big("", long_name);
  EXPECT_EQ(big.size(), 6u);
  EXPECT_EQ(big[5], "layers.4.attention");
}

TEST(ResolveIgnore, VeryLongRelativeNamesStillWork) {
  auto c = component("transformer", R"J("ignore": ["transformer.*.end"])J");
  std::string name = std::string(1000, 'x') + ".end";
  EXPECT_TRUE(spattn::is_ignored(c, name));
  EXPECT_FALSE(spattn::is_ignored(c, name + "s"));
}

// ---- precedence -------------------------------------------------------------

const char* const kCalibrated =
    R"J("threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "coefficients": {"a": 1000.0, "b": 5.0}},
       "target_sparsity": 0.5, "disabled_until_timestep": 0.8, "ignore": ["blocks.0.*"])J";

TEST(ResolvePrecedence, CheckpointDefaultsWithoutUserConfig) {
  auto p = look(component("t", kCalibrated), "blocks.1.attn1");
  EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_SKIP_SOFTMAX);
  EXPECT_EQ(p.enabled, 1);
  EXPECT_DOUBLE_EQ(p.threshold_scale_factor, 1000.0 * std::exp(5.0 * 0.5));
  EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_FORMULA);
  EXPECT_EQ(p.target_sparsity, 0.5);
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_CHECKPOINT);
  EXPECT_EQ(p.disabled_until_timestep, 0.8);
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_CHECKPOINT);
}

TEST(ResolvePrecedence, UserTargetBeatsCheckpointTarget) {
  auto user = user_config("algorithm: skip_softmax\ntarget_sparsity: 0.7\n");
  auto p = look(component("t", kCalibrated, &user), "blocks.1.attn1");
  EXPECT_DOUBLE_EQ(p.threshold_scale_factor, 1000.0 * std::exp(5.0 * 0.7));
  EXPECT_EQ(p.target_sparsity, 0.7);
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_USER);
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_CHECKPOINT);
}

TEST(ResolvePrecedence, UserThresholdBeatsUserTargetAndNoFormulaIsUsed) {
  auto user = user_config("algorithm: skip_softmax\ntarget_sparsity: 0.7\nthreshold_scale_factor: 42\n");
  auto p = look(component("t", kCalibrated, &user), "blocks.1.attn1");
  EXPECT_EQ(p.threshold_scale_factor, 42.0);
  EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_USER);
  EXPECT_TRUE(std::isnan(p.target_sparsity));
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_NONE);
}

TEST(ResolvePrecedence, UserThresholdNeedsNoCalibration) {
  auto user = user_config("algorithm: skip_softmax\nthreshold_scale_factor: {prefill: 10, decode: 20}\n");
  spattn::ResolvedComponent c = spattn::resolve_component(
      "", spattn::parse_json(R"J({"hidden_size": 16})J", "c.json", 1 << 20), "c.json", &user);
  EXPECT_EQ(look(c, "x", SPATTN_PHASE_PREFILL).threshold_scale_factor, 10.0);
  EXPECT_EQ(look(c, "x", SPATTN_PHASE_DECODE).threshold_scale_factor, 20.0);
  EXPECT_TRUE(std::isnan(look(c, "x").disabled_until_timestep));
}

TEST(ResolvePrecedence, UserCutoffOverridesCheckpointCutoff) {
  auto user = user_config("algorithm: skip_softmax\ndisabled_until_timestep: 0.3\n");
  auto c = component("t", kCalibrated, &user);
  auto p = look(c, "blocks.1.attn1");
  EXPECT_EQ(p.disabled_until_timestep, 0.3);
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_USER);
  EXPECT_EQ(p.target_source, SPATTN_SOURCE_CHECKPOINT);  // the target still comes from the checkpoint
  EXPECT_EQ(look(c, "blocks.1.attn1", SPATTN_PHASE_PREFILL, 0.5).disabled_reason, SPATTN_DISABLED_TIMESTEP);
  EXPECT_EQ(look(c, "blocks.1.attn1", SPATTN_PHASE_PREFILL, 0.29).enabled, 1);
}

TEST(ResolvePrecedence, IgnoreBeatsUserThreshold) {
  auto user = user_config("algorithm: skip_softmax\nthreshold_scale_factor: 42\n");
  auto p = look(component("t", kCalibrated, &user), "blocks.0.attn1");
  EXPECT_EQ(p.enabled, 0);
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_IGNORED);
  EXPECT_EQ(p.threshold_scale_factor, 0.0);
  EXPECT_EQ(p.threshold_source, SPATTN_SOURCE_USER);  // kept for inspection
  EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_DENSE);
}

TEST(ResolvePrecedence, IgnoreBeatsTimestep) {
  auto p = look(component("t", kCalibrated), "blocks.0.attn1", SPATTN_PHASE_PREFILL, 0.9);
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_IGNORED);
}

TEST(ResolvePrecedence, NothingAskedForIsOffNotAnError) {
  auto c = component("t", R"J("ignore": ["x"])J");
  auto p = look(c, "y");
  EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_SKIP_SOFTMAX);
  EXPECT_EQ(p.enabled, 0);
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
  EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_DENSE);
}

TEST(ResolvePrecedence, NoUserConfigAndNoGroupIsNone) {
  spattn::ResolvedComponent c =
      spattn::resolve_component("vae", spattn::parse_json("{}", "v.json", 1 << 20), "v.json", nullptr);
  auto p = look(c, "x");
  EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_NONE);
  EXPECT_EQ(p.enabled, 0);
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
}

TEST(ResolvePrecedence, RocketAndDsaAreReportedButNotRun) {
  for (const char* algorithm : {"rocket", "dsa"}) {
    auto user = user_config(std::string("algorithm: ") + algorithm + "\n");
    auto p = look(component("t", kCalibrated, &user), "blocks.1.attn1");
    EXPECT_EQ(p.algorithm, user.algorithm);
    EXPECT_EQ(p.enabled, 0);
    EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
    EXPECT_EQ(p.threshold_scale_factor, 0.0);
  }
}

TEST(ResolvePrecedence, NmAndQuantizeFieldsComeFromTheUserConfig) {
  auto user = user_config("algorithm: skip_softmax\nn: 2\nm: 4\nnum_sink_tokens: 3\ndense_window_size: 5\nquantize_p: true\n");
  auto p = look(component("t", kCalibrated, &user), "blocks.1.attn1");
  EXPECT_EQ(p.sparsity_n, 2);
  EXPECT_EQ(p.sparsity_m, 4);
  EXPECT_EQ(p.num_sink_tokens, 3);
  EXPECT_EQ(p.dense_window_size, 5);
  EXPECT_EQ(p.quantize_p, 1);
  EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_SPARSE);
}

TEST(ResolvePrecedence, IgnoredLayerHasNoNmButKeepsQuantizeP) {
  auto user = user_config("algorithm: skip_softmax\nn: 2\nm: 4\nnum_sink_tokens: 3\ndense_window_size: 5\nquantize_p: true\n");
  auto p = look(component("t", kCalibrated, &user), "blocks.0.attn1");  // kCalibrated ignores blocks.0.*
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_IGNORED);
  EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_DENSE);
  EXPECT_EQ(p.sparsity_n, 0);
  EXPECT_EQ(p.sparsity_m, 0);
  EXPECT_EQ(p.num_sink_tokens, 0);
  EXPECT_EQ(p.dense_window_size, 0);
  EXPECT_EQ(p.quantize_p, 1);
}

TEST(ResolvePrecedence, TimestepCutoffTurnsNmOffUntilItAndOnAfter) {
  // N:M with no threshold anywhere: skip-softmax stays off, N:M follows the cutoff.
  auto user = user_config("algorithm: skip_softmax\nn: 2\nm: 8\ndisabled_until_timestep: 0.5\nquantize_p: true\n");
  spattn::ResolvedComponent c = spattn::resolve_component(
      "t", spattn::parse_json(R"J({"z_dim": 16})J", "t.json", 1 << 20), "t.json", &user);
  auto early = look(c, "x", SPATTN_PHASE_PREFILL, 0.7);
  EXPECT_EQ(early.disabled_reason, SPATTN_DISABLED_TIMESTEP);
  EXPECT_EQ(early.phase_key, SPATTN_PHASE_KEY_DENSE);
  EXPECT_EQ(early.sparsity_m, 0);
  EXPECT_EQ(early.quantize_p, 1);
  for (double t : {0.3, SPATTN_NO_TIMESTEP}) {
    auto late = look(c, "x", SPATTN_PHASE_PREFILL, t);
    EXPECT_EQ(late.enabled, 0) << t;
    EXPECT_EQ(late.disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED) << t;
    EXPECT_EQ(late.phase_key, SPATTN_PHASE_KEY_SPARSE) << t;
    EXPECT_EQ(late.sparsity_n, 2) << t;
    EXPECT_EQ(late.sparsity_m, 8) << t;
  }
}

// Diffusion has no decode phase: a diffusers component takes the prefill
// entry of per-phase values in both phases.
TEST(ResolvePrecedence, DiffusionUsesThePrefillEntry) {
  const char* const calibrated = R"J("threshold_scale_factor": {"formula": "a * target_sparsity",
      "prefill": {"a": 100}, "decode": {"a": 1}}, "target_sparsity": {"prefill": 0.5, "decode": 0.1})J";
  auto diffusion = component("transformer", calibrated);
  auto llm = component("", calibrated);
  EXPECT_DOUBLE_EQ(look(diffusion, "x", SPATTN_PHASE_DECODE).threshold_scale_factor, 50.0);
  EXPECT_DOUBLE_EQ(look(llm, "x", SPATTN_PHASE_DECODE).threshold_scale_factor, 0.1);
  auto user = user_config("algorithm: skip_softmax\nthreshold_scale_factor: {prefill: 7}\n");
  EXPECT_EQ(look(component("transformer", "", &user), "x", SPATTN_PHASE_DECODE).threshold_scale_factor, 7.0);
  EXPECT_EQ(look(component("", "", &user), "x", SPATTN_PHASE_DECODE).disabled_reason, SPATTN_DISABLED_NOT_CONFIGURED);
}

// Extra item A: VSA per layer. The checkpoint's outer ignore list applies;
// the skip-softmax group's patterns and cutoff belong to skip-softmax.
TEST(ResolveVsa, PerLayerLookup) {
  std::string config = R"J({"sparse_attention_config": {"ignore": ["blocks.0.*"], "config_groups": {"g": {
      "algorithm": "skip_softmax", "disabled_until_timestep": 0.3, "ignore": ["blocks.1.*"]}}}})J";
  auto user = user_config("algorithm: vsa\nvsa_sparsity: 0.75\nblock_size_3d: [2, 4, 8]\ndisabled_until_timestep: 0.6\n");
  auto c = spattn::resolve_component("transformer", spattn::parse_json(config, "c.json", 1 << 20), "c.json", &user);
  ASSERT_EQ(c.ignore.size(), 1u);
  auto p = look(c, "blocks.1.attn1", SPATTN_PHASE_PREFILL, 0.5);
  EXPECT_EQ(p.algorithm, SPATTN_ALGORITHM_VSA);
  EXPECT_EQ(p.enabled, 1);
  EXPECT_EQ(p.disabled_reason, SPATTN_DISABLED_NOT);
  EXPECT_EQ(p.phase_key, SPATTN_PHASE_KEY_SPARSE);
  EXPECT_EQ(p.vsa_sparsity, 0.75);
  EXPECT_EQ(p.vsa_cube_shape[0], 2);
  EXPECT_EQ(p.vsa_cube_shape[1], 4);
  EXPECT_EQ(p.vsa_cube_shape[2], 8);
  EXPECT_EQ(p.threshold_scale_factor, 0.0);
  EXPECT_EQ(p.disabled_until_timestep, 0.6);
  EXPECT_EQ(p.timestep_source, SPATTN_SOURCE_USER);
  for (double t : {0.6, 1.0}) {
    auto early = look(c, "blocks.1.attn1", SPATTN_PHASE_PREFILL, t);
    EXPECT_EQ(early.disabled_reason, SPATTN_DISABLED_TIMESTEP) << t;
    EXPECT_EQ(early.enabled, 0) << t;
    EXPECT_EQ(early.phase_key, SPATTN_PHASE_KEY_DENSE) << t;
    EXPECT_EQ(early.vsa_sparsity, 0.0) << t;
    EXPECT_EQ(early.vsa_cube_shape[0], 0) << t;
  }
  auto ignored = look(c, "transformer.blocks.0.attn1", SPATTN_PHASE_PREFILL, 0.1);
  EXPECT_EQ(ignored.disabled_reason, SPATTN_DISABLED_IGNORED);
  EXPECT_EQ(ignored.vsa_cube_shape[2], 0);
  EXPECT_EQ(spattn::component_phase_key(c, SPATTN_PHASE_PREFILL, 0.59), SPATTN_PHASE_KEY_SPARSE);
  EXPECT_EQ(spattn::component_phase_key(c, SPATTN_PHASE_PREFILL, 0.6), SPATTN_PHASE_KEY_DENSE);
  // Defaults, no cutoff: sparse at every step.
  auto plain = user_config("algorithm: vsa\n");
  auto d = spattn::resolve_component("transformer", spattn::parse_json("{}", "c.json", 1 << 20), "c.json", &plain);
  auto q = look(d, "blocks.3.attn1", SPATTN_PHASE_PREFILL, 1.0);
  EXPECT_EQ(q.enabled, 1);
  EXPECT_EQ(q.vsa_sparsity, 0.9);
  EXPECT_EQ(q.vsa_cube_shape[1], 4);
  EXPECT_TRUE(std::isnan(q.disabled_until_timestep));
}

// Issue #11 item 14: the CUDA-graph phase of the whole component at a step
// is `t < cutoff`, the same for every layer; TensorRT-LLM's VisualGen test
// test_graph_phase_tracks_disabled_until_timestep_boundary.
TEST(ResolvePhaseKey, WholeComponentFollowsTheCutoff) {
  auto user = user_config("algorithm: skip_softmax\nthreshold_scale_factor: 5000\ndisabled_until_timestep: 0.6\n");
  auto c = component("transformer", R"J("ignore": ["blocks.0.*"])J", &user);
  struct {
    double timestep;
    spattn_phase_key key;
  } cases[] = {{1.0, SPATTN_PHASE_KEY_DENSE}, {0.6, SPATTN_PHASE_KEY_DENSE}, {0.59, SPATTN_PHASE_KEY_SPARSE},
               {0.0, SPATTN_PHASE_KEY_SPARSE}, {SPATTN_NO_TIMESTEP, SPATTN_PHASE_KEY_SPARSE}};
  for (const auto& row : cases) {
    EXPECT_EQ(spattn::component_phase_key(c, SPATTN_PHASE_PREFILL, row.timestep), row.key) << row.timestep;
    // An ignored layer is dense on both sides of the cutoff; its own key says so.
    EXPECT_EQ(look(c, "blocks.0.attn1", SPATTN_PHASE_PREFILL, row.timestep).phase_key, SPATTN_PHASE_KEY_DENSE);
    EXPECT_EQ(look(c, "blocks.5.attn1", SPATTN_PHASE_PREFILL, row.timestep).phase_key, row.key) << row.timestep;
  }
  // Nothing sparse: dense at every step; N:M alone is sparse.
  auto nothing = component("transformer", "");
  EXPECT_EQ(spattn::component_phase_key(nothing, SPATTN_PHASE_PREFILL, 0.1), SPATTN_PHASE_KEY_DENSE);
  auto nm = user_config("algorithm: skip_softmax\nn: 2\nm: 4\n");
  EXPECT_EQ(spattn::component_phase_key(component("transformer", "", &nm), SPATTN_PHASE_PREFILL, 0.1),
            SPATTN_PHASE_KEY_SPARSE);
  EXPECT_EQ(spattn::component_phase_key(spattn::dense_component("vae"), SPATTN_PHASE_PREFILL, 0.1),
            SPATTN_PHASE_KEY_DENSE);
}

TEST(ResolvePrecedence, TargetWithoutFormulaIsRecordedNotThrown) {
  auto c = component("t", R"J("target_sparsity": 0.5)J");
  EXPECT_EQ(c.phases[0].status, SPATTN_ERR_CALIBRATION_MISSING);
  try {
    look(c, "x");
    ADD_FAILURE() << "no error";
  } catch (const spattn::Error& e) {
    EXPECT_EQ(e.status(), SPATTN_ERR_CALIBRATION_MISSING);
    EXPECT_NE(std::string(e.what()).find("component 't'"), std::string::npos) << e.what();
  }
}

}  // namespace
