// Tests of the generic kernel-test support (kernel_check.hpp): the rounding
// units are what the formats do (tight, not off by 2x), the error bounds
// hold, a Verdict fails on what it must, layouts and poison checks see
// stray writes, the require-GPU switch turns a skip into a failure, and the
// mutation named in the environment is one some family knows. Built into
// both the unit and the GPU test programs.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "attention/half_float.hpp"
#include "attention/sparse_softmax.hpp"
#include "kernel_check.hpp"

namespace {

using namespace kernel_check;

// The largest relative rounding error of `round` over many random values is
// at most `unit` and reaches 0.99 of the largest possible, u / (1 + u) (just
// below a midpoint above a power of two): the unit is the format's.
template <class Round>
double worst_relative_rounding(Round&& round, double lo, double hi) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> exponent(std::log2(lo), std::log2(hi));
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = float(std::exp2(exponent(rng)));
    worst = std::max(worst, std::fabs(double(round(x)) - x) / x);
  }
  return worst;
}

TEST(KernelCheckUnits, StorageUnitsAreTheFormatsRoundingErrors) {
  using spattn::attention::bf16_to_float;
  using spattn::attention::float_to_bf16;
  using spattn::attention::float_to_fp16;
  using spattn::attention::fp16_to_float;
  const double bf = worst_relative_rounding([](float x) { return bf16_to_float(float_to_bf16(x)); }, 1e-3, 1e3);
  EXPECT_LE(bf, kBf16Unit);
  EXPECT_GT(bf, 0.99 * kBf16Unit / (1 + kBf16Unit));
  const double fp = worst_relative_rounding([](float x) { return fp16_to_float(float_to_fp16(x)); }, 1e-3, 1e3);
  EXPECT_LE(fp, kFp16Unit);
  EXPECT_GT(fp, 0.99 * kFp16Unit / (1 + kFp16Unit));
  // FP8 E4M3 (normal range, below its 448 maximum).
  const double e4m3 = worst_relative_rounding([](float x) { return spattn::attention::round_e4m3(x); }, 0.02, 400);
  EXPECT_LE(e4m3, kE4m3Unit);
  EXPECT_GT(e4m3, 0.99 * kE4m3Unit / (1 + kE4m3Unit));
  EXPECT_EQ(storage_format(SPATTN_DTYPE_BFLOAT16).unit, kBf16Unit);
  EXPECT_EQ(storage_format(SPATTN_DTYPE_FLOAT16).unit, kFp16Unit);
  // fp16 near 0: subnormal steps of 2^-24, so absolute errors up to 2^-25.
  const float tiny = float(0x1p-24 * 0.4999);
  EXPECT_EQ(fp16_to_float(float_to_fp16(tiny)), 0.0f);
  EXPECT_LE(double(tiny), storage_format(SPATTN_DTYPE_FLOAT16).abs_floor);
}

TEST(KernelCheckModel, DotAndLogSumExp) {
  const double a[] = {1.0, -2.0, 0.5}, b[] = {3.0, 1.0, -4.0};
  const Dot d = dot64(a, b, 3);
  EXPECT_EQ(d.value, 3.0 - 2.0 - 2.0);
  EXPECT_EQ(d.abs, 3.0 + 2.0 + 2.0);
  const double x[] = {1000.0, 1000.0, -INFINITY};
  EXPECT_NEAR(logsumexp64(x, 3), 1000.0 + std::log(2.0), 1e-12);  // no overflow
  const double none[] = {-INFINITY, -INFINITY};
  EXPECT_EQ(logsumexp64(none, 2), -INFINITY);
}

