// Generic pieces for testing a kernel (or its CPU reference) against an
// independent float64 model, shared by every kernel family's tests
// (prefill, decode, DSA, RocketKV, VSA). tests/README.md describes the
// pattern; tests/support/cuda_check.hpp has the device-side helpers.
//
//  - rounding units of the storage and accumulation formats, and the
//    classic error bounds built from them (tolerances are derived, never
//    tuned until a test passes);
//  - Verdict: a check that collects failures instead of asserting, so that
//    a test of the test can run the same check on a deliberately broken
//    kernel and expect it to fail;
//  - poison values for outputs, and a check that nothing outside the
//    logical elements of a strided output was written;
//  - strided tensor layouts (BSHD / BHSD, padded), so that every tensor of
//    a test can have its own layout;
//  - the require-GPU switch (SPATTN_TEST_REQUIRE_GPU=1 turns "no usable
//    GPU" and "kernel refused" skips into failures);
//  - mutation switches (SPATTN_TEST_MUTATION=<name>, or ScopedMutation in a
//    test of the test);
//  - names for parameterized suites (CaseName, KERNEL_CHECK_PRINT_BY_NAME).
#pragma once

#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace kernel_check {

// ---------------------------------------------------------------------------
// Rounding units. Round to nearest in a binary format with p significant bits
// (the implicit bit included) errs by at most u = 2^-p relative (half an ulp
// at 1): |fl(x) - x| <= u |x| for x in the normal range.

constexpr double kBf16Unit = 0x1p-8;   // bfloat16: 7 stored mantissa bits + 1 -> 2^-8
constexpr double kFp16Unit = 0x1p-11;  // binary16: 10 + 1 -> 2^-11
constexpr double kFp32Unit = 0x1p-24;  // binary32: 23 + 1 -> 2^-24 (IEEE add, mul, fma, div)
constexpr double kE4m3Unit = 0x1p-4;   // FP8 E4M3: 3 + 1 -> 2^-4
// Tensor-core fp32 accumulation (mma.sync, wgmma): the bf16/fp16 products
// are exact in fp32 (8 + 8 or 11 + 11 significant bits <= 24), but the adder
// aligns its operands by truncation and may round toward zero, so an addition
// errs by up to one ulp, 2^-23 relative, not half of one.
constexpr double kTensorCoreAccumUnit = 0x1p-23;
// MUFU.EX2 (PTX ex2.approx.f32, what the kernels' fast_exp2 compiles to):
// at most 2 ulp from the correctly rounded result (PTX ISA, ex2), which is
// itself within half an ulp, and an ulp is at most 2^-23 relative.
constexpr double kEx2ApproxRel = 2.5 * 0x1p-23;
// The smallest positive subnormals; half of one is the absolute rounding
// error near 0 (fp16's matters: 2^-24; bfloat16 shares fp32's range).
constexpr double kFp16SmallestSubnormal = 0x1p-24;
constexpr double kBf16SmallestSubnormal = 0x1p-133;

// A 16-bit storage format (inputs, outputs, P in P.V) of the kernels.
struct StorageFormat {
  const char* name;
  double unit;       // relative rounding error
  double abs_floor;  // absolute rounding error near 0 (half the smallest subnormal)
};

inline StorageFormat storage_format(spattn_dtype dtype) {
  if (dtype == SPATTN_DTYPE_FLOAT16) return {"fp16", kFp16Unit, kFp16SmallestSubnormal / 2};
  return {"bf16", kBf16Unit, kBf16SmallestSubnormal / 2};
}

// gamma_n = n u / (1 - n u) (Higham, Accuracy and Stability of Numerical
// Algorithms, 3.1): a sum of n + 1 terms, or a dot product of length n, in
// any order, errs by at most gamma_n * sum |terms| when each operation errs
// by at most u relative.
inline double gamma(double n, double u) {
  const double nu = n * u;
  return nu < 0.5 ? nu / (1.0 - nu) : std::numeric_limits<double>::infinity();
}

// ---------------------------------------------------------------------------
// float64 model arithmetic.

