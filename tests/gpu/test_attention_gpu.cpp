// GPU tests of the prefill attention kernels (tests/README.md describes the
// pattern): every case runs three ways, through the public API (the
// dispatcher's choice) and through each kernel forced (mma.sync; the sm_90a
// wgmma/TMA kernel), and is checked against the independent float64 model of
// attention_test_support.hpp: output and LSE with tolerances derived from the
// kernels' arithmetic, the map of skipped tiles (the kernels' test hook; the
// forced paths), the counters, and nothing written outside the output (whose
// padding and a guard region are poisoned). Skip cases also assert that the
// output does NOT match dense attention. Every tensor has its own layout;
// some cases use a softmax scale other than the default. N:M sparse softmax
// and NVFP4 P (GpuAttentionExtras) run on both kernels.
//
// Without a GPU the tests skip with a message; SPATTN_TEST_REQUIRE_GPU=1 (the
// device run) makes every skip, and a kernel refusing a problem it should
// run, a failure. Tests of the test: GpuAttentionMutation runs each mutation
// of the test support on the kernels and expects the check to fail. The
// GpuAttentionInputs tests need no GPU: they show on every case that the
// decisions are far from their boundaries, that skipping moves the output
// far beyond the tolerance, and that the CPU reference passes the same check.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "../unit/attention_test_support.hpp"
#include "attention/attention_cuda.hpp"
#include "attention/attention_problem.hpp"
#include "core/error.hpp"
#include "cuda_check.hpp"

namespace {

using namespace attention_test;
using kernel_check::DeviceBuffer;
using spattn::attention::KernelPath;

// How a test launches: kApi through spattn_attention_forward (no decision
// map: the public API has no hook), the others through the internal
// launcher with a kernel forced.
enum class Path { kApi, kMma, kSm90 };
const char* case_name(Path p) { return p == Path::kApi ? "api" : p == Path::kMma ? "mma" : "sm90"; }
KERNEL_CHECK_PRINT_BY_CASE_NAME(Path)

spattn_status launch(const spattn_attention_args& a, cudaStream_t stream, Path path, uint8_t* decisions,
                     std::string* error) {
  try {
    if (path == Path::kApi) {
      const spattn_status st = spattn_attention_forward(&a, stream);
      if (st != SPATTN_OK) *error = spattn_last_error();
      return st;
    }
    spattn::attention::Problem problem = spattn::attention::resolve_problem(&a, "test");
    spattn::attention::check_kernel_alignment(problem, "test");
    problem.tile_decisions = decisions;
    spattn::attention::launch_forward_cuda(problem, stream, "test",
                                           path == Path::kMma ? KernelPath::kMmaSync : KernelPath::kSm90);
    return SPATTN_OK;
  } catch (const spattn::Error& e) {
    *error = e.what();
    return e.status();
  }
}

// Runs the kernel on `h` (optionally captured into a CUDA graph and
// replayed), outputs poisoned, the active mutation applied.
RunOutput run_kernel(const Host& h, const Params& p, Path path, bool graph = false) {
  RunOutput r;
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), out(h.out_elems() + kGuard);
  DeviceBuffer<float> lse(lse_size(h));
  DeviceBuffer<int32_t> cu_q(h.cu_q.empty() ? std::vector<int32_t>{0} : h.cu_q);
  DeviceBuffer<int32_t> cu_kv(h.cu_kv.empty() ? std::vector<int32_t>{0} : h.cu_kv);
  DeviceBuffer<unsigned long long> counters(2);
  DeviceBuffer<uint8_t> decisions(decision_map_size(h));
  out.fill_bytes(0xff);  // NaN in bf16 and fp16
  lse.fill_bytes(0xff);  // NaN
  counters.fill_bytes(0);
  decisions.fill_bytes(spattn::attention::kTileNotVisited);
  Launch l;
  plan_launch(l, h, p, q.get(), k.get(), v.get(), out.get(), cu_q.get(), cu_kv.get(), lse.get(), counters.get());
  uint8_t* map = path == Path::kApi ? nullptr : decisions.get();
  kernel_check::Stream stream;
  auto enqueue = [&](cudaStream_t s) { return launch(l.args, s, path, map, &r.error); };
  r.status = graph ? kernel_check::capture_and_replay(stream, enqueue, SPATTN_OK) : enqueue(stream.get());
  if (r.status == SPATTN_OK && l.lse_from_dense) {
    // lse_over_all_keys: the LSE of a dense run over the kept run's.
    DeviceBuffer<uint16_t> scratch(h.out_elems() + kGuard);
    const spattn_attention_args dense = l.dense_rerun(scratch.get());
    std::string ignored;
    r.status = launch(dense, stream.get(), path, nullptr, &ignored);
    stream.sync();
  }
  stream.sync();
  r.out = out.download();
  r.lse = lse.download();
  const std::vector<unsigned long long> c = counters.download();
  r.counters[0] = c[0];
  r.counters[1] = c[1];
  if (map != nullptr) r.decisions = decisions.download();
  return r;
}