TEST(KernelCheckUnits, Fp32SumStaysWithinGamma) {
  std::mt19937 rng(2);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int len : {16, 128, 4096}) {
    std::vector<double> x(static_cast<size_t>(len));
    for (double& v : x) v = double(float(n(rng)));
    float sum = 0.0f;
    double exact = 0.0, abs = 0.0;
    for (double v : x) {
      sum += float(v);
      exact += v;
      abs += std::fabs(v);
    }
    EXPECT_LE(std::fabs(double(sum) - exact), gamma(len - 1, kFp32Unit) * abs) << len;
  }
  EXPECT_TRUE(std::isinf(gamma(1e9, 1.0)));
}

TEST(KernelCheckVerdict, FailsOnErrorsNansAndInfinities) {
  Verdict v("demo");
  EXPECT_TRUE(v.value(1.0, 1.0 + 1e-9, 1e-8, [] { return std::string("a"); }));
  EXPECT_TRUE(v.ok());
  EXPECT_LT(v.worst(), 1.0);
  EXPECT_FALSE(v.value(1.1, 1.0, 0.05, [] { return std::string("element 7"); }));
  EXPECT_FALSE(v.value(std::nan(""), 0.0, 1.0, [] { return std::string("unwritten"); }));
  EXPECT_TRUE(v.value(-INFINITY, -INFINITY, 0.0, [] { return std::string("b"); }));
  EXPECT_FALSE(v.value(-1e30, -INFINITY, 1.0, [] { return std::string("finite for -inf"); }));
  EXPECT_FALSE(v.value(INFINITY, 3.0, 1.0, [] { return std::string("inf for finite"); }));
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.failures(), 4u);
  EXPECT_EQ(v.checked(), 6u);
  const std::string report = v.report();
  EXPECT_NE(report.find("demo: 4 failure(s) in 6 value(s)"), std::string::npos) << report;
  EXPECT_NE(report.find("element 7: got 1.1, want 1 +- 0.05"), std::string::npos) << report;

  Verdict maps;
  same_map(maps, std::vector<uint8_t>{1, 2, 0}, std::vector<uint8_t>{1, 2, 0}, [](size_t i) { return std::to_string(i); });
  EXPECT_TRUE(maps.ok());
  same_map(maps, std::vector<uint8_t>{1, 1, 0}, std::vector<uint8_t>{1, 2, 0},
           [](size_t i) { return "tile " + std::to_string(i); });
  EXPECT_FALSE(maps.ok());
  EXPECT_NE(maps.report().find("tile 1: got 1, want 2"), std::string::npos) << maps.report();
}

TEST(KernelCheckLayout, StridesOfBothOrdersWithPadding) {
  const StridedLayout a = make_layout({Order::BSHD, 0}, 2, 5, 3, 64);
  EXPECT_EQ(a.head_stride, 64);
  EXPECT_EQ(a.token_stride, 3 * 64);
  EXPECT_EQ(a.batch_stride, 5 * 3 * 64);
  const StridedLayout b = make_layout({Order::BHSD, 8}, 2, 5, 3, 64);
  EXPECT_EQ(b.token_stride, 72);
  EXPECT_EQ(b.head_stride, 5 * 72 + 8);
  EXPECT_EQ(b.batch_stride, 3 * (5 * 72 + 8) + 8);
  // Every element has its own place inside the storage, and padding is left over.
  const std::vector<char> mask = element_mask(b, 2, 5, 3, 64, b.elems + 4);
  size_t marked = 0;
  for (char m : mask) marked += size_t(m);
  EXPECT_EQ(marked, size_t(2 * 5 * 3 * 64)) << "elements overlap";
  EXPECT_GT(b.elems, marked);
  EXPECT_EQ(a.elems, size_t(2 * 5 * 3 * 64));
  EXPECT_EQ(to_string(LayoutSpec{Order::BHSD, 8}), "bhsd+8");
}