// A dot product in float64 and its condition term sum |a_i b_i|: an fp32
// dot product of length n (any order) errs by at most gamma(n, u) * abs.
struct Dot {
  double value = 0.0;
  double abs = 0.0;
};

inline Dot dot64(const double* a, const double* b, int n) {
  Dot d;
  for (int i = 0; i < n; ++i) {
    d.value += a[i] * b[i];
    d.abs += std::fabs(a[i] * b[i]);
  }
  return d;
}

// log(sum exp(x_i)), -inf when there is no finite term.
inline double logsumexp64(const double* x, size_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -std::numeric_limits<double>::infinity()) return mx;
  double z = 0.0;
  for (size_t i = 0; i < n; ++i) z += std::exp(x[i] - mx);
  return mx + std::log(z);
}

// ---------------------------------------------------------------------------
// Verdict: the outcome of one check, kept rather than asserted. A test does
//   EXPECT_TRUE(v.ok()) << v.report();
// and a test of the test runs the same check on a mutated kernel and
// expects !v.ok().

class Verdict {
 public:
  explicit Verdict(std::string what = "check") : what_(std::move(what)) {}

  // Compares one value: it passes when |got - want| <= tol; a NaN `got`
  // (an unwritten, poisoned output) never passes; an infinite `want` needs
  // exactly the same infinity. `where()` is only called on failure.
  template <class Where>
  bool value(double got, double want, double tol, Where&& where) {
    ++checked_;
    bool ok;
    double ratio;
    if (std::isinf(want) || std::isinf(got)) {
      ok = got == want;
      ratio = ok ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (std::isnan(got) || std::isnan(want)) {
      ok = false;
      ratio = std::numeric_limits<double>::infinity();
    } else {
      const double err = std::fabs(got - want);
      ratio = tol > 0 ? err / tol : (err == 0 ? 0.0 : std::numeric_limits<double>::infinity());
      ok = err <= tol;
    }
    worst_ = std::max(worst_, ratio);
    if (!ok) {
      std::ostringstream line;
      line.precision(9);
      line << where() << ": got " << got << ", want " << want << " +- " << tol;
      add(line.str());
    }
    return ok;
  }

  // A failure that is not a numeric comparison (a count or a map differs).
  void fail(const std::string& message) { add(message); }

  bool ok() const { return failures_ == 0; }
  size_t failures() const { return failures_; }
  size_t checked() const { return checked_; }
  // Largest |got - want| / tol seen (<= 1 when every value passed).
  double worst() const { return worst_; }

  std::string report() const {
    std::ostringstream os;
    os << what_ << ": " << failures_ << " failure(s) in " << checked_ << " value(s), worst error "
       << worst_ << "x the tolerance";
    for (const std::string& line : lines_) os << "\n  " << line;
    if (failures_ > lines_.size()) os << "\n  ... " << failures_ - lines_.size() << " more";
    return os.str();
  }

 private:
  static constexpr size_t kMaxLines = 8;
  void add(std::string line) {
    if (lines_.size() < kMaxLines) lines_.push_back(std::move(line));
    ++failures_;
  }

  std::string what_;
  std::vector<std::string> lines_;
  size_t failures_ = 0, checked_ = 0;
  double worst_ = 0.0;
};

// Two decision maps (per-tile or per-block decisions a kernel reports
// through a test hook) must be equal element by element.
template <class T, class Where>
void same_map(Verdict& v, const std::vector<T>& got, const std::vector<T>& want, Where&& where) {
  if (got.size() != want.size()) {
    v.fail("map sizes differ: " + std::to_string(got.size()) + " vs " + std::to_string(want.size()));
    return;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      v.fail(where(i) + ": got " + std::to_string(int64_t(got[i])) + ", want " + std::to_string(int64_t(want[i])));
    }
  }
}

// ---------------------------------------------------------------------------
// Poison. Outputs are filled with NaN before a launch, so that an element the
// kernel did not write fails the comparison.

constexpr uint16_t kPoison16 = 0xffff;      // NaN in both bfloat16 and binary16
constexpr uint32_t kPoison32 = 0xffffffffu;  // NaN in binary32

