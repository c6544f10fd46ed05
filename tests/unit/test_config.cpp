// User config: the seeds' examples in YAML and JSON, equivalence of the two
// formats, canonical export round-trips, accessors, and every error class.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace {

struct ConfigDeleter {
  void operator()(spattn_config* c) const { spattn_config_destroy(c); }
};
using ConfigPtr = std::unique_ptr<spattn_config, ConfigDeleter>;

ConfigPtr parse(const std::string& text, spattn_format format = SPATTN_FORMAT_AUTO) {
  spattn_config* config = nullptr;
  spattn_status status = spattn_config_parse(text.data(), text.size(), format, &config);
  EXPECT_EQ(status, SPATTN_OK) << spattn_last_error() << "\n--- input:\n" << text;
  return ConfigPtr(config);
}

// Parses text expected to fail; returns the status and leaves the message in `message`.
spattn_status parse_error(const std::string& text, std::string& message,
                          spattn_format format = SPATTN_FORMAT_AUTO) {
  spattn_config* config = reinterpret_cast<spattn_config*>(0x1);
  spattn_status status = spattn_config_parse(text.data(), text.size(), format, &config);
  EXPECT_EQ(config, nullptr) << "a failed parse must set *out_config to NULL";
  spattn_config_destroy(config);
  message = spattn_last_error();
  return status;
}

std::string to_json(const spattn_config* config) {
  char* json = nullptr;
  EXPECT_EQ(spattn_config_to_json(config, &json), SPATTN_OK) << spattn_last_error();
  std::string out = json ? json : "";
  spattn_free(json);
  return out;
}

spattn_skip_softmax_config skip_softmax(const spattn_config* config) {
  spattn_skip_softmax_config s{};
  s.struct_size = sizeof s;
  EXPECT_EQ(spattn_config_skip_softmax(config, &s), SPATTN_OK) << spattn_last_error();
  return s;
}

// ---- The seeds' user configs ------------------------------------------------

TEST(ConfigSeeds, LlmDirectThresholdPerPhase) {
  auto c = parse(
      "sparse_attention_config:\n"
      "  algorithm: skip_softmax\n"
      "  threshold_scale_factor:\n"
      "    prefill: 1000.0\n"
      "    decode: 500.0\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(spattn_config_algorithm(c.get()), SPATTN_ALGORITHM_SKIP_SOFTMAX);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.has_threshold_scale_factor, 1);
  EXPECT_EQ(s.threshold_scale_factor.prefill, 1000.0);
  EXPECT_EQ(s.threshold_scale_factor.decode, 500.0);
  EXPECT_EQ(s.has_target_sparsity, 0);
  EXPECT_EQ(s.has_disabled_until_timestep, 0);
  EXPECT_EQ(s.sparsity_m, 0);
  EXPECT_EQ(s.quantize_p, 0);
  EXPECT_EQ(spattn_config_backend(c.get()), nullptr);
}

TEST(ConfigSeeds, LlmTargetSparsityPerPhase) {
  auto c = parse(
      "sparse_attention_config:\n"
      "  algorithm: skip_softmax\n"
      "  target_sparsity:\n"
      "    prefill: 0.5\n"
      "    decode: 0.3\n");
  ASSERT_TRUE(c);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.has_threshold_scale_factor, 0);
  EXPECT_EQ(s.has_target_sparsity, 1);
  EXPECT_EQ(s.target_sparsity.prefill, 0.5);
  EXPECT_EQ(s.target_sparsity.decode, 0.3);
}

TEST(ConfigSeeds, ScalarAppliesToBothPhases) {
  auto c = parse("sparse_attention_config: {algorithm: skip_softmax, threshold_scale_factor: 1000.0}");
  ASSERT_TRUE(c);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.threshold_scale_factor.prefill, 1000.0);
  EXPECT_EQ(s.threshold_scale_factor.decode, 1000.0);
}

TEST(ConfigSeeds, VisualGenDirectThreshold) {
  auto c = parse(
      "attention_config:\n"
      "  backend: TRTLLM\n"
      "  sparse_attention_config:\n"
      "    algorithm: skip_softmax\n"
      "    threshold_scale_factor: 5000.0\n");
  ASSERT_TRUE(c);
  EXPECT_STREQ(spattn_config_backend(c.get()), "TRTLLM");
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.threshold_scale_factor.prefill, 5000.0);
  EXPECT_EQ(s.threshold_scale_factor.decode, 5000.0);
}