// A case: shape (with every tensor's layout), inputs, threshold, scale.
struct Case {
  const char* name;
  Shape shape;
  Fill fill;
  double threshold;
  float softmax_scale = 0.0f;
  bool totals = true;  // packed: pass total_q/total_kv (false: 0, the mma.sync fallback)
  Params params() const {
    Params p;
    p.threshold = threshold;
    p.softmax_scale = softmax_scale;
    p.totals = totals;
    return p;
  }
};
KERNEL_CHECK_PRINT_BY_NAME(Case)

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;

const Case kCases[] = {
    {"gqa_77", shape(BF, 128, 2, 4, 2, 77, 77, false, kMixed), Fill::Random, 0.0},
    {"mqa_1x1000_mixed2", shape(FP, 64, 1, 2, 1, 1, 1000, false, kMixed2), Fill::Random, 0.0},
    {"causal_1000", shape(BF, 64, 1, 2, 2, 1000, 1000, true, kMixed), Fill::SkipSensitive, 5.0},
    {"causal_300x1000_bhsd_scale", shape(FP, 128, 1, 2, 2, 300, 1000, true, kBhsd), Fill::SkipSensitive, 2.0, 0.06f},
    {"causal_1000x300", shape(BF, 128, 1, 2, 1, 1000, 300, true, kMixed2), Fill::Random, 0.0},
    {"varlen_causal", shape_packed(BF, 128, 2, 1, {1, 77, 1000, 256}, {1, 77, 1000, 256}, true, kMixed),
     Fill::SkipSensitive, 3.0},
    {"varlen_cross", shape_packed(FP, 64, 2, 1, {77, 5, 300}, {1000, 129, 1}, false, kMixed2), Fill::SkipSensitive,
     4.0},
    {"varlen_gqa_empty", shape_packed(BF, 128, 2, 1, {300, 1300, 0, 513}, {700, 1300, 5, 513}, false, kMixed),
     Fill::SkipSensitive, 10.0},
    {"varlen_causal_qgtk", shape_packed(FP, 128, 2, 1, {200, 50, 700}, {100, 300, 700}, true, kMixed2), Fill::Random,
     0.0},
    {"varlen_no_totals", shape_packed(BF, 64, 2, 1, {130, 7, 400}, {200, 129, 400}, true, kMixed),
     Fill::SkipSensitive, 3.0, 0.0f, false},
    {"dense_random_1024", shape(BF, 128, 1, 4, 2, 1024, 1024, false), Fill::Random, 0.0},
    {"skip_1024_bhsd", shape(BF, 128, 1, 4, 2, 1024, 1024, false, kBhsd), Fill::SkipSensitive, 10.0},
    {"dense_fp16_d64_600x700_scale", shape(FP, 64, 2, 4, 4, 600, 700, false, kMixed), Fill::Random, 0.0, 0.2f},
    {"skip_fp16_d128_causal_gqa", shape(FP, 128, 1, 8, 2, 900, 1300, true, kMixed2), Fill::SkipSensitive, 6.0},
};