inline float poison_f32() {
  float f;
  std::memcpy(&f, &kPoison32, sizeof f);
  return f;
}

// Elements of `buffer` not marked in `is_element` (padding between rows,
// heads and batches of a strided output, and a guard region after it) must
// still hold `poison`: the kernel wrote nowhere else.
template <class T>
void untouched_outside(Verdict& v, const std::vector<T>& buffer, const std::vector<char>& is_element, T poison) {
  size_t written = 0, first = 0;
  for (size_t i = 0; i < buffer.size(); ++i) {
    if ((i >= is_element.size() || !is_element[i]) && buffer[i] != poison && written++ == 0) first = i;
  }
  if (written > 0) {
    v.fail(std::to_string(written) + " element(s) written outside the output's elements (padding or guard), first at " +
           std::to_string(first));
  }
}

// ---------------------------------------------------------------------------
// Strided [batch][token][head][dim] tensors with the head dimension
// contiguous, in either order, padded: `pad` elements are added to each
// stride beyond what the inner dimensions need, so rows, heads and batches
// have gaps between them (a multiple of 8 keeps 16-byte rows aligned).

enum class Order { BSHD, BHSD };

struct LayoutSpec {
  Order order = Order::BSHD;
  int pad = 0;
};

inline std::string to_string(const LayoutSpec& s) {
  return std::string(s.order == Order::BSHD ? "bshd" : "bhsd") + (s.pad ? "+" + std::to_string(s.pad) : "");
}

struct StridedLayout {
  int64_t batch_stride = 0, token_stride = 0, head_stride = 0;  // elements
  size_t elems = 0;  // storage size, padding included
  size_t offset(int64_t b, int64_t t, int64_t h) const {
    return size_t(b * batch_stride + t * token_stride + h * head_stride);
  }
  void strides(int64_t out[3]) const {
    out[0] = batch_stride;
    out[1] = token_stride;
    out[2] = head_stride;
  }
};

inline StridedLayout make_layout(const LayoutSpec& spec, int batch, int tokens, int heads, int dim) {
  StridedLayout l;
  if (spec.order == Order::BSHD) {
    l.head_stride = dim + spec.pad;
    l.token_stride = heads * l.head_stride + spec.pad;
    l.batch_stride = tokens * l.token_stride + spec.pad;
  } else {
    l.token_stride = dim + spec.pad;
    l.head_stride = tokens * l.token_stride + spec.pad;
    l.batch_stride = heads * l.head_stride + spec.pad;
  }
  l.elems = size_t(batch) * size_t(l.batch_stride);
  return l;
}

// Marks the logical elements of a layout (for untouched_outside).
inline std::vector<char> element_mask(const StridedLayout& l, int batch, int tokens, int heads, int dim,
                                      size_t buffer_elems) {
  std::vector<char> mask(buffer_elems, 0);
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < tokens; ++t)
      for (int h = 0; h < heads; ++h) std::fill_n(mask.begin() + long(l.offset(b, t, h)), dim, char(1));
  return mask;
}

// ---------------------------------------------------------------------------
// The require-GPU switch. In CI (no GPU) GPU tests skip with a message; on
// the device, SPATTN_TEST_REQUIRE_GPU=1 (bench/device_run.sh sets it) makes
// every such skip a failure, so a run that silently tested nothing cannot
// pass.