TEST(KernelCheckPoison, WritesIntoPaddingOrGuardAreFound) {
  const StridedLayout l = make_layout({Order::BSHD, 8}, 1, 2, 2, 8);
  std::vector<uint16_t> out(l.elems + 4, kPoison16);
  const std::vector<char> mask = element_mask(l, 1, 2, 2, 8, out.size());
  for (size_t i = 0; i < out.size(); ++i)
    if (mask[i]) out[i] = 0x3f80;
  Verdict clean;
  untouched_outside(clean, out, mask, kPoison16);
  EXPECT_TRUE(clean.ok()) << clean.report();
  out[8] = 0;  // padding after head 0 of token 0
  out.back() = 0;  // guard
  Verdict dirty;
  untouched_outside(dirty, out, mask, kPoison16);
  EXPECT_FALSE(dirty.ok());
  EXPECT_NE(dirty.report().find("2 element(s) written outside"), std::string::npos) << dirty.report();
  EXPECT_TRUE(std::isnan(poison_f32()));
}

// The environment switches, set and restored around a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

void skip_or_fail_with_a_reason() { KERNEL_CHECK_SKIP_OR_FAIL("no usable CUDA device"); }

TEST(KernelCheckSwitches, RequireGpuTurnsASkipIntoAFailure) {
  {
    ScopedEnv env("SPATTN_TEST_REQUIRE_GPU", nullptr);
    EXPECT_FALSE(gpu_required());
  }
  {
    ScopedEnv env("SPATTN_TEST_REQUIRE_GPU", "0");
    EXPECT_FALSE(gpu_required());
  }
  ScopedEnv env("SPATTN_TEST_REQUIRE_GPU", "1");
  EXPECT_TRUE(gpu_required());
  EXPECT_FATAL_FAILURE(skip_or_fail_with_a_reason(), "no usable CUDA device (SPATTN_TEST_REQUIRE_GPU is set");
}

TEST(KernelCheckSwitches, ScopedMutationOverridesTheEnvironment) {
  ScopedEnv env("SPATTN_TEST_MUTATION", "from_env");
  EXPECT_EQ(active_mutation(), "from_env");
  {
    ScopedMutation m("inner");
    EXPECT_TRUE(mutation_active("inner"));
    EXPECT_FALSE(mutation_active("from_env"));
  }
  EXPECT_TRUE(mutation_active("from_env"));
  register_mutation("kernel_check_demo");
  register_mutation("kernel_check_demo");
  EXPECT_EQ(std::count(known_mutations().begin(), known_mutations().end(), "kernel_check_demo"), 1);
}

// SPATTN_TEST_MUTATION must name a mutation some family registered: a typo
// would otherwise run the suite unbroken and "show" that nothing fails.
TEST(KernelCheckSwitches, EnvironmentMutationIsKnown) {
  const std::string name = environment_mutation();
  if (name.empty()) return;
  const auto& known = known_mutations();
  std::string list;
  for (const std::string& k : known) list += " " + k;
  EXPECT_NE(std::find(known.begin(), known.end(), name), known.end())
      << "SPATTN_TEST_MUTATION=" << name << " is not a mutation of this program; known:" << list;
}

enum class Flavor { kPlain, kOdd };
const char* case_name(Flavor f) { return f == Flavor::kPlain ? "plain" : "odd-one"; }
KERNEL_CHECK_PRINT_BY_CASE_NAME(Flavor)
struct Named {
  const char* name;
};
KERNEL_CHECK_PRINT_BY_NAME(Named)

TEST(KernelCheckNames, CaseNamesJoinTupleElementsAndSanitize) {
  const CaseName gen;
  EXPECT_EQ(gen(::testing::TestParamInfo<Named>(Named{"gqa_77"}, 0)), "gqa_77");
  EXPECT_EQ(gen(::testing::TestParamInfo<std::tuple<Named, Flavor>>(std::make_tuple(Named{"a.b"}, Flavor::kOdd), 3)),
            "a_b_odd_one");
  EXPECT_EQ(::testing::PrintToString(Flavor::kOdd), "odd-one");
  EXPECT_EQ(::testing::PrintToString(std::make_tuple(Named{"x"}, Flavor::kPlain)), "(x, plain)");
}

}  // namespace