// Inputs and float64 models, computed once per case and shared by its paths.
const Host& host_of(const Case& c) {
  static std::map<std::string, Host> hosts;
  auto it = hosts.find(c.name);
  if (it == hosts.end()) {
    Host h = make_host(c.shape);
    fill(h, c.fill, 99u + unsigned(c.shape.dim + c.shape.lq), c.threshold, c.softmax_scale);
    it = hosts.emplace(c.name, std::move(h)).first;
  }
  return it->second;
}

const Expected& model_of(const Case& c, bool dense = false) {
  static std::map<std::string, Expected> models;
  const std::string key = std::string(c.name) + (dense ? "/dense" : "");
  auto it = models.find(key);
  if (it == models.end()) {
    it = models.emplace(key, expected(host_of(c), c.softmax_scale, dense ? 0.0 : c.threshold)).first;
  }
  return it->second;
}

// A run's output replaced by a model's, rounded to storage (what a kernel
// computing that model exactly would produce).
RunOutput as_run(const Host& h, const Expected& e) {
  RunOutput r;
  r.out.assign(h.out_elems() + kGuard, kernel_check::kPoison16);
  r.lse.assign(lse_size(h), 0.0f);
  for_each_q_row(h, [&](int b, int i, int hh) {
    for (int d = 0; d < h.shape.dim; ++d)
      r.out[h.o_index(b, i, hh) + size_t(d)] =
          float_to_storage(float(e.out[e.index(h, b, i, hh) + size_t(d)]), h.shape.bf16());
    r.lse[lse_index(h, b, hh, i)] = float(e.lse[e.row(h, b, i, hh)]);
  });
  r.decisions = e.decisions;
  r.counters[0] = e.visited;
  r.counters[1] = e.skipped;
  return r;
}

// The sm_90a kernel refusing a problem: expected for a packed batch without
// its token totals; otherwise (not an sm_90 device) a skip, a failure on the
// device run. Returns true when the test is over.
bool handled_refusal(const RunOutput& g, Path path, const Shape& shape, bool totals) {
  if (path != Path::kSm90) return false;
  if (shape.packed() && !totals) {
    // The public API then runs the mma.sync kernel: the _api variant.
    EXPECT_EQ(g.status, SPATTN_ERR_UNSUPPORTED) << "a packed batch without token totals ran on the sm_90a kernel";
    return true;
  }
  return false;
}

#define SKIP_OR_FAIL_ON_SM90_REFUSAL(g, path)                                                               \
  do {                                                                                                      \
    if ((path) == Path::kSm90 && (g).status == SPATTN_ERR_UNSUPPORTED)                                      \
      KERNEL_CHECK_SKIP_OR_FAIL("the sm_90a kernel refused (not an sm_90 device?): " + (g).error);          \
  } while (0)

class GpuAttention : public ::testing::TestWithParam<std::tuple<Case, Path>> {};

TEST_P(GpuAttention, MatchesFloat64AndItsDecisions) {
  KERNEL_CHECK_REQUIRE_GPU();
  const Case& c = std::get<0>(GetParam());
  const Path path = std::get<1>(GetParam());
  const Host& h = host_of(c);
  const RunOutput g = run_kernel(h, c.params(), path);
  if (handled_refusal(g, path, c.shape, c.totals)) return;
  SKIP_OR_FAIL_ON_SM90_REFUSAL(g, path);
  ASSERT_EQ(g.status, SPATTN_OK) << g.error;
  const Checks checks = check_run(h, model_of(c), g, kKernelArithmetic, c.softmax_scale);
  EXPECT_TRUE(checks.ok()) << checks.report();
  if (c.threshold > 0) {
    // Not vacuous: a kernel that did not skip would fail the output check.
    const Checks dense = check_run(h, model_of(c, true), g, kKernelArithmetic, c.softmax_scale);
    EXPECT_FALSE(dense.out.ok()) << "the output also matches dense attention";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuAttention,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(Path::kApi, Path::kMma, Path::kSm90)),
                         kernel_check::CaseName());

// No GPU needed: the inputs of every case make its checks decisive.
class GpuAttentionInputs : public ::testing::TestWithParam<Case> {};

