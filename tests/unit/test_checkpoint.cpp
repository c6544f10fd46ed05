// Checkpoint reading (src/checkpoint/): folder layouts, the calibration
// schema and its errors, and the attacks an untrusted folder can make.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

#include "checkpoint/calibration.hpp"
#include "checkpoint/checkpoint_folder.hpp"
#include "core/error.hpp"
#include "test_checkpoint_support.hpp"
#include "value/document.hpp"

namespace {

using spattn_test::open_model;
using spattn_test::open_status;
using spattn_test::skip_softmax_config;
using spattn_test::TempDir;

const char* const kIndex = R"J({"_class_name": "WanPipeline", "_diffusers_version": "0.35.0",
  "transformer": ["diffusers", "WanTransformer3DModel"], "tokenizer": ["transformers", "T5TokenizerFast"]})J";

// Status and message of opening a plain checkpoint whose config.json is `text`.
spattn_status open_plain(const std::string& text, std::string* message,
                         const spattn_config* user = nullptr) {
  TempDir dir;
  dir.write("config.json", text);
  return open_status(dir.path(), message, user);
}

spattn::ComponentCalibration calibration_of(const std::string& json) {
  return spattn::read_calibration(spattn::parse_json(json, "config.json", 1 << 20), "config.json");
}

// ---- folder layouts --------------------------------------------------------

TEST(CheckpointFolder, PlainCheckpointIsOneUnnamedComponent) {
  auto model = open_model(spattn_test::llm_mini());
  ASSERT_TRUE(model);
  EXPECT_EQ(spattn_model_component_count(model.get()), 1u);
  EXPECT_STREQ(spattn_model_component_name(model.get(), 0), "");
  EXPECT_EQ(spattn_model_component_name(model.get(), 1), nullptr);
  ASSERT_EQ(spattn_model_ignore_count(model.get(), 0), 2u);
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 0, 0), "model.layers.0.self_attn");
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 0, 1), "model.layers.1.self_attn");
  EXPECT_EQ(spattn_model_ignore_pattern(model.get(), 0, 2), nullptr);
  EXPECT_EQ(spattn_model_ignore_count(model.get(), 1), 0u);
  EXPECT_EQ(spattn_model_ignore_pattern(model.get(), 1, 0), nullptr);
}

TEST(CheckpointFolder, DiffusersComponentsInIndexOrder) {
  auto model = open_model(spattn_test::wan_mini());
  ASSERT_TRUE(model);
  // Every component model_index.json names, in its order; the ones that
  // are not sparse-attention targets are listed too.
  const char* const expected[] = {"scheduler", "text_encoder", "tokenizer", "transformer", "transformer_2", "vae"};
  ASSERT_EQ(spattn_model_component_count(model.get()), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_STREQ(spattn_model_component_name(model.get(), i), expected[i]);
  EXPECT_EQ(spattn_model_ignore_count(model.get(), 1), 0u);
  EXPECT_EQ(spattn_model_ignore_count(model.get(), 3), 2u);
  EXPECT_STREQ(spattn_model_ignore_pattern(model.get(), 4, 0), "blocks.39.*");
}

TEST(CheckpointFolder, ModelIndexWinsOverConfigJson) {
  TempDir dir;
  dir.write("model_index.json", kIndex);
  dir.write("config.json", "[1, 2]");  // would be an error if it were read
  dir.write("transformer/config.json", skip_softmax_config(""));
  auto model = open_model(dir.path());
  ASSERT_TRUE(model);
  EXPECT_STREQ(spattn_model_component_name(model.get(), 0), "transformer");
}

TEST(CheckpointFolder, NullEntriesAndPrivateKeysAreNotComponents) {
  TempDir dir;
  dir.write("model_index.json", R"J({"_class_name": "P", "_extra": ["x", "y"], "safety_checker": [null, null],
    "requires_safety_checker": true, "feature_extractor": [], "transformer": ["diffusers", "T"]})J");
  dir.write("_extra/config.json", "{}");
  dir.write("safety_checker/config.json", "{}");
  dir.write("transformer/config.json", "{}");
  auto model = open_model(dir.path());
  ASSERT_EQ(spattn_model_component_count(model.get()), 1u);
  EXPECT_STREQ(spattn_model_component_name(model.get(), 0), "transformer");
}