TEST(ConfigSeeds, VisualGenTargetWithCutoff) {
  auto c = parse(
      "attention_config:\n"
      "  backend: TRTLLM\n"
      "  sparse_attention_config:\n"
      "    algorithm: skip_softmax\n"
      "    target_sparsity: 0.5\n"
      "    disabled_until_timestep: 0.6\n");
  ASSERT_TRUE(c);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.target_sparsity.prefill, 0.5);
  EXPECT_EQ(s.target_sparsity.decode, 0.5);
  EXPECT_EQ(s.has_disabled_until_timestep, 1);
  EXPECT_EQ(s.disabled_until_timestep, 0.6);
}

TEST(ConfigSeeds, RocketWithOtherLlmOptionsBeside) {
  auto c = parse(
      "sparse_attention_config:\n"
      "  algorithm: rocket\n"
      "  prompt_budget: 2048\n"
      "  kt_cache_dtype: float8_e5m2\n"
      "kv_cache_config:\n"
      "  enable_block_reuse: false\n"
      "enable_chunked_prefill: false\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(spattn_config_algorithm(c.get()), SPATTN_ALGORITHM_ROCKET);
  spattn_rocket_config r{};
  r.struct_size = sizeof r;
  ASSERT_EQ(spattn_config_rocket(c.get(), &r), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(r.prompt_budget, 2048);
  EXPECT_EQ(r.kt_cache_dtype, SPATTN_KT_CACHE_FLOAT8_E5M2);
  // TensorRT-LLM defaults for the fields not given.
  EXPECT_EQ(r.window_size, 32);
  EXPECT_EQ(r.kernel_size, 63);
  EXPECT_EQ(r.topr, 128.0);
  EXPECT_EQ(r.topk, 64);
  EXPECT_EQ(r.page_size, 4);
  EXPECT_EQ(r.has_seq_len_threshold, 0);
}

TEST(ConfigSeeds, RocketAllFields) {
  auto c = parse(
      "{\"algorithm\": \"rocket\", \"window_size\": 16, \"kernel_size\": 31, \"topr\": 0.25, \"topk\": 32,"
      " \"prompt_budget\": 1024, \"page_size\": 8, \"kt_cache_dtype\": \"bfloat16\", \"seq_len_threshold\": 4096}");
  ASSERT_TRUE(c);
  spattn_rocket_config r{};
  r.struct_size = sizeof r;
  ASSERT_EQ(spattn_config_rocket(c.get(), &r), SPATTN_OK);
  EXPECT_EQ(r.window_size, 16);
  EXPECT_EQ(r.kernel_size, 31);
  EXPECT_EQ(r.topr, 0.25);
  EXPECT_EQ(r.topk, 32);
  EXPECT_EQ(r.prompt_budget, 1024);
  EXPECT_EQ(r.page_size, 8);
  EXPECT_EQ(r.kt_cache_dtype, SPATTN_KT_CACHE_BFLOAT16);
  EXPECT_EQ(r.has_seq_len_threshold, 1);
  EXPECT_EQ(r.seq_len_threshold, 4096);
}

TEST(ConfigSeeds, DsaIndexTopk) {
  auto c = parse("sparse_attention_config:\n  algorithm: dsa\n  index_topk: 64\n");
  ASSERT_TRUE(c);
  spattn_dsa_config d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(spattn_config_dsa(c.get(), &d), SPATTN_OK);
  EXPECT_EQ(d.index_topk, 64);
  EXPECT_EQ(d.enable_heuristic_topk, 0);
  EXPECT_EQ(d.skip_indexer_for_short_seqs, 1);
  EXPECT_EQ(d.index_n_heads, 0);
}

TEST(ConfigSeeds, DsaHeuristicTopk) {
  auto c = parse(
      "sparse_attention_config:\n  algorithm: dsa\n  index_topk: 2048\n  enable_heuristic_topk: true\n"
      "  index_n_heads: 64\n  index_head_dim: 128\n  indexer_max_chunk_size: 8192\n"
      "  skip_indexer_for_short_seqs: false\n");
  ASSERT_TRUE(c);
  spattn_dsa_config d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(spattn_config_dsa(c.get(), &d), SPATTN_OK);
  EXPECT_EQ(d.index_topk, 2048);
  EXPECT_EQ(d.enable_heuristic_topk, 1);
  EXPECT_EQ(d.index_n_heads, 64);
  EXPECT_EQ(d.index_head_dim, 128);
  EXPECT_EQ(d.indexer_max_chunk_size, 8192);
  EXPECT_EQ(d.skip_indexer_for_short_seqs, 0);
}

TEST(ConfigSeeds, ModelOptExtrasCombineWithSkipSoftmax) {
  auto c = parse(
      "algorithm: skip_softmax\n"
      "threshold_scale_factor: 2000\n"
      "n: 2\nm: 4\nnum_sink_tokens: 16\ndense_window_size: 64\nquantize_p: true\n");
  ASSERT_TRUE(c);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.sparsity_n, 2);
  EXPECT_EQ(s.sparsity_m, 4);
  EXPECT_EQ(s.num_sink_tokens, 16);
  EXPECT_EQ(s.dense_window_size, 64);
  EXPECT_EQ(s.quantize_p, 1);
  EXPECT_EQ(s.threshold_scale_factor.prefill, 2000.0);
}

TEST(ConfigSeeds, SparseSoftmaxAndQuantizeWithoutThreshold) {
  auto c = parse("algorithm: skip_softmax\nn: 4\nm: 8\nquantize_p: true\n");
  ASSERT_TRUE(c);
  auto s = skip_softmax(c.get());
  EXPECT_EQ(s.has_threshold_scale_factor, 0);
  EXPECT_EQ(s.sparsity_n, 4);
  EXPECT_EQ(s.sparsity_m, 8);
}

TEST(ConfigSeeds, NullSparseConfigMeansNone) {
  auto c = parse("sparse_attention_config: null\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(spattn_config_algorithm(c.get()), SPATTN_ALGORITHM_NONE);
  auto c2 = parse("attention_config:\n  backend: VANILLA\n");
  ASSERT_TRUE(c2);
  EXPECT_EQ(spattn_config_algorithm(c2.get()), SPATTN_ALGORITHM_NONE);
  EXPECT_STREQ(spattn_config_backend(c2.get()), "VANILLA");
}

// ---- YAML and JSON give the same config ----------------------------------

struct Twin {
  const char* yaml;
  const char* json;
};

const Twin kTwins[] = {
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor:\n    prefill: 1000.0\n    decode: 500.0\n",
     R"({"sparse_attention_config": {"algorithm": "skip_softmax", "threshold_scale_factor": {"prefill": 1000.0, "decode": 500.0}}})"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity:\n    prefill: 0.5\n    decode: 0.3\n",
     R"({"sparse_attention_config": {"algorithm": "skip_softmax", "target_sparsity": {"prefill": 0.5, "decode": 0.3}}})"},
    {"attention_config:\n  backend: TRTLLM\n  sparse_attention_config:\n    algorithm: skip_softmax\n    threshold_scale_factor: 5000.0\n",
     R"({"attention_config": {"backend": "TRTLLM", "sparse_attention_config": {"algorithm": "skip_softmax", "threshold_scale_factor": 5000.0}}})"},
    {"attention_config:\n  backend: TRTLLM\n  sparse_attention_config:\n    algorithm: skip_softmax\n    target_sparsity: 0.5\n    disabled_until_timestep: 0.6\n",
     R"({"attention_config": {"backend": "TRTLLM", "sparse_attention_config": {"algorithm": "skip_softmax", "target_sparsity": 0.5, "disabled_until_timestep": 0.6}}})"},
    {"sparse_attention_config:\n  algorithm: rocket\n  prompt_budget: 2048\n  kt_cache_dtype: float8_e5m2\nkv_cache_config:\n  enable_block_reuse: false\n",
     R"({"sparse_attention_config": {"algorithm": "rocket", "prompt_budget": 2048, "kt_cache_dtype": "float8_e5m2"}, "kv_cache_config": {"enable_block_reuse": false}})"},
    {"sparse_attention_config:\n  algorithm: dsa\n  index_topk: 2048\n  enable_heuristic_topk: true\n",
     R"({"sparse_attention_config": {"algorithm": "dsa", "index_topk": 2048, "enable_heuristic_topk": true}})"},
    {"algorithm: skip_softmax\nthreshold_scale_factor: 1e3\nn: 2\nm: 4\nquantize_p: true\n",
     R"({"algorithm": "skip_softmax", "threshold_scale_factor": 1000, "n": 2, "m": 4, "quantize_p": true})"},
};

TEST(ConfigFormats, YamlAndJsonAgree) {
  for (const Twin& twin : kTwins) {
    auto from_yaml = parse(twin.yaml, SPATTN_FORMAT_YAML);
    auto from_json = parse(twin.json, SPATTN_FORMAT_JSON);
    ASSERT_TRUE(from_yaml && from_json);
    EXPECT_EQ(to_json(from_yaml.get()), to_json(from_json.get())) << twin.yaml;
    // AUTO detects each format by itself.
    auto auto_yaml = parse(twin.yaml);
    auto auto_json = parse(twin.json);
    EXPECT_EQ(to_json(auto_yaml.get()), to_json(from_yaml.get()));
    EXPECT_EQ(to_json(auto_json.get()), to_json(from_json.get()));
  }
}

TEST(ConfigFormats, CanonicalJsonRoundTrips) {
  for (const Twin& twin : kTwins) {
    auto c = parse(twin.yaml);
    ASSERT_TRUE(c);
    std::string first = to_json(c.get());
    auto again = parse(first, SPATTN_FORMAT_JSON);
    ASSERT_TRUE(again) << first;
    EXPECT_EQ(to_json(again.get()), first);
  }
}

TEST(ConfigFormats, CanonicalJsonSpellsOutPhasesAndDefaults) {
  auto c = parse("algorithm: skip_softmax\nthreshold_scale_factor: 0.1\n");
  EXPECT_EQ(to_json(c.get()),
            "{\n  \"sparse_attention_config\": {\n    \"algorithm\": \"skip_softmax\",\n"
            "    \"threshold_scale_factor\": {\n      \"prefill\": 0.1,\n      \"decode\": 0.1\n    },\n"
            "    \"quantize_p\": false\n  }\n}");
}

TEST(ConfigFormats, FileParsingUsesExtensionAndNamesTheFile) {
  std::string dir = ::testing::TempDir();
  std::string yaml_path = dir + "/spattn_cfg_test.yaml";
  std::ofstream(yaml_path) << "sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: 0.25\n";
  spattn_config* c = nullptr;
  ASSERT_EQ(spattn_config_parse_file(yaml_path.c_str(), SPATTN_FORMAT_AUTO, &c), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(skip_softmax(c).target_sparsity.decode, 0.25);
  spattn_config_destroy(c);

  std::string bad_path = dir + "/spattn_cfg_bad.yaml";
  std::ofstream(bad_path) << "sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: 2\n";
  c = nullptr;
  EXPECT_EQ(spattn_config_parse_file(bad_path.c_str(), SPATTN_FORMAT_AUTO, &c), SPATTN_ERR_OUT_OF_RANGE);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(std::string(spattn_last_error()).find(bad_path + ":3:20: sparse_attention_config.target_sparsity"),
            std::string::npos)
      << spattn_last_error();

  EXPECT_EQ(spattn_config_parse_file((dir + "/does_not_exist.yaml").c_str(), SPATTN_FORMAT_AUTO, &c), SPATTN_ERR_IO);
  EXPECT_NE(std::string(spattn_last_error()).find("does_not_exist.yaml"), std::string::npos);
  EXPECT_EQ(spattn_config_parse_file(dir.c_str(), SPATTN_FORMAT_AUTO, &c), SPATTN_ERR_IO) << "a directory";
}

// ---- Errors: each class has its status and a message naming the place -----

struct BadInput {
  const char* text;
  spattn_status status;
  const char* message_part;  // must appear in spattn_last_error()
};

const BadInput kBadInputs[] = {
    // Unknown keys, with the key path; typo'd algorithm fields.
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  treshold_scale_factor: 1\n", SPATTN_ERR_UNKNOWN_KEY,
     "<string>:3:26: sparse_attention_config.treshold_scale_factor: unknown key 'treshold_scale_factor'"},
    {"sparse_attention_config:\n  algorithm: rocket\n  index_topk: 3\n", SPATTN_ERR_UNKNOWN_KEY,
     "sparse_attention_config.index_topk: unknown key"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: {prefill: 0.5, decode: 0.2, extra: 1}\n",
     SPATTN_ERR_UNKNOWN_KEY, "sparse_attention_config.target_sparsity.extra"},
    {"attention_config:\n  backend: TRTLLM\n  sparse: {}\n", SPATTN_ERR_UNKNOWN_KEY, "attention_config.sparse"},
    {R"({"algorithm": "dsa", "index_top_k": 5})", SPATTN_ERR_UNKNOWN_KEY, "index_top_k"},
    // Wrong types.
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: high\n", SPATTN_ERR_TYPE,
     "<string>:3:27: sparse_attention_config.threshold_scale_factor: expected a number, got a string"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: [0.5]\n", SPATTN_ERR_TYPE,
     "sparse_attention_config.target_sparsity: expected a number, got a list"},
    {"sparse_attention_config:\n  algorithm: dsa\n  enable_heuristic_topk: 1\n", SPATTN_ERR_TYPE,
     "sparse_attention_config.enable_heuristic_topk: expected true or false"},
    {"sparse_attention_config:\n  algorithm: rocket\n  prompt_budget: 20.5\n", SPATTN_ERR_TYPE,
     "sparse_attention_config.prompt_budget: expected an integer, got 20.5"},
    {"sparse_attention_config: 3\n", SPATTN_ERR_TYPE, "sparse_attention_config: expected a mapping, got a number"},
    {"sparse_attention_config:\n  algorithm: 7\n", SPATTN_ERR_TYPE, "sparse_attention_config.algorithm: expected a string"},
    {"- 1\n- 2\n", SPATTN_ERR_TYPE, "(root): expected a mapping, got a list"},
    {"attention_config:\n  backend: 3\n", SPATTN_ERR_TYPE, "attention_config.backend: expected a string"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity: '0.5'\n", SPATTN_ERR_TYPE,
     "expected a number, got a string"},
    // Out of range.
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  target_sparsity:\n    prefill: 1.5\n    decode: 0.3\n",
     SPATTN_ERR_OUT_OF_RANGE, "<string>:4:14: sparse_attention_config.target_sparsity.prefill: value 1.5 is outside [0, 1]"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: 0\n", SPATTN_ERR_OUT_OF_RANGE,
     "threshold_scale_factor: value 0 must be > 0"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: -5\n", SPATTN_ERR_OUT_OF_RANGE,
     "must be > 0"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  disabled_until_timestep: 1.01\n", SPATTN_ERR_OUT_OF_RANGE,
     "disabled_until_timestep: value 1.01 is outside [0, 1]"},
    {"sparse_attention_config:\n  algorithm: sparse_magic\n", SPATTN_ERR_OUT_OF_RANGE,
     "sparse_attention_config.algorithm: value 'sparse_magic' is not one of: skip_softmax, rocket, dsa"},
    {"sparse_attention_config:\n  algorithm: rocket\n  kt_cache_dtype: float16\n", SPATTN_ERR_OUT_OF_RANGE,
     "kt_cache_dtype: value 'float16' is not one of: float8_e5m2, bfloat16"},
    {"sparse_attention_config:\n  algorithm: rocket\n  topk: 0\n", SPATTN_ERR_OUT_OF_RANGE, "topk: value 0 is outside"},
    {"sparse_attention_config:\n  algorithm: rocket\n  prompt_budget: 3000000000\n", SPATTN_ERR_OUT_OF_RANGE,
     "prompt_budget: value 3000000000 is outside"},
    {"algorithm: skip_softmax\nn: 2\nm: 6\n", SPATTN_ERR_OUT_OF_RANGE, "m: m must be 4 or 8"},
    {"algorithm: skip_softmax\nn: 4\nm: 4\n", SPATTN_ERR_OUT_OF_RANGE, "n: value 4 is outside [1, 3]"},
    {"algorithm: skip_softmax\nthreshold_scale_factor: .inf\n", SPATTN_ERR_OUT_OF_RANGE, "is not finite"},
    {"algorithm: skip_softmax\ntarget_sparsity: .nan\n", SPATTN_ERR_OUT_OF_RANGE, "is not finite"},
    {R"({"algorithm": "skip_softmax", "threshold_scale_factor": 1e999})", SPATTN_ERR_OUT_OF_RANGE,
     "threshold_scale_factor: number is outside the range of a double"},
    {"sparse_attention_config: {algorithm: dsa}\nattention_config: {backend: TRTLLM}\n", SPATTN_ERR_OUT_OF_RANGE,
     "both 'sparse_attention_config' and 'attention_config'"},
    // Missing keys.
    {"sparse_attention_config:\n  target_sparsity: 0.5\n", SPATTN_ERR_MISSING_KEY,
     "sparse_attention_config: missing required key 'algorithm'"},
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: {prefill: 10}\n",
     SPATTN_ERR_MISSING_KEY, "threshold_scale_factor: missing required key 'decode'"},
    {"algorithm: skip_softmax\nm: 4\n", SPATTN_ERR_MISSING_KEY, "needs 'n' beside 'm'"},
    {"algorithm: skip_softmax\nn: 2\n", SPATTN_ERR_MISSING_KEY, "needs 'm' beside 'n'"},
    {"algorithm: skip_softmax\nnum_sink_tokens: 4\n", SPATTN_ERR_MISSING_KEY, "set 'n' and 'm'"},
    {"kv_cache_config: {}\n", SPATTN_ERR_MISSING_KEY, "expected 'sparse_attention_config', 'attention_config' or 'algorithm'"},
    {"", SPATTN_ERR_TYPE, "expected a mapping, got null"},
    // Duplicate keys, in both formats.
    {"sparse_attention_config:\n  algorithm: skip_softmax\n  algorithm: rocket\n", SPATTN_ERR_DUPLICATE_KEY,
     "<string>:3:3: sparse_attention_config.algorithm: duplicate key 'algorithm'"},
    {R"({"sparse_attention_config": {"algorithm": "dsa", "index_topk": 1, "index_topk": 2}})", SPATTN_ERR_DUPLICATE_KEY,
     "sparse_attention_config.index_topk: duplicate key 'index_topk'"},
    // Malformed text.
    {"sparse_attention_config:\n  algorithm: [skip_softmax\n", SPATTN_ERR_SYNTAX, "<string>:3:1: YAML syntax error"},
    {"sparse_attention_config:\n\talgorithm: dsa\n", SPATTN_ERR_SYNTAX, "YAML syntax error"},
    {R"({"sparse_attention_config": {"algorithm": "dsa",}})", SPATTN_ERR_SYNTAX, "<string>:1:49: JSON syntax error near '}}'"},
    {"{\"algorithm\": \"dsa\"} trailing", SPATTN_ERR_SYNTAX, "JSON syntax error"},
    {"{\"algorithm\": \"dsa\"", SPATTN_ERR_SYNTAX, "unexpected end of text"},
    {"a: 1\n---\nb: 2\n", SPATTN_ERR_SYNTAX, "more than one YAML document"},
    {"a: *nothing\n", SPATTN_ERR_SYNTAX, "has no anchor"},
    {"? [a, b]\n: 1\n", SPATTN_ERR_SYNTAX, "mapping keys must be plain scalars"},
    {"a: !!python/object:os.system x\n", SPATTN_ERR_SYNTAX, "unsupported YAML tag"},
    {"a: !!int abc\n", SPATTN_ERR_TYPE, "is not a valid tag:yaml.org,2002:int"},
    {"{\"a\": \"\xff\"}", SPATTN_ERR_SYNTAX, "invalid UTF-8"},
    {"algorithm: \"\xc3\x28\"\n", SPATTN_ERR_SYNTAX, "YAML syntax error"},
};