TEST_P(GpuAttentionInputs, AreDecisiveAndTheCpuReferencePasses) {
  const Case& c = GetParam();
  const Host& h = host_of(c);
  const Expected& e = model_of(c);
  if (c.threshold > 0) {
    EXPECT_GT(e.skipped, 0u) << "this case is meant to skip tiles";
    EXPECT_LT(e.skipped, e.visited) << "this case is meant to keep some tiles too";
    EXPECT_GT(e.decision_margin, 1.0) << "a skip decision lies within float32 noise of its boundary";
    const Checks dense = check_run(h, e, as_run(h, model_of(c, true)), kKernelArithmetic, c.softmax_scale);
    EXPECT_GT(dense.out.worst(), 4.0) << "skipping moves the output too little to be seen";
  }
  const RunOutput r = run_reference(h, c.params());
  ASSERT_EQ(r.status, SPATTN_OK) << r.error;
  const Checks checks = check_run(h, e, r, kKernelArithmetic, c.softmax_scale);
  EXPECT_TRUE(checks.ok()) << checks.report();
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuAttentionInputs, ::testing::ValuesIn(kCases), kernel_check::CaseName());

// Launches are deterministic: repeated launches and a CUDA-graph replay give
// bit-identical results, which also match the model.
class GpuAttentionLaunch : public ::testing::TestWithParam<Path> {};

TEST_P(GpuAttentionLaunch, GraphCaptureAndRepeatsAreBitwiseIdentical) {
  KERNEL_CHECK_REQUIRE_GPU();
  const Path path = GetParam();
  Host h = make_host(shape(BF, 128, 1, 4, 2, 700, 900, true, kMixed));
  fill_skip_sensitive(h, 5, 3.0);
  Params p;
  p.threshold = 3.0;
  const RunOutput a = run_kernel(h, p, path), b = run_kernel(h, p, path), g = run_kernel(h, p, path, true);
  SKIP_OR_FAIL_ON_SM90_REFUSAL(a, path);
  ASSERT_EQ(a.status, SPATTN_OK) << a.error;
  ASSERT_EQ(g.status, SPATTN_OK) << g.error;
  EXPECT_EQ(a.out, b.out) << "two launches differ: a race?";
  EXPECT_EQ(a.out, g.out) << "graph replay differs from a direct launch";
  EXPECT_EQ(a.lse, g.lse);
  EXPECT_EQ(a.decisions, g.decisions);
  EXPECT_EQ(a.counters[1], g.counters[1]);
  const Checks checks = check_run(h, expected(h, 0.0f, 3.0), a, kKernelArithmetic, 0.0f);
  EXPECT_TRUE(checks.ok()) << checks.report();
}

INSTANTIATE_TEST_SUITE_P(Paths, GpuAttentionLaunch, ::testing::Values(Path::kApi, Path::kMma, Path::kSm90),
                         kernel_check::CaseName());

// The two kernels compute the same function: both match the model, they
// skip exactly the same tiles, and their outputs agree element by element
// within the sum of their tolerances.
TEST(GpuAttentionKernels, Sm90MatchesMmaSync) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = make_host(shape(BF, 128, 2, 4, 2, 1000, 1500, false, kMixed2));
  fill_skip_sensitive(h, 11, 8.0);
  Params p;
  p.threshold = 8.0;
  const RunOutput m = run_kernel(h, p, Path::kMma);
  const RunOutput s = run_kernel(h, p, Path::kSm90);
  SKIP_OR_FAIL_ON_SM90_REFUSAL(s, Path::kSm90);
  ASSERT_EQ(m.status, SPATTN_OK) << m.error;
  ASSERT_EQ(s.status, SPATTN_OK) << s.error;
  const Expected e = expected(h, 0.0f, 8.0);
  ASSERT_GT(e.skipped, 0u);
  for (const RunOutput* r : {&m, &s}) {
    const Checks checks = check_run(h, e, *r, kKernelArithmetic, 0.0f);
    EXPECT_TRUE(checks.ok()) << (r == &m ? "mma.sync: " : "sm_90a: ") << checks.report();
  }
  EXPECT_EQ(m.decisions, s.decisions);
  EXPECT_EQ(m.counters[0], s.counters[0]);
  EXPECT_EQ(m.counters[1], s.counters[1]);
  kernel_check::Verdict agree("sm_90a vs mma.sync output");
  const double scale = 1.0 / std::sqrt(128.0);
  for_each_q_row(h, [&](int b, int i, int hh) {
    const size_t row = e.row(h, b, i, hh);
    for (int d = 0; d < 128; ++d) {
      const size_t x = e.index(h, b, i, hh) + size_t(d);
      const double tol =
          2.0 * attention_tolerance(kKernelArithmetic, BF, e.out[x], e.abs_out[x], e.p_round[x],
                                    row_logit_err(kKernelArithmetic, e, row, 128, scale), e.kept_keys[row],
                                    e.kept_tiles[row], e.slack[row]);
      agree.value(h.out_at(s.out, b, i, hh, d), h.out_at(m.out, b, i, hh, d), tol,
                  [&] { return "token " + std::to_string(i) + " head " + std::to_string(hh); });
    }
  });
  EXPECT_TRUE(agree.ok()) << agree.report();
}