TEST(CheckpointFolder, NeitherFileIsNotFound) {
  TempDir dir;
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_NOT_FOUND);
  EXPECT_NE(message.find(dir.path()), std::string::npos) << message;
  EXPECT_NE(message.find("neither model_index.json nor config.json"), std::string::npos) << message;
  EXPECT_EQ(open_status(dir / "missing", &message), SPATTN_ERR_NOT_FOUND);
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST(CheckpointFolder, CheckpointPathThatIsAFileIsIo) {
  TempDir dir;
  dir.write("file", "{}");
  EXPECT_EQ(open_status(dir / "file"), SPATTN_ERR_IO);
}

TEST(CheckpointFolder, IndexWithoutAnyComponentIsACheckpointError) {
  TempDir dir;
  dir.write("model_index.json", R"J({"_class_name": "P", "_diffusers_version": "0.35.0", "x": [null, null]})J");
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_CHECKPOINT);
  EXPECT_NE(message.find("model_index.json: names no component"), std::string::npos) << message;
}

TEST(CheckpointFolder, DenoiserWithoutConfigIsACheckpointError) {
  for (const char* denoiser : {"transformer", "transformer_2", "unet"}) {
    TempDir dir;
    dir.write("model_index.json", std::string(R"J({"vae": ["diffusers", "V"], ")J") + denoiser + R"J(": ["diffusers", "T"]})J");
    std::string message;
    EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_CHECKPOINT) << denoiser;
    EXPECT_NE(message.find(std::string("lists the denoiser '") + denoiser + "', but " + dir.path() + "/" + denoiser +
                           "/config.json does not exist"),
              std::string::npos)
        << message;
  }
}

TEST(CheckpointFolder, TooManyComponentsIsALimit) {
  TempDir dir;
  std::string index = "{";
  for (int i = 0; i <= SPATTN_MAX_COMPONENTS; ++i) {
    index += (i ? ", " : "") + std::string("\"c") + std::to_string(i) + "\": [\"diffusers\", \"X\"]";
  }
  dir.write("model_index.json", index + "}");
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_LIMIT);
  EXPECT_NE(message.find("SPATTN_MAX_COMPONENTS"), std::string::npos) << message;
}

TEST(CheckpointFolder, MalformedJsonIsASyntaxErrorNamingTheFile) {
  std::string message;
  EXPECT_EQ(open_plain("{\"sparse_attention_config\": ", &message), SPATTN_ERR_SYNTAX);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
}

// ---- untrusted folders -----------------------------------------------------

TEST(CheckpointSecurity, ComponentNamesThatAreNotOneFolderAreRefused) {
  for (const char* name : {"../x", "/etc", "a/b", "..", ".", "a\\\\b", "x y", ""}) {
    TempDir dir;
    dir.write("model_index.json", std::string("{\"") + name + "\": [\"diffusers\", \"X\"]}");
    std::string message;
    EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_UNSAFE_PATH) << name;
    EXPECT_NE(message.find("single folder name"), std::string::npos) << message;
  }
  EXPECT_TRUE(spattn::is_safe_component_name("transformer_2"));
  EXPECT_TRUE(spattn::is_safe_component_name("text-encoder.v2"));
  EXPECT_FALSE(spattn::is_safe_component_name("../x"));
}

TEST(CheckpointSecurity, SymlinkedComponentFolderPointingOutsideIsRefused) {
  TempDir outside;
  outside.write("transformer/config.json", skip_softmax_config(""));
  TempDir dir;
  dir.write("model_index.json", kIndex);
  dir.symlink(outside / "transformer", "transformer");
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_UNSAFE_PATH);
  EXPECT_NE(message.find("outside the checkpoint folder"), std::string::npos) << message;
  EXPECT_NE(message.find(dir / "transformer"), std::string::npos) << message;
}

TEST(CheckpointSecurity, SymlinkedConfigPointingOutsideIsRefused) {
  TempDir outside;
  outside.write("secret.json", "{}");
  {
    TempDir dir;
    dir.write("model_index.json", kIndex);
    dir.mkdir("transformer");
    dir.symlink(outside / "secret.json", "transformer/config.json");
    EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_UNSAFE_PATH);
  }
  {
    TempDir dir;  // plain checkpoint
    dir.symlink(outside / "secret.json", "config.json");
    EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_UNSAFE_PATH);
  }
  {
    TempDir dir;  // the index itself
    dir.symlink(outside / "secret.json", "model_index.json");
    EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_UNSAFE_PATH);
  }
  {
    TempDir dir;  // a relative link climbing out
    dir.write("model_index.json", kIndex);
    dir.mkdir("transformer");
    dir.symlink("../../" + outside.path().substr(outside.path().rfind('/') + 1) + "/secret.json",
                "transformer/config.json");
    EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_UNSAFE_PATH);
  }
}