inline bool gpu_required() {
  const char* v = std::getenv("SPATTN_TEST_REQUIRE_GPU");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

// Skips the current test with `reason`, or fails it when a GPU is required.
// Use for "no usable GPU" and "the kernel refused this problem".
#define KERNEL_CHECK_SKIP_OR_FAIL(reason)                                                      \
  do {                                                                                         \
    const std::string kernel_check_reason_ = (reason);                                         \
    if (::kernel_check::gpu_required()) {                                                      \
      GTEST_FAIL() << kernel_check_reason_ << " (SPATTN_TEST_REQUIRE_GPU is set: not skipped)"; \
    } else {                                                                                   \
      GTEST_SKIP() << kernel_check_reason_;                                                    \
    }                                                                                          \
  } while (0)

// ---------------------------------------------------------------------------
// Mutation switches: a named, deliberate corruption of what a kernel reads
// or writes, applied by the family's test support where it launches the
// kernel. The active mutation is SPATTN_TEST_MUTATION from the environment
// (run a whole suite broken: every affected test must fail) or, inside a
// test of the test, a ScopedMutation. Each family registers its names
// (register_mutation), so a misspelt name in the environment is reported
// instead of silently testing nothing.

inline std::vector<std::string>& known_mutations() {
  static std::vector<std::string> names;
  return names;
}

// Returns true so that it can initialize an inline variable at namespace scope.
inline bool register_mutation(const char* name) {
  auto& names = known_mutations();
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return true;
}

inline std::string& scoped_mutation_slot() {
  static std::string slot;
  return slot;
}

inline std::string environment_mutation() {
  const char* v = std::getenv("SPATTN_TEST_MUTATION");
  return v == nullptr ? std::string() : std::string(v);
}

// The mutation in force: a ScopedMutation's, else the environment's, else "".
inline std::string active_mutation() {
  return scoped_mutation_slot().empty() ? environment_mutation() : scoped_mutation_slot();
}

inline bool mutation_active(const char* name) { return active_mutation() == name; }

class ScopedMutation {
 public:
  explicit ScopedMutation(const char* name) : previous_(scoped_mutation_slot()) { scoped_mutation_slot() = name; }
  ~ScopedMutation() { scoped_mutation_slot() = previous_; }
  ScopedMutation(const ScopedMutation&) = delete;
  ScopedMutation& operator=(const ScopedMutation&) = delete;

 private:
  std::string previous_;
};

// ---------------------------------------------------------------------------
// Names of parameterized cases, for gtest and ctest. Every parameterized
// suite gets a name generator (the default numbers cases, and CMake's test
// discovery would otherwise paste the parameter's raw bytes, uninitialized
// padding included, into the ctest name) and its parameter type a PrintTo.
//
//   struct MyCase { const char* name; ... };
//   KERNEL_CHECK_PRINT_BY_NAME(MyCase)
//   enum class Path { ... };  const char* case_name(Path);
//   KERNEL_CHECK_PRINT_BY_CASE_NAME(Path)
//   INSTANTIATE_TEST_SUITE_P(Cases, MySuite, ::testing::Values(...), kernel_check::CaseName());
//
// CaseName names a case by its `name` member, an enum by case_name(value)
// (found by argument-dependent lookup), a tuple by its elements joined with
// '_'; characters other than [A-Za-z0-9_] become '_'.

#define KERNEL_CHECK_PRINT_BY_NAME(Type) \
  inline void PrintTo(const Type& value, std::ostream* os) { *os << value.name; }
// The same for an enum with a case_name(Enum) function.
#define KERNEL_CHECK_PRINT_BY_CASE_NAME(Enum) \
  inline void PrintTo(Enum value, std::ostream* os) { *os << case_name(value); }

namespace detail {

template <class T, class = void>
struct HasName : std::false_type {};
template <class T>
struct HasName<T, std::void_t<decltype(std::declval<const T&>().name)>> : std::true_type {};

template <class T>
std::string part_name(const T& value) {
  if constexpr (HasName<T>::value) {
    return std::string(value.name);
  } else {
    return std::string(case_name(value));
  }
}

template <class... T, size_t... I>
std::string tuple_name(const std::tuple<T...>& t, std::index_sequence<I...>) {
  std::string name;
  ((name += (I == 0 ? "" : "_") + part_name(std::get<I>(t))), ...);
  return name;
}

template <class T>
std::string param_name(const T& value) {
  return part_name(value);
}
template <class... T>
std::string param_name(const std::tuple<T...>& value) {
  return tuple_name(value, std::index_sequence_for<T...>{});
}

}  // namespace detail

struct CaseName {
  template <class P>
  std::string operator()(const ::testing::TestParamInfo<P>& info) const {
    std::string name = detail::param_name(info.param);
    for (char& c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) c = '_';
    }
    return name;
  }
};

}  // namespace kernel_check
