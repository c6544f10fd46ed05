// One vocabulary for enum values (issue #12 item 9): every name the library
// writes (spattn_model_to_json, spattn_config_to_json, the `spattn` tool,
// which all take it from src/core/enum_names) is the lowercase suffix of the
// value's C constant. The constants' own spellings come from the
// preprocessor here, so a renamed or added value cannot drift unnoticed.
#include <spattn/spattn.h>

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "core/enum_names.hpp"

namespace {

// "SPATTN_DISABLED_NOT_TARGET" with prefix "SPATTN_DISABLED_" -> "not_target".
std::string suffix(const char* constant, const char* prefix) {
  std::string name(constant);
  EXPECT_EQ(name.compare(0, std::string(prefix).size(), prefix), 0) << name;
  std::string out = name.substr(std::string(prefix).size());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

#define EXPECT_NAME(function, constant, prefix) \
  EXPECT_EQ(name_or_empty(function(constant)), suffix(#constant, prefix)) << #constant

std::string name_or_empty(const char* name) { return name != nullptr ? name : ""; }

TEST(EnumNames, EachNameIsTheLowercaseSuffixOfItsConstant) {
  EXPECT_NAME(spattn::algorithm_name, SPATTN_ALGORITHM_NONE, "SPATTN_ALGORITHM_");
  EXPECT_NAME(spattn::algorithm_name, SPATTN_ALGORITHM_SKIP_SOFTMAX, "SPATTN_ALGORITHM_");
  EXPECT_NAME(spattn::algorithm_name, SPATTN_ALGORITHM_ROCKET, "SPATTN_ALGORITHM_");
  EXPECT_NAME(spattn::algorithm_name, SPATTN_ALGORITHM_DSA, "SPATTN_ALGORITHM_");
  EXPECT_NAME(spattn::algorithm_name, SPATTN_ALGORITHM_VSA, "SPATTN_ALGORITHM_");
  EXPECT_NAME(spattn::phase_name, SPATTN_PHASE_PREFILL, "SPATTN_PHASE_");
  EXPECT_NAME(spattn::phase_name, SPATTN_PHASE_DECODE, "SPATTN_PHASE_");
  EXPECT_NAME(spattn::source_name, SPATTN_SOURCE_NONE, "SPATTN_SOURCE_");
  EXPECT_NAME(spattn::source_name, SPATTN_SOURCE_USER, "SPATTN_SOURCE_");
  EXPECT_NAME(spattn::source_name, SPATTN_SOURCE_CHECKPOINT, "SPATTN_SOURCE_");
  EXPECT_NAME(spattn::source_name, SPATTN_SOURCE_FORMULA, "SPATTN_SOURCE_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_NOT, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_NOT_CONFIGURED, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_IGNORED, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_TIMESTEP, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_NOT_TARGET, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::disabled_reason_name, SPATTN_DISABLED_ZERO_THRESHOLD, "SPATTN_DISABLED_");
  EXPECT_NAME(spattn::phase_key_name, SPATTN_PHASE_KEY_DENSE, "SPATTN_PHASE_KEY_");
  EXPECT_NAME(spattn::phase_key_name, SPATTN_PHASE_KEY_SPARSE, "SPATTN_PHASE_KEY_");
  EXPECT_NAME(spattn::kt_cache_dtype_name, SPATTN_KT_CACHE_FLOAT8_E5M2, "SPATTN_KT_CACHE_");
  EXPECT_NAME(spattn::kt_cache_dtype_name, SPATTN_KT_CACHE_BFLOAT16, "SPATTN_KT_CACHE_");
  EXPECT_NAME(spattn::indexer_k_dtype_name, SPATTN_INDEXER_K_FP8, "SPATTN_INDEXER_K_");
  EXPECT_NAME(spattn::indexer_k_dtype_name, SPATTN_INDEXER_K_FP4, "SPATTN_INDEXER_K_");
}

TEST(EnumNames, ValuesOutsideTheEnumHaveNoName) {
  EXPECT_EQ(spattn::algorithm_name(static_cast<spattn_algorithm>(5)), nullptr);
  EXPECT_EQ(spattn::disabled_reason_name(static_cast<spattn_disabled_reason>(6)), nullptr);
  EXPECT_EQ(spattn::source_name(SPATTN_SOURCE_MAX_ENUM), nullptr);
  EXPECT_EQ(spattn::phase_key_name(static_cast<spattn_phase_key>(2)), nullptr);
  EXPECT_EQ(spattn::phase_name(static_cast<spattn_phase>(2)), nullptr);
}

// The public spattn_algorithm_name is the same table.
TEST(EnumNames, PublicAlgorithmNameAgrees) {
  for (int a = 0; a <= 5; ++a) {
    auto algorithm = static_cast<spattn_algorithm>(a);
    EXPECT_EQ(name_or_empty(spattn_algorithm_name(algorithm)), name_or_empty(spattn::algorithm_name(algorithm))) << a;
  }
}

}  // namespace