TEST(CheckpointSecurity, SymlinksInsideTheFolderAreFine) {
  TempDir dir;
  dir.write("model_index.json", kIndex);
  dir.write("shared/config.json",
            skip_softmax_config(R"J("threshold_scale_factor": {"formula": "a * target_sparsity", "a": 70}, "target_sparsity": 0.1)J"));
  dir.symlink(dir / "shared", "transformer");
  auto model = open_model(dir.path());
  ASSERT_TRUE(model);
  EXPECT_DOUBLE_EQ(spattn_test::lookup(model.get(), "transformer", "x", SPATTN_PHASE_PREFILL).threshold_scale_factor, 7.0);
}

TEST(CheckpointSecurity, ConfigResolvingToTheFolderItselfIsAnIoError) {
  TempDir dir;  // found by fuzz_checkpoint_folder: was an internal error (substr past the end)
  dir.write("model_index.json", kIndex);
  dir.mkdir("transformer");
  dir.symlink("..", "transformer/config.json");
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_IO);
  EXPECT_NE(message.find(dir / "transformer/config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("not a JSON file"), std::string::npos) << message;
}

// The folder reader resolves a path (symlinks inside the folder allowed) and
// then reads the resolved path element by element without following
// symlinks, so a folder swapped for a symlink between the two steps cannot
// lead it outside. A resolved path has no symlink in it; read_below meeting
// one is exactly that race, reproduced here without timing.
struct OpenFolder {
  explicit OpenFolder(const std::string& path) : fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~OpenFolder() {
    if (fd >= 0) close(fd);
  }
  int fd;
};

spattn_status read_below_status(int fd, const std::string& relative, std::string* message = nullptr) {
  try {
    spattn::read_below(fd, relative, "shown/" + relative, 1 << 20);
    return SPATTN_OK;
  } catch (const spattn::Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
}

TEST(CheckpointSecurity, ReadBelowFollowsNoSymlink) {
  TempDir dir, outside;
  dir.write("real/config.json", "{\"a\": 1}");
  outside.write("secret.json", "{\"secret\": 1}");
  dir.symlink(dir / "real", "link");                       // a folder swapped for a link inside
  dir.symlink(outside / "secret.json", "real/swapped.json"); // a file swapped for a link outside
  OpenFolder folder(dir.path());
  ASSERT_GE(folder.fd, 0);
  EXPECT_EQ(spattn::read_below(folder.fd, "real/config.json", "shown", 1 << 20), "{\"a\": 1}");
  std::string message;
  EXPECT_EQ(read_below_status(folder.fd, "link/config.json", &message), SPATTN_ERR_UNSAFE_PATH);
  EXPECT_NE(message.find("shown/link/config.json: 'link' became a symlink"), std::string::npos) << message;
  EXPECT_EQ(read_below_status(folder.fd, "real/swapped.json", &message), SPATTN_ERR_UNSAFE_PATH);
  EXPECT_NE(message.find("'swapped.json' became a symlink"), std::string::npos) << message;
}

TEST(CheckpointSecurity, ReadBelowTakesPlainNamesOnly) {
  TempDir dir;
  dir.write("a/config.json", "{}");
  OpenFolder folder(dir.path());
  ASSERT_GE(folder.fd, 0);
  for (const char* relative : {"../config.json", "a/../a/config.json", "./a/config.json", "a//config.json", "", "a/"}) {
    std::string message;
    EXPECT_EQ(read_below_status(folder.fd, relative, &message), SPATTN_ERR_UNSAFE_PATH) << relative;
    EXPECT_NE(message.find("is not a plain name"), std::string::npos) << message;
  }
  std::string message;
  EXPECT_EQ(read_below_status(folder.fd, "a/missing.json", &message), SPATTN_ERR_IO);
  EXPECT_NE(message.find("cannot open 'missing.json'"), std::string::npos) << message;
  EXPECT_EQ(read_below_status(folder.fd, "a", &message), SPATTN_ERR_IO);  // a folder, not a file
  EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
  EXPECT_EQ(read_below_status(folder.fd, "a/config.json/x", &message), SPATTN_ERR_IO);  // a file as a folder
}

TEST(CheckpointSecurity, OversizedConfigIsALimit) {
  TempDir dir;
  dir.write("config.json", "{}");
  ASSERT_EQ(truncate((dir / "config.json").c_str(), off_t(SPATTN_MAX_CHECKPOINT_FILE_BYTES) + 1), 0);
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_LIMIT);
  EXPECT_NE(message.find(dir / "config.json"), std::string::npos) << message;
}

TEST(CheckpointSecurity, ConfigThatIsNotAnObjectIsATypeError) {
  for (const char* text : {"[1, 2]", "\"text\"", "42", "null"}) {
    std::string message;
    EXPECT_EQ(open_plain(text, &message), SPATTN_ERR_TYPE) << text;
    EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  }
  TempDir dir;
  dir.write("model_index.json", "[\"transformer\"]");
  EXPECT_EQ(open_status(dir.path()), SPATTN_ERR_TYPE);
}

TEST(CheckpointSecurity, DirectoryNamedConfigJsonIsIo) {
  TempDir dir;
  dir.mkdir("config.json");
  std::string message;
  EXPECT_EQ(open_status(dir.path(), &message), SPATTN_ERR_IO);
  EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
  EXPECT_NE(message.find(dir / "config.json"), std::string::npos) << message;
}

// A FIFO named config.json must be refused at once: opening one for reading
// blocks until a writer appears. If that regresses, a writer opened after a
// few seconds unblocks the reader and the elapsed time fails the test.
TEST(CheckpointSecurity, FifoNamedConfigJsonIsRefusedWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir / "config.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::atomic<bool> done{false};
  std::thread unblocker([&] {
    for (int i = 0; i < 50 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done) {
      int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) close(fd);
    }
  });
  auto start = std::chrono::steady_clock::now();
  std::string message;
  spattn_status status = open_status(dir.path(), &message);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  unblocker.join();
  EXPECT_EQ(status, SPATTN_ERR_IO);
  EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
  EXPECT_LT(seconds, 2.0) << "opening the checkpoint blocked on the FIFO";
}