// ---------------------------------------------------------------------------
// Tests of the test on the kernels: each mutation of the test support must
// fail the check, in the verdict it targets (the decision map only where
// the path records one). The case skips tiles, is packed, gives every tensor
// its own layout and uses a softmax scale other than the default.

const Case kMutationCase{"mutation_case",
                         shape_packed(BF, 128, 4, 2, {300, 129, 40}, {900, 700, 300}, false, kMixed),
                         Fill::SkipSensitive, 4.0, 0.07f};

class GpuAttentionMutation : public ::testing::TestWithParam<std::tuple<MutationCase, Path>> {};

TEST_P(GpuAttentionMutation, FailsTheCheck) {
  KERNEL_CHECK_REQUIRE_GPU();
  const MutationCase& m = std::get<0>(GetParam());
  const Path path = std::get<1>(GetParam());
  const Host& h = host_of(kMutationCase);
  const Expected& e = model_of(kMutationCase);
  RunOutput g;
  {
    kernel_check::ScopedMutation mutation(m.name);
    g = run_kernel(h, kMutationCase.params(), path);
  }
  SKIP_OR_FAIL_ON_SM90_REFUSAL(g, path);
  ASSERT_EQ(g.status, SPATTN_OK) << g.error;
  const Checks c = check_run(h, e, g, kKernelArithmetic, kMutationCase.softmax_scale);
  EXPECT_FALSE(c.ok()) << m.name << " went unnoticed";
  if (m.out) EXPECT_FALSE(c.out.ok()) << "the output check alone must catch " << m.name;
  if (m.lse) EXPECT_FALSE(c.lse.ok()) << "the LSE check alone must catch " << m.name;
  if (m.decisions && path != Path::kApi) EXPECT_FALSE(c.decisions.ok()) << "the decision map must catch " << m.name;
}

TEST(GpuAttentionMutation, UnmutatedKernelsPass) {
  KERNEL_CHECK_REQUIRE_GPU();
  const Host& h = host_of(kMutationCase);
  for (Path path : {Path::kApi, Path::kMma, Path::kSm90}) {
    const RunOutput g = run_kernel(h, kMutationCase.params(), path);
    SKIP_OR_FAIL_ON_SM90_REFUSAL(g, path);
    ASSERT_EQ(g.status, SPATTN_OK) << g.error;
    const Checks c = check_run(h, model_of(kMutationCase), g, kKernelArithmetic, kMutationCase.softmax_scale);
    EXPECT_TRUE(c.ok()) << case_name(path) << ": " << c.report();
  }
}