TEST(ConfigErrors, EachClassHasItsStatusAndPlace) {
  for (const BadInput& bad : kBadInputs) {
    std::string message;
    spattn_status status = parse_error(bad.text, message);
    EXPECT_EQ(status, bad.status) << "input:\n" << bad.text << "\nmessage: " << message;
    EXPECT_NE(message.find(bad.message_part), std::string::npos)
        << "input:\n" << bad.text << "\nmessage: " << message << "\nexpected to contain: " << bad.message_part;
  }
}

TEST(ConfigErrors, UnknownKeyListsTheKnownOnes) {
  std::string message;
  ASSERT_EQ(parse_error("algorithm: skip_softmax\ntarget: 0.5\n", message), SPATTN_ERR_UNKNOWN_KEY);
  EXPECT_NE(message.find("known keys here: algorithm, threshold_scale_factor, target_sparsity, disabled_until_timestep"),
            std::string::npos)
      << message;
}

TEST(ConfigErrors, JsonTextMustBeJsonWhenStated) {
  std::string message;
  EXPECT_EQ(parse_error("algorithm: dsa\n", message, SPATTN_FORMAT_JSON), SPATTN_ERR_SYNTAX);
  // YAML accepts JSON-style flow text.
  auto c = parse(R"({"algorithm": "dsa", "index_topk": 8})", SPATTN_FORMAT_YAML);
  EXPECT_EQ(spattn_config_algorithm(c.get()), SPATTN_ALGORITHM_DSA);
}