// ---- calibration schema ----------------------------------------------------

TEST(CheckpointCalibration, SeedSingleCoefficientSet) {
  auto calibration = calibration_of(R"J({"hidden_size": 8, "sparse_attention_config": {"config_groups": {"group_0": {
    "algorithm": "skip_softmax",
    "threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)", "coefficients": {"a": 1000.0, "b": 5.0}},
    "target_sparsity": 0.5, "disabled_until_timestep": 0.8, "ignore": ["blocks.0.attn1", "blocks.0.attn2"]}}}})J");
  ASSERT_TRUE(calibration.skip_softmax);
  const auto& group = *calibration.skip_softmax;
  EXPECT_EQ(group.group, "group_0");
  ASSERT_TRUE(group.formula.present());
  const spattn::PhaseFormula& decode = group.formula.get().phases[SPATTN_PHASE_DECODE].get();
  EXPECT_EQ(decode.coefficient_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(decode.coefficients, (std::vector<double>{1000.0, 5.0}));
  EXPECT_EQ(decode.source, "sparse_attention_config.config_groups.group_0.threshold_scale_factor.coefficients");
  EXPECT_EQ(group.target_sparsity.get().prefill, 0.5);
  EXPECT_EQ(group.target_sparsity.get().decode, 0.5);
  EXPECT_EQ(group.disabled_until_timestep.get(), 0.8);
  EXPECT_EQ(group.ignore, (std::vector<std::string>{"blocks.0.attn1", "blocks.0.attn2"}));
}

TEST(CheckpointCalibration, SeedPerPhaseCoefficients) {
  auto calibration = calibration_of(R"J({"sparse_attention_config": {"config_groups": {"g": {
    "algorithm": "skip_softmax",
    "threshold_scale_factor": {"formula": "a * exp(b * target_sparsity)",
                               "prefill": {"a": 100.0, "b": 5.0}, "decode": {"b": 10.0, "a": 0.05}},
    "target_sparsity": {"prefill": 0.5, "decode": 0.3}}}}})J");
  const auto& formula = calibration.skip_softmax->formula.get();
  EXPECT_EQ(formula.phases[SPATTN_PHASE_PREFILL].get().coefficients, (std::vector<double>{100.0, 5.0}));
  // Each phase keeps its own block's names and order.
  EXPECT_EQ(formula.phases[SPATTN_PHASE_DECODE].get().coefficient_names, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(formula.phases[SPATTN_PHASE_DECODE].get().coefficients, (std::vector<double>{10.0, 0.05}));
  EXPECT_DOUBLE_EQ(formula.threshold(SPATTN_PHASE_DECODE, 0.3, "t"), 0.05 * std::exp(10.0 * 0.3));
}