// No GPU needed: the case is decisive, and each mutation applied to the CPU
// reference already fails the check where the kernels' must.
TEST(GpuAttentionMutationInputs, EachMutationFailsOnTheCpuReference) {
  const Host& h = host_of(kMutationCase);
  const Expected& e = model_of(kMutationCase);
  EXPECT_GT(e.skipped, 0u);
  EXPECT_GT(e.decision_margin, 1.0);
  const Checks clean = check_run(h, e, run_reference(h, kMutationCase.params()), kKernelArithmetic,
                                 kMutationCase.softmax_scale);
  EXPECT_TRUE(clean.ok()) << clean.report();
  for (const MutationCase& m : kMutationCases) {
    kernel_check::ScopedMutation mutation(m.name);
    const Checks c = check_run(h, e, run_reference(h, kMutationCase.params()), kKernelArithmetic,
                               kMutationCase.softmax_scale);
    EXPECT_EQ(c.out.ok(), !m.out) << m.name;
    EXPECT_EQ(c.lse.ok(), !m.lse) << m.name;
    if (m.decisions) EXPECT_FALSE(c.decisions.ok()) << m.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Mutations, GpuAttentionMutation,
                         ::testing::Combine(::testing::ValuesIn(kMutationCases),
                                            ::testing::Values(Path::kApi, Path::kMma, Path::kSm90)),
                         kernel_check::CaseName());

// ---------------------------------------------------------------------------
// N:M sparse softmax and NVFP4 P quantization (layer_params extras): both
// kernels' extras instantiations (through the API, forced mma.sync, forced
// sm_90a) against the independent float64 model with the same rules. Grid
// inputs make the logits exact everywhere (N:M ties resolve the same way on
// every side); other inputs rely on expected()'s slack for the rare
// decisions within float32 noise of a boundary.

class GpuAttentionExtras : public ::testing::TestWithParam<std::tuple<ExtrasCase, Path>> {};

const Host& host_of(const ExtrasCase& c) {
  static std::map<std::string, Host> hosts;
  auto it = hosts.find(c.name);
  if (it == hosts.end()) {
    Host h = make_host(c.shape);
    fill(h, c.fill, 515u + unsigned(c.shape.dim + c.shape.lk), c.threshold);
    it = hosts.emplace(c.name, std::move(h)).first;
  }
  return it->second;
}

const Expected& model_of(const ExtrasCase& c, bool plain = false) {
  static std::map<std::string, Expected> models;
  const std::string key = std::string(c.name) + (plain ? "/plain" : "");
  auto it = models.find(key);
  if (it == models.end()) {
    it = models.emplace(key, expected(host_of(c), 0.0f, c.threshold, plain ? Extras{} : c.x)).first;
  }
  return it->second;
}

TEST_P(GpuAttentionExtras, MatchesFloat64WithTheSameRules) {
  KERNEL_CHECK_REQUIRE_GPU();
  const ExtrasCase& c = std::get<0>(GetParam());
  const Path path = std::get<1>(GetParam());
  const Host& h = host_of(c);
  Params p;
  p.threshold = c.threshold;
  p.extras = &c.x;
  const RunOutput g = run_kernel(h, p, path);
  SKIP_OR_FAIL_ON_SM90_REFUSAL(g, path);
  ASSERT_EQ(g.status, SPATTN_OK) << g.error;
  const Checks checks = check_run(h, model_of(c), g, kKernelArithmetic, 0.0f);
  EXPECT_TRUE(checks.ok()) << checks.report();
  // Not vacuous: the output does not match the model without the extras.
  const Checks plain = check_run(h, model_of(c, true), g, kKernelArithmetic, 0.0f);
  EXPECT_FALSE(plain.out.ok()) << "N:M / NVFP4 P hardly changed the output";
}

const ExtrasCase kExtrasCases[] = {
    // Small, both extras: also the case the device script's memcheck and
    // racecheck filters (*gqa_77*, *gqa_77_mma) pick up.
    ExtrasCase{"extras_gqa_77", shape(BF, 128, 2, 4, 2, 77, 77, false, kMixed), make_extras(2, 4, 0, 0, true),
               0.0, Fill::Grid},
    ExtrasCase{"nm24_fp16_d64_causal_sinks_window", shape(FP, 64, 1, 2, 2, 600, 700, true, kMixed2),
               make_extras(2, 4, 4, 64, false), 0.0, Fill::Grid},
    ExtrasCase{"nm38_bf16_d128_random", shape(BF, 128, 1, 2, 1, 300, 1000, false),
               make_extras(3, 8, 0, 0, false), 0.0, Fill::Random},
    ExtrasCase{"nm14_varlen_causal",
               shape_packed(BF, 64, 2, 1, {1, 77, 500, 256}, {1, 77, 600, 256}, true, kMixed),
               make_extras(1, 4, 2, 16, false), 0.0, Fill::Grid},
    ExtrasCase{"quant_fp16_d128_causal_gqa", shape(FP, 128, 1, 4, 2, 400, 700, true, kMixed2),
               quantize_only(), 0.0, Fill::Random},
    ExtrasCase{"quant_fp16_d64_varlen",
               shape_packed(FP, 64, 2, 1, {77, 5, 300}, {1000, 129, 1}, false, kMixed), quantize_only(), 0.0,
               Fill::Random},
    ExtrasCase{"nm48_quant_skip_fp16_d128", shape(FP, 128, 1, 2, 2, 256, 1024, false, kMixed),
               make_extras(4, 8, 0, 0, true), 10.0, Fill::SkipSensitive},
    ExtrasCase{"nm78_quant_skip_varlen_causal",
               shape_packed(BF, 64, 2, 1, {200, 700}, {300, 700}, true, kMixed2), make_extras(7, 8, 3, 32, true),
               3.0, Fill::SkipSensitive},
    ExtrasCase{"nm14_skip_bf16_d128_bhsd", shape(BF, 128, 1, 2, 1, 256, 900, false, kBhsd),
               make_extras(1, 4, 0, 0, false), 10.0, Fill::SkipSensitive},
};

INSTANTIATE_TEST_SUITE_P(Extras, GpuAttentionExtras,
                         ::testing::Combine(::testing::ValuesIn(kExtrasCases),
                                            ::testing::Values(Path::kApi, Path::kMma, Path::kSm90)),
                         kernel_check::CaseName());

// No GPU needed: the extras cases' decisions are decisive, the CPU reference
// passes the kernels' check, and the extras change the output beyond it.
class GpuAttentionExtrasInputs : public ::testing::TestWithParam<ExtrasCase> {};

TEST_P(GpuAttentionExtrasInputs, AreDecisiveAndTheCpuReferencePasses) {
  const ExtrasCase& c = GetParam();
  const Host& h = host_of(c);
  const Expected& e = model_of(c);
  if (c.threshold > 0) {
    EXPECT_GT(e.skipped, 0u) << "this case is meant to skip tiles";
    EXPECT_GT(e.decision_margin, 1.0) << "a skip decision lies within float32 noise of its boundary";
  }
  Params p;
  p.threshold = c.threshold;
  p.extras = &c.x;
  const RunOutput r = run_reference(h, p);
  ASSERT_EQ(r.status, SPATTN_OK) << r.error;
  const Checks checks = check_run(h, e, r, kKernelArithmetic, 0.0f);
  EXPECT_TRUE(checks.ok()) << checks.report();
  EXPECT_FALSE(check_run(h, model_of(c, true), r, kKernelArithmetic, 0.0f).out.ok())
      << "N:M / NVFP4 P hardly changed the output";
}

INSTANTIATE_TEST_SUITE_P(Extras, GpuAttentionExtrasInputs, ::testing::ValuesIn(kExtrasCases), kernel_check::CaseName());

TEST(GpuAttentionArgs, RejectsMisalignedRowsAndUnsupportedHeadDim) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = make_host(shape(BF, 64, 1, 2, 2, 64, 64, false));
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), out(h.out_elems());
  spattn_attention_args a = make_args(h, q.get(), k.get(), v.get(), out.get(), nullptr, nullptr);
  spattn_attention_args bad = a;
  bad.q = q.get() + 1;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.q is not 16-byte aligned"), std::string::npos);
  bad = a;
  bad.k_strides[1] = 68;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.k_strides[1] is 68"), std::string::npos);
  bad = a;
  bad.head_dim = 256;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_UNSUPPORTED);
  EXPECT_EQ(spattn_attention_forward(&a, nullptr), SPATTN_OK) << spattn_last_error();
  KERNEL_CHECK_CUDA(cudaDeviceSynchronize());
}

}  // namespace