// ---- Limits -------------------------------------------------------------

TEST(ConfigLimits, DeepNestingIsRefused) {
  std::string deep_json(100000, '[');
  std::string message;
  EXPECT_EQ(parse_error(deep_json, message), SPATTN_ERR_LIMIT);
  EXPECT_NE(message.find("nesting deeper than 64"), std::string::npos) << message;
  std::string deep_yaml(100000, '[');
  EXPECT_EQ(parse_error(deep_yaml, message, SPATTN_FORMAT_YAML), SPATTN_ERR_LIMIT);
  std::string deep_block;
  for (int i = 0; i < 100; ++i) deep_block += std::string(size_t(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
  EXPECT_EQ(parse_error(deep_block, message), SPATTN_ERR_LIMIT);
}

TEST(ConfigLimits, HugeTextIsRefused) {
  std::string huge = "algorithm: dsa\n# " + std::string(SPATTN_MAX_CONFIG_BYTES, 'x') + "\n";
  std::string message;
  EXPECT_EQ(parse_error(huge, message), SPATTN_ERR_LIMIT);
  EXPECT_NE(message.find("the limit is 1048576"), std::string::npos) << message;
}

TEST(ConfigLimits, AliasBombIsRefused) {
  // Each level doubles the expansion: 2^30 nodes if expanded naively.
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + "]\n";
  }
  std::string message;
  EXPECT_EQ(parse_error(bomb, message), SPATTN_ERR_LIMIT);
  EXPECT_NE(message.find("more than 200000 values"), std::string::npos) << message;
}

TEST(ConfigLimits, AliasesWithinLimitsWork) {
  auto c = parse("defaults: &d {prefill: 0.5, decode: 0.25}\nsparse_attention_config:\n  algorithm: skip_softmax\n"
                 "  target_sparsity: *d\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(skip_softmax(c.get()).target_sparsity.decode, 0.25);
}

// ---- Accessors and arguments -----------------------------------------------

TEST(ConfigAccessors, WrongAlgorithmAndBadArguments) {
  auto c = parse("algorithm: dsa\n");
  spattn_skip_softmax_config s{};
  s.struct_size = sizeof s;
  EXPECT_EQ(spattn_config_skip_softmax(c.get(), &s), SPATTN_ERR_WRONG_ALGORITHM);
  EXPECT_NE(std::string(spattn_last_error()).find("algorithm is 'dsa', not 'skip_softmax'"), std::string::npos);
  spattn_rocket_config r{};
  r.struct_size = sizeof r;
  EXPECT_EQ(spattn_config_rocket(c.get(), &r), SPATTN_ERR_WRONG_ALGORITHM);

  spattn_dsa_config d{};
  d.struct_size = 4;
  EXPECT_EQ(spattn_config_dsa(c.get(), &d), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_dsa_config.struct_size is 4"), std::string::npos);
  EXPECT_EQ(spattn_config_dsa(nullptr, &d), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_config_dsa(c.get(), nullptr), SPATTN_ERR_INVALID_ARGUMENT);

  spattn_config* out = nullptr;
  EXPECT_EQ(spattn_config_parse(nullptr, 0, SPATTN_FORMAT_AUTO, &out), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_config_parse: text is NULL"), std::string::npos);
  EXPECT_EQ(spattn_config_parse("a: 1", 4, SPATTN_FORMAT_AUTO, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_config_parse("a: 1", 4, static_cast<spattn_format>(9), &out), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_config_parse_file(nullptr, SPATTN_FORMAT_AUTO, &out), SPATTN_ERR_INVALID_ARGUMENT);
  char* json = nullptr;
  EXPECT_EQ(spattn_config_to_json(nullptr, &json), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_config_algorithm(nullptr), SPATTN_ALGORITHM_NONE);
  EXPECT_EQ(spattn_config_backend(nullptr), nullptr);
  spattn_config_destroy(nullptr);
}

TEST(ConfigAccessors, TextNeedNotBeTerminated) {
  std::string text = "algorithm: dsa\nindex_topk: 12";
  std::string padded = text + "GARBAGE";
  spattn_config* c = nullptr;
  ASSERT_EQ(spattn_config_parse(padded.data(), text.size(), SPATTN_FORMAT_YAML, &c), SPATTN_OK) << spattn_last_error();
  spattn_dsa_config d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(spattn_config_dsa(c, &d), SPATTN_OK);
  EXPECT_EQ(d.index_topk, 12);
  spattn_config_destroy(c);
}

// ---- Core entry points ----------------------------------------------------

TEST(Core, VersionAndStatusStrings) {
  EXPECT_EQ(spattn_version(), uint32_t(SPATTN_VERSION_NUMBER));
  EXPECT_EQ(std::string(spattn_version_string()), std::to_string(SPATTN_VERSION_MAJOR) + "." +
                                                      std::to_string(SPATTN_VERSION_MINOR) + "." +
                                                      std::to_string(SPATTN_VERSION_PATCH));
  EXPECT_STREQ(spattn_status_string(SPATTN_OK), "SPATTN_OK");
  EXPECT_STREQ(spattn_status_string(SPATTN_ERR_CALIBRATION_MISSING), "SPATTN_ERR_CALIBRATION_MISSING");
  EXPECT_STREQ(spattn_status_string(static_cast<spattn_status>(999)), "SPATTN_ERR_UNKNOWN_STATUS");
  EXPECT_STREQ(spattn_algorithm_name(SPATTN_ALGORITHM_SKIP_SOFTMAX), "skip_softmax");
  EXPECT_EQ(spattn_algorithm_name(static_cast<spattn_algorithm>(42)), nullptr);
  spattn_free(nullptr);
}

TEST(Core, LastErrorIsPerThread) {
  std::string message;
  parse_error("algorithm: nope\n", message);
  std::string other_thread_message = "unset";
  std::thread([&] { other_thread_message = spattn_last_error(); }).join();
  EXPECT_EQ(other_thread_message, "");
  EXPECT_NE(std::string(spattn_last_error()).find("nope"), std::string::npos);
}

struct LogRecord {
  int calls = 0;
  spattn_log_level last_level = SPATTN_LOG_DEBUG;
  std::string last_message;
};

// The callback receives the library's messages at or above its level with
// its user data; a rejected level keeps the installed callback; NULL
// removes it. Opening the sample checkpoint logs one INFO line per component.
TEST(Core, LogCallbackArguments) {
  LogRecord record;
  auto fn = [](spattn_log_level level, const char* message, void* user) {
    auto* r = static_cast<LogRecord*>(user);
    r->calls++;
    r->last_level = level;
    r->last_message = message;
  };
  const std::string wan = std::string(SPATTN_SOURCE_DIR) + "/examples/checkpoints/wan-mini";
  auto open_and_close = [&] {
    spattn_model* model = nullptr;
    ASSERT_EQ(spattn_model_open(wan.c_str(), nullptr, &model), SPATTN_OK) << spattn_last_error();
    spattn_model_destroy(model);
  };
  ASSERT_EQ(spattn_set_log_callback(fn, SPATTN_LOG_INFO, &record), SPATTN_OK);
  open_and_close();
  EXPECT_GT(record.calls, 0);
  EXPECT_EQ(record.last_level, SPATTN_LOG_INFO);
  EXPECT_NE(record.last_message.find("wan-mini: component '"), std::string::npos) << record.last_message;

  const int after_info = record.calls;
  EXPECT_EQ(spattn_set_log_callback(fn, static_cast<spattn_log_level>(7), &record), SPATTN_ERR_INVALID_ARGUMENT);
  open_and_close();  // the INFO callback is still installed
  EXPECT_EQ(record.calls, 2 * after_info);

  ASSERT_EQ(spattn_set_log_callback(fn, SPATTN_LOG_WARNING, &record), SPATTN_OK);
  open_and_close();  // INFO lines are below WARNING
  EXPECT_EQ(record.calls, 2 * after_info);

  ASSERT_EQ(spattn_set_log_callback(nullptr, SPATTN_LOG_DEBUG, nullptr), SPATTN_OK);
  ASSERT_EQ(spattn_set_log_callback(fn, SPATTN_LOG_INFO, &record), SPATTN_OK);
  ASSERT_EQ(spattn_set_log_callback(nullptr, SPATTN_LOG_DEBUG, nullptr), SPATTN_OK);
  open_and_close();  // removed
  EXPECT_EQ(record.calls, 2 * after_info);
}

}  // namespace