TEST(CheckpointCalibration, NoSparseConfigMeansNoCalibration) {
  EXPECT_FALSE(calibration_of(R"J({"hidden_size": 8})J").has_sparse_config);
  EXPECT_FALSE(calibration_of(R"J({"sparse_attention_config": null})J").has_sparse_config);
  auto empty = calibration_of(R"J({"sparse_attention_config": {"producer": {"name": "modelopt"}, "version": 2}})J");
  EXPECT_TRUE(empty.has_sparse_config);
  EXPECT_FALSE(empty.skip_softmax);
}

TEST(CheckpointCalibration, OtherAlgorithmsAreKeptNotInterpreted) {
  auto calibration = calibration_of(R"J({"sparse_attention_config": {"config_groups": {
    "a": {"algorithm": "rocket", "anything": [1, 2]}, "b": {"algorithm": "skip_softmax"},
    "c": {"algorithm": "nm_sparse", "n": 2}}}})J");
  ASSERT_EQ(calibration.other_groups.size(), 2u);
  EXPECT_EQ(calibration.other_groups[0].name, "a");
  EXPECT_EQ(calibration.other_groups[0].algorithm, "rocket");
  EXPECT_EQ(calibration.other_groups[1].algorithm, "nm_sparse");
  EXPECT_EQ(calibration.skip_softmax->group, "b");
}

struct BadCalibration {
  const char* name;
  std::string config;
  spattn_status status;
  std::string message_part;
};

// gtest prints the case by its name (not its raw bytes).
void PrintTo(const BadCalibration& bad, std::ostream* os) { *os << bad.name; }

class CheckpointCalibrationError : public ::testing::TestWithParam<BadCalibration> {};

TEST_P(CheckpointCalibrationError, IsRefusedAtOpenWithFileAndKeyPath) {
  const BadCalibration& bad = GetParam();
  std::string message;
  EXPECT_EQ(open_plain(bad.config, &message), bad.status) << message;
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find(bad.message_part), std::string::npos) << message;
}

const std::string kFormulaPath = "sparse_attention_config.config_groups.group_0.threshold_scale_factor";

// A group whose formula is used: its own target_sparsity needs it.
std::string used_formula(const std::string& threshold) {
  return skip_softmax_config(R"J("threshold_scale_factor": )J" + threshold + R"J(, "target_sparsity": 0.5)J");
}

INSTANTIATE_TEST_SUITE_P(
    All, CheckpointCalibrationError,
    ::testing::Values(
        BadCalibration{"TwoSkipSoftmaxGroups",
                       R"J({"sparse_attention_config": {"config_groups": {"first": {"algorithm": "skip_softmax"},
                          "other": {"algorithm": "rocket"}, "second": {"sparse_algo": "softmax_skip"}}}})J",
                       SPATTN_ERR_CHECKPOINT, "groups 'first' and 'second' are both skip-softmax groups"},
        BadCalibration{"BadFormula", used_formula(R"J({"formula": "a * exp(", "coefficients": {"a": 1}})J"),
                       SPATTN_ERR_FORMULA, kFormulaPath + ".formula"},
        BadCalibration{"UnknownNameInFormula",
                       used_formula(R"J({"formula": "a * exp(c * target_sparsity)", "coefficients": {"a": 1, "b": 2}})J"),
                       SPATTN_ERR_FORMULA, "'c'"},
        BadCalibration{"DecodeLacksACoefficientItUses",
                       used_formula(R"J({"formula": "a * b * target_sparsity", "prefill": {"a": 1, "b": 2}, "decode": {"a": 1}})J"),
                       SPATTN_ERR_FORMULA, "decode coefficients from " + kFormulaPath + ".decode: formula"},
        BadCalibration{"FormulaWithoutTarget", used_formula(R"J({"formula": "a * 2", "coefficients": {"a": 1}})J"),
                       SPATTN_ERR_FORMULA, "does not use target_sparsity, so every target would give the same threshold"},
        BadCalibration{"NaNResult", used_formula(R"J({"formula": "a * log(target_sparsity - 1)", "coefficients": {"a": 1}})J"),
                       SPATTN_ERR_FORMULA, "target_sparsity 0.5 from the checkpoint"},
        BadCalibration{"FormulaNotAString", used_formula(R"J({"formula": 3})J"), SPATTN_ERR_TYPE, kFormulaPath + ".formula"},
        BadCalibration{"FormulaMissing", used_formula(R"J({"coefficients": {"a": 1}})J"), SPATTN_ERR_MISSING_KEY,
                       "formula"},
        BadCalibration{"ThresholdNotAMapping", used_formula("5000"), SPATTN_ERR_TYPE, kFormulaPath + ": expected a mapping"},
        BadCalibration{"CoefficientNamedTarget",
                       used_formula(R"J({"formula": "target_sparsity", "coefficients": {"target_sparsity": 1}})J"),
                       SPATTN_ERR_FORMULA, "may not be named 'target_sparsity'"},
        BadCalibration{"CoefficientNotAnIdentifier",
                       used_formula(R"J({"formula": "target_sparsity", "coefficients": {"1a": 1}})J"),
                       SPATTN_ERR_FORMULA, "not an identifier"},
        BadCalibration{"CoefficientNotANumber",
                       used_formula(R"J({"formula": "a * target_sparsity", "coefficients": {"a": "1"}})J"),
                       SPATTN_ERR_TYPE, kFormulaPath + ".coefficients.a"},
        BadCalibration{"CoefficientNaN",
                       used_formula(R"J({"formula": "a * target_sparsity", "a": NaN})J"),
                       SPATTN_ERR_OUT_OF_RANGE, kFormulaPath + ".a: value nan is not finite"},
        BadCalibration{"TargetOutOfRange", skip_softmax_config(R"J("target_sparsity": 1.5)J"), SPATTN_ERR_OUT_OF_RANGE,
                       "sparse_attention_config.config_groups.group_0.target_sparsity"},
        BadCalibration{"PhaseTargetOutOfRange", skip_softmax_config(R"J("target_sparsity": {"prefill": 0.5, "decode": -0.1})J"),
                       SPATTN_ERR_OUT_OF_RANGE, "target_sparsity.decode"},
        BadCalibration{"CutoffOutOfRange", skip_softmax_config(R"J("disabled_until_timestep": 2)J"),
                       SPATTN_ERR_OUT_OF_RANGE, "disabled_until_timestep"},
        BadCalibration{"IgnoreNotAList", skip_softmax_config(R"J("ignore": "blocks.0")J"), SPATTN_ERR_TYPE, "ignore"},
        BadCalibration{"IgnoreItemNotAString", skip_softmax_config(R"J("ignore": ["a", 3])J"), SPATTN_ERR_TYPE,
                       "ignore[1]"},
        BadCalibration{"OuterIgnoreNotAList", R"J({"sparse_attention_config": {"ignore": {"a": 1}}})J", SPATTN_ERR_TYPE,
                       "sparse_attention_config.ignore: expected a list"},
        BadCalibration{"AlgorithmNotAString", R"J({"sparse_attention_config": {"config_groups": {"g": {"algorithm": 1}}}})J",
                       SPATTN_ERR_TYPE, "config_groups.g.algorithm"},
        BadCalibration{"GroupNotAMapping", R"J({"sparse_attention_config": {"config_groups": {"g": [1]}}})J",
                       SPATTN_ERR_TYPE, "config_groups.g"},
        BadCalibration{"GroupsNotAMapping", R"J({"sparse_attention_config": {"config_groups": []}})J", SPATTN_ERR_TYPE,
                       "config_groups"},
        BadCalibration{"SparseConfigNotAMapping", R"J({"sparse_attention_config": 3})J", SPATTN_ERR_TYPE,
                       "sparse_attention_config"},
        BadCalibration{"DuplicateKey", R"J({"sparse_attention_config": {}, "sparse_attention_config": {}})J",
                       SPATTN_ERR_DUPLICATE_KEY, "sparse_attention_config"},
        // Issue #11 item 9: the formula would otherwise be read as "a * target_sparsity".
        BadCalibration{"NulInFormula", used_formula(R"J({"formula": "a * target_sparsity\u0000 + 5", "a": 1})J"),
                       SPATTN_ERR_SYNTAX, "U+0000 in a string is not allowed"}),
    [](const ::testing::TestParamInfo<BadCalibration>& info) { return std::string(info.param.name); });

}  // namespace
