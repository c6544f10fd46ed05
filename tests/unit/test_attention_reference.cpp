// CPU tests of spattn_attention_reference (the CPU version of the skip-softmax
// flash-attention kernel) against an independent float64 attention written
// in attention_test_support.hpp, with tolerances derived from the reference's
// arithmetic; tests of that check itself (each mutation of
// attention_test_support.hpp must fail it); and the argument checks shared
// with spattn_attention_forward.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention/attention_problem.hpp"
#include "attention/sparse_softmax.hpp"
#include "attention_test_support.hpp"
#include "core/error.hpp"

namespace {

using namespace attention_test;

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;

// The CPU reference on `h` (outputs poisoned, decisions recorded). With
// `x`, the threshold and the extras travel in layer_params.
RunOutput ref(const Host& h, double threshold, float scale = 0.0f, const Extras* x = nullptr) {
  Params p;
  p.threshold = threshold;
  p.softmax_scale = scale;
  p.extras = x;
  RunOutput r = run_reference(h, p);
  EXPECT_EQ(r.status, SPATTN_OK) << r.error;
  return r;
}

// Output, LSE, tile decisions and counters against float64 with the CPU
// reference's derived tolerances, and nothing written outside the output.
void expect_matches(const Host& h, const RunOutput& r, const Expected& e, float scale = 0.0f) {
  const Checks c = check_run(h, e, r, kReferenceArithmetic, scale);
  EXPECT_TRUE(c.ok()) << c.report();
}

struct DenseCase {
  const char* name;
  spattn_dtype dtype;
  int dim;
  bool causal;
  int lq, lk;
  Layouts layouts;
};
KERNEL_CHECK_PRINT_BY_NAME(DenseCase)

class DenseReference : public ::testing::TestWithParam<DenseCase> {};

TEST_P(DenseReference, EqualsFloat64Attention) {
  const DenseCase c = GetParam();
  Host h = make_host(shape(c.dtype, c.dim, 2, 2, 1, c.lq, c.lk, c.causal, c.layouts));
  fill_random(h, 1234u + unsigned(c.dim + c.lq));
  const RunOutput r = ref(h, 0.0);
  const Expected e = expected(h, 0.0f, 0.0);
  expect_matches(h, r, e);
  EXPECT_EQ(e.skipped, 0u) << "threshold 0 must never skip";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DenseReference,
    ::testing::Values(DenseCase{"bf16_d64_130x200", BF, 64, false, 130, 200, kBshd},
                      DenseCase{"fp16_d64_1x77_mixed", FP, 64, false, 1, 77, kMixed},
                      DenseCase{"bf16_d128_77x260_bhsd", BF, 128, false, 77, 260, kBhsd},
                      DenseCase{"fp16_d128_causal_200x300_mixed2", FP, 128, true, 200, 300, kMixed2},
                      DenseCase{"bf16_d64_causal_300x200", BF, 64, true, 300, 200, kMixed},  // rows that see nothing
                      DenseCase{"bf16_d64_causal_256x256", BF, 64, true, 256, 256, kBshd}),
    kernel_check::CaseName());

TEST(AttentionReference, CustomSoftmaxScale) {
  Host h = make_host(shape(BF, 64, 1, 2, 2, 50, 140, false, kMixed));
  fill_random(h, 7);
  const RunOutput r = ref(h, 0.0, 0.3f);
  expect_matches(h, r, expected(h, 0.3f, 0.0), 0.3f);
  // The scale matters: the default one is far off.
  EXPECT_FALSE(check_run(h, expected(h, 0.0f, 0.0), r, kReferenceArithmetic, 0.0f).out.ok());
}

// The same values in every layout give bit-identical results.
TEST(AttentionReference, EveryLayoutGivesIdenticalResults) {
  const Shape s = shape(BF, 64, 2, 4, 2, 140, 300, true);
  Host a = make_host(s);
  fill_skip_sensitive(a, 11, 4.0);
  const RunOutput ra = ref(a, 4.0);
  ASSERT_GT(ra.counters[1], 0u);
  for (const Layouts& l : {kBhsd, kMixed, kMixed2}) {
    Shape s2 = s;
    s2.layouts = l;
    Host b = make_host(s2);
    copy_values(a, b);
    const RunOutput rb = ref(b, 4.0);
    for_each_q_row(a, [&](int bb, int t, int hh) {
      for (int d = 0; d < s.dim; ++d)
        ASSERT_EQ(a.out_at(ra.out, bb, t, hh, d), b.out_at(rb.out, bb, t, hh, d)) << l.name;
    });
    EXPECT_EQ(ra.lse, rb.lse) << l.name;
    EXPECT_EQ(ra.decisions, rb.decisions) << l.name;
  }
}

TEST(AttentionReference, GqaEqualsRepeatedKvHeads) {
  const Shape s = shape(BF, 64, 1, 4, 2, 100, 290, false, kMixed);
  Host g = make_host(s);
  fill_skip_sensitive(g, 21, 3.0);
  Shape s2 = s;
  s2.kv_heads = 4;
  Host full = make_host(s2);
  full.q = g.q;
  for (int hh = 0; hh < 4; ++hh)
    for (int t = 0; t < s.lk; ++t) {
      std::memcpy(&full.k[full.k_index(0, t, hh)], &g.k[g.k_index(0, t, hh / 2)], s.dim * 2);
      std::memcpy(&full.v[full.v_index(0, t, hh)], &g.v[g.v_index(0, t, hh / 2)], s.dim * 2);
    }
  const RunOutput rg = ref(g, 3.0), rf = ref(full, 3.0);
  EXPECT_EQ(rg.out, rf.out);
  EXPECT_EQ(rg.lse, rf.lse);
  EXPECT_EQ(rg.decisions, rf.decisions);
  expect_matches(g, rg, expected(g, 0.0f, 3.0));
}

TEST(AttentionReference, PackedBatchEqualsSeparateSequences) {
  const Shape s = shape_packed(BF, 64, 2, 2, {1, 77, 200}, {5, 130, 300}, true, kMixed2);
  Host p = make_host(s);
  fill_skip_sensitive(p, 31, 2.0);
  const RunOutput rp = ref(p, 2.0);
  expect_matches(p, rp, expected(p, 0.0f, 2.0));
  unsigned long long visited = 0, skipped = 0;
  for (int b = 0; b < 3; ++b) {
    Host h = make_host(shape(BF, 64, 1, 2, 2, s.q_lens[b], s.kv_lens[b], true));
    for (int hh = 0; hh < s.heads; ++hh) {
      for (int t = 0; t < h.shape.lq; ++t)
        std::memcpy(&h.q[h.q_index(0, t, hh)], &p.q[p.q_index(b, t, hh)], s.dim * 2);
      for (int t = 0; t < h.shape.lk; ++t) {
        std::memcpy(&h.k[h.k_index(0, t, hh)], &p.k[p.k_index(b, t, hh)], s.dim * 2);
        std::memcpy(&h.v[h.v_index(0, t, hh)], &p.v[p.v_index(b, t, hh)], s.dim * 2);
      }
    }
    const RunOutput r = ref(h, 2.0);
    visited += r.counters[0];
    skipped += r.counters[1];
    for (int hh = 0; hh < s.heads; ++hh)
      for (int t = 0; t < h.shape.lq; ++t) {
        for (int d = 0; d < s.dim; ++d) ASSERT_EQ(h.out_at(r.out, 0, t, hh, d), p.out_at(rp.out, b, t, hh, d));
        ASSERT_EQ(r.lse[lse_index(h, 0, hh, t)], rp.lse[lse_index(p, b, hh, t)]);
      }
  }
  EXPECT_EQ(rp.counters[0], visited);
  EXPECT_EQ(rp.counters[1], skipped);
  EXPECT_GT(skipped, 0u);
}

// Skipping: the decisions equal the float64 re-derivation of the rule; the
// output equals float64 attention over the kept tiles; every skipped key's
// weight exp(L_j - max) is below lambda (it lies below its tile's maximum,
// which lies below lambda times exp(m_running) <= exp(max)); and the output
// differs from dense attention by at most what the skipped mass allows:
//   O_dense - O_skip = sum_skipped p_j (v_j - O_skip) / Z, so
//   |O_dense - O_skip| <= mass_skipped * (max|v| + max|O_skip|) <= 2 * mass * max|v|,
// and by more than the tolerance somewhere (the inputs make skipping matter).
struct SkipCase {
  const char* name;
  double threshold;
  bool causal;
  int dim;
};
KERNEL_CHECK_PRINT_BY_NAME(SkipCase)

class SkipReference : public ::testing::TestWithParam<SkipCase> {};

TEST_P(SkipReference, FollowsTheRuleAndStaysWithinTheSkippedMass) {
  const SkipCase c = GetParam();
  Host h = make_host(shape(BF, c.dim, 1, 2, 2, 256, 700, c.causal, kMixed));
  fill_skip_sensitive(h, 41 + unsigned(c.dim), c.threshold);
  const RunOutput r = ref(h, c.threshold);
  const Expected skip = expected(h, 0.0f, c.threshold);
  const Expected dense = expected(h, 0.0f, 0.0);
  EXPECT_GT(skip.skipped, 0u) << "inputs should make some tiles skippable";
  EXPECT_LT(skip.skipped, skip.visited);
  EXPECT_GT(skip.decision_margin, 1.0) << "a decision lies within float32 noise of its boundary";
  expect_matches(h, r, skip);
  const double lambda = c.threshold / h.shape.lk;
  double closest = 0, moved = 0;
  for_each_q_row(h, [&](int b, int i, int hh) {
    const size_t row = skip.row(h, b, i, hh);
    EXPECT_LT(skip.max_skipped_weight[row], lambda) << "row " << i << " head " << hh;
    closest = std::max(closest, skip.max_skipped_weight[row] / lambda);
    const double mass = skip.skipped_mass[row];
    for (int d = 0; d < h.shape.dim; ++d) {
      const size_t x = skip.index(h, b, i, hh) + size_t(d);
      const double tol = attention_tolerance(kReferenceArithmetic, BF, skip.out[x], skip.abs_out[x], 0.0,
                                             skip.logit_err[row], skip.kept_keys[row], skip.kept_tiles[row], 0.0);
      const double diff = std::fabs(h.out_at(r.out, b, i, hh, d) - dense.out[x]);
      ASSERT_LE(diff, 2.0 * mass * skip.max_abs_v + tol) << "row " << i << " head " << hh << " dim " << d;
      moved = std::max(moved, diff / tol);
    }
  });
  EXPECT_GT(closest, 0.01) << "no skipped key comes near lambda: the bound above is not exercised";
  EXPECT_GT(moved, 10.0) << "skipping hardly moved the output";
}

INSTANTIATE_TEST_SUITE_P(Thresholds, SkipReference,
                         ::testing::Values(SkipCase{"t0_5_d64", 0.5, false, 64}, SkipCase{"t5_d64", 5.0, false, 64},
                                           SkipCase{"t20_causal_d64", 20.0, true, 64},
                                           SkipCase{"t5_d128", 5.0, false, 128}),
                         kernel_check::CaseName());

TEST(AttentionReference, ThresholdFromLayerParams) {
  Host h = make_host(shape(BF, 64, 1, 2, 2, 130, 520, false));
  fill_skip_sensitive(h, 51, 5.0);
  const RunOutput direct = ref(h, 5.0);
  ASSERT_GT(direct.counters[1], 0u);

  spattn_layer_params lp{};
  lp.struct_size = sizeof lp;
  lp.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
  lp.enabled = 1;
  lp.threshold_scale_factor = 5.0;
  std::vector<uint16_t> out(direct.out.size(), kernel_check::kPoison16);
  unsigned long long counters[2] = {0, 0};
  spattn_attention_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), out.data(), nullptr, nullptr);
  a.threshold_scale_factor = 1000.0f;  // ignored when layer_params is given
  a.layer_params = &lp;
  a.tile_counters = counters;
  ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(out, direct.out);
  EXPECT_EQ(counters[1], direct.counters[1]);

  lp.enabled = 0;  // a disabled layer runs dense, whatever its factor says
  counters[0] = counters[1] = 0;
  ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(counters[1], 0u);
  EXPECT_EQ(out, ref(h, 0.0).out);
}

// ---------------------------------------------------------------------------
// Tests of the check: each mutation of the test support, applied to the CPU
// reference, must fail check_run in the verdict it targets (the GPU tests
// run the same on the kernels). The case skips tiles, gives every tensor its
// own layout and uses a softmax scale other than the default.

class AttentionCheckMutation : public ::testing::TestWithParam<MutationCase> {};

Host mutation_host(float scale) {
  Host h = make_host(shape_packed(BF, 64, 2, 1, {150, 40}, {600, 300}, false, kMixed));
  fill_skip_sensitive(h, 77, 4.0, scale);
  return h;
}

TEST(AttentionCheckMutation, UnmutatedReferencePasses) {
  const float scale = 0.1f;
  const Host h = mutation_host(scale);
  const Expected e = expected(h, scale, 4.0);
  ASSERT_GT(e.skipped, 0u);
  const RunOutput r = ref(h, 4.0, scale);
  expect_matches(h, r, e, scale);
}

TEST_P(AttentionCheckMutation, FailsTheCheck) {
  const MutationCase& m = GetParam();
  const float scale = 0.1f;
  const Host h = mutation_host(scale);
  const Expected e = expected(h, scale, 4.0);
  kernel_check::ScopedMutation mutation(m.name);
  const RunOutput r = ref(h, 4.0, scale);
  const Checks c = check_run(h, e, r, kReferenceArithmetic, scale);
  EXPECT_FALSE(c.ok()) << m.name << " went unnoticed";
  if (m.out) EXPECT_FALSE(c.out.ok()) << "the output check alone must catch " << m.name;
  if (m.lse) EXPECT_FALSE(c.lse.ok()) << "the LSE check alone must catch " << m.name;
  if (m.decisions) EXPECT_FALSE(c.decisions.ok()) << "the decision map must catch " << m.name;
}

INSTANTIATE_TEST_SUITE_P(Mutations, AttentionCheckMutation, ::testing::ValuesIn(kMutationCases),
                         kernel_check::CaseName());

// ---------------------------------------------------------------------------
// N:M sparse softmax and NVFP4 P quantization (layer_params extras).

using spattn::attention::nm_dense_key;
using spattn::attention::nm_outranks;
using spattn::attention::nvfp4_p_round;
using spattn::attention::nvfp4_p_scale;
using spattn::attention::Nvfp4Scale;
using spattn::attention::round_e4m3;

// E2M1 rounding by hand: with scale 1, nvfp4_p_round(y) is E2M1(y): nearest
// of {0, .5, 1, 1.5, 2, 3, 4, 6}, ties to the even one, saturated at 6.
TEST(SparseSoftmaxRules, E2M1ByHand) {
  const Nvfp4Scale one{1.0f};
  const float cases[][2] = {{0.0f, 0.0f},  {0.24f, 0.0f}, {0.25f, 0.0f},  // tie 0 | 0.5 -> 0
                            {0.26f, 0.5f}, {0.74f, 0.5f}, {0.75f, 1.0f},  // tie 0.5 | 1 -> 1
                            {1.25f, 1.0f}, {1.26f, 1.5f}, {1.75f, 2.0f},  // ties -> 1, 2
                            {2.5f, 2.0f},  {2.6f, 3.0f},  {3.5f, 4.0f},   // ties -> 2, 4
                            {5.0f, 4.0f},  {5.01f, 6.0f}, {7.0f, 6.0f},   // tie -> 4; saturation
                            {1e9f, 6.0f}};
  for (const auto& c : cases) EXPECT_EQ(nvfp4_p_round(c[0], one), c[1]) << "E2M1(" << c[0] << ")";
  // Scale 0.5 (exact): 0.375 -> 0.75 -> tie -> 1 -> 0.5; 0.13 -> 0.26 -> 0.5 -> 0.25.
  EXPECT_EQ(nvfp4_p_round(0.375f, Nvfp4Scale{0.5f}), 0.5f);
  EXPECT_EQ(nvfp4_p_round(0.13f, Nvfp4Scale{0.5f}), 0.25f);
  // Scale 0: everything 0.
  EXPECT_EQ(nvfp4_p_round(0.7f, Nvfp4Scale{0.0f}), 0.0f);
}

// E4M3 (fn) by hand: 3 mantissa bits, subnormal step 2^-9, max 448, RNE.
TEST(SparseSoftmaxRules, E4M3ByHand) {
  EXPECT_EQ(round_e4m3(0.0f), 0.0f);
  EXPECT_EQ(round_e4m3(134.4f), 128.0f);  // [128, 256) has step 16: 134.4 -> 128
  EXPECT_EQ(round_e4m3(17.0f), 16.0f);    // step 2: tie 16 | 18 -> 16 (even mantissa)
  EXPECT_EQ(round_e4m3(19.0f), 20.0f);    // tie 18 | 20 -> 20
  EXPECT_EQ(round_e4m3(0.3f), 0.3125f);   // step 2^-5 in [0.25, 0.5): 9.6 steps -> 10
  EXPECT_EQ(round_e4m3(447.0f), 448.0f);
  EXPECT_EQ(round_e4m3(500.0f), 448.0f);  // saturates
  EXPECT_EQ(round_e4m3(std::ldexp(1.0f, -10)), 0.0f);                       // tie 0 | 2^-9 -> 0
  EXPECT_EQ(round_e4m3(0.001f), std::ldexp(1.0f, -9));                      // 0.512 steps -> 1
  EXPECT_EQ(round_e4m3(3.0f * std::ldexp(1.0f, -10)), std::ldexp(1.0f, -8));  // 1.5 steps -> 2
  EXPECT_EQ(round_e4m3(0.015625f), 0.015625f);                             // 2^-6, smallest normal
}

// A block's scale and values by hand. Block max 1: scale E4M3(448) / 2688 =
// 1/6; p = 0.26 -> p / scale = 1.56 -> 1.5 -> 0.25; 0.3 -> 1.8 -> 2 -> 1/3;
// 0.9 -> 5.4 -> 6 -> 1; 0.04 -> 0.24 -> 0; 0.75 -> 4.5 -> 4 -> 2/3.
// Block max 0.3: 448 * 0.3 = 134.4 -> 128, scale 128 / 2688 = 1/21; 0.3 ->
// 6.3 -> 6 -> 6/21; 0.1 -> 2.1 -> 2 -> 2/21.
TEST(SparseSoftmaxRules, Nvfp4BlockByHand) {
  const Nvfp4Scale s1 = nvfp4_p_scale(1.0f);
  EXPECT_FLOAT_EQ(s1.scale, 1.0f / 6.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.26f, s1), 0.25f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.3f, s1), 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.9f, s1), 1.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(1.0f, s1), 1.0f);
  EXPECT_EQ(nvfp4_p_round(0.04f, s1), 0.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.75f, s1), 2.0f / 3.0f);
  const Nvfp4Scale s3 = nvfp4_p_scale(0.3f);
  EXPECT_FLOAT_EQ(s3.scale, 1.0f / 21.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.3f, s3), 6.0f / 21.0f);
  EXPECT_FLOAT_EQ(nvfp4_p_round(0.1f, s3), 2.0f / 21.0f);
  // A block whose max is below half the smallest E4M3 step (over 448) is all zero.
  EXPECT_EQ(nvfp4_p_scale(1e-6f).scale, 0.0f);
  EXPECT_EQ(nvfp4_p_round(1e-6f, nvfp4_p_scale(1e-6f)), 0.0f);
}

// The library's bit-level E4M3 and comparison-chain E2M1 against the test's
// table search (round_to_grid), on a sweep and on every exact midpoint.
TEST(SparseSoftmaxRules, RoundingMatchesTableSearch) {
  std::vector<float> xs;
  for (int i = 0; i <= 200000; ++i) xs.push_back(float(i) * 0.0025f);  // [0, 500]
  for (int i = 0; i <= 4000; ++i) xs.push_back(std::ldexp(float(i), -16));  // subnormal range
  const auto& e4 = e4m3_grid();
  for (size_t i = 0; i + 1 < e4.size(); ++i) xs.push_back(float(0.5 * (e4[i].value + e4[i + 1].value)));
  for (float x : xs) ASSERT_EQ(double(round_e4m3(x)), round_to_grid(e4, x)) << "E4M3(" << x << ")";
  std::vector<float> ys;
  for (int i = 0; i <= 80000; ++i) ys.push_back(float(i) * 0.0001f);  // [0, 8]
  const auto& e2 = e2m1_grid();
  for (size_t i = 0; i + 1 < e2.size(); ++i) ys.push_back(float(0.5 * (e2[i].value + e2[i + 1].value)));
  for (float y : ys)
    ASSERT_EQ(double(nvfp4_p_round(y, Nvfp4Scale{1.0f})), round_to_grid(e2, y)) << "E2M1(" << y << ")";
}

TEST(SparseSoftmaxRules, RanksAndDenseRegion) {
  EXPECT_TRUE(nm_outranks(2.0f, 3, 1.0f, 0));   // larger wins
  EXPECT_TRUE(nm_outranks(1.0f, 0, 1.0f, 3));   // tie: lower index wins
  EXPECT_FALSE(nm_outranks(1.0f, 3, 1.0f, 0));
  EXPECT_FALSE(nm_outranks(1.0f, 2, 1.0f, 2));  // never itself
  EXPECT_TRUE(nm_outranks(-1e30f, 1, -INFINITY, 0));
  // sinks: keys < sinks; window: diag - window < key <= diag.
  EXPECT_TRUE(nm_dense_key(1, 100, 2, 0));
  EXPECT_FALSE(nm_dense_key(2, 100, 2, 0));
  EXPECT_TRUE(nm_dense_key(10, 10, 0, 1));     // the diagonal itself
  EXPECT_FALSE(nm_dense_key(10, 10, 0, 0));    // window 0: none
  EXPECT_TRUE(nm_dense_key(5, 10, 0, 6));
  EXPECT_FALSE(nm_dense_key(4, 10, 0, 6));
  EXPECT_FALSE(nm_dense_key(11, 10, 0, 100));  // after the diagonal: never in the window
  EXPECT_FALSE(nm_dense_key(0, -3, 0, 100));   // a row before the first key (Lq > Lk)
}

// One problem whose logits are exactly c[i][j] * softmax_scale (q_i = e0,
// k_j = c_j e0: c is per key, the same for every row) and whose values are
// one-hot (v_j = e_j), so output dimension j is key j's weight. Up to 64 keys.
struct OneHot {
  Host h;
  OneHot(const std::vector<float>& c, int lq, bool causal) : h(make(int(c.size()), lq, causal)) {
    for (int i = 0; i < lq; ++i) h.q[h.q_index(0, i, 0)] = float_to_storage(1.0f, true);
    for (int j = 0; j < int(c.size()); ++j) {
      h.k[h.k_index(0, j, 0)] = float_to_storage(c[size_t(j)], true);
      h.v[h.v_index(0, j, 0) + size_t(j)] = float_to_storage(1.0f, true);
    }
  }
  static Host make(int lk, int lq, bool causal) {
    Shape s;
    s.heads = s.kv_heads = 1;
    s.dim = 64;
    s.lq = lq;
    s.lk = lk;
    s.causal = causal;
    return make_host(s);
  }
  float out(const RunOutput& r, int row, int key) const {
    return h.out_at(r.out, 0, row, 0, key);
  }
};

// Row `row` of `r` holds exactly the keys in `kept`, with softmax weights
// exp(c_j - max) / Z over them (bf16 output rounding), and LSE max + ln Z.
void expect_row_keeps(const OneHot& o, const RunOutput& r, int row, const std::vector<float>& c,
                      const std::vector<int>& kept, const char* what) {
  double mx = -INFINITY, z = 0;
  for (int j : kept) mx = std::max(mx, double(c[size_t(j)]));
  for (int j : kept) z += std::exp(c[size_t(j)] - mx);
  for (int j = 0; j < int(c.size()); ++j) {
    const bool k = std::find(kept.begin(), kept.end(), j) != kept.end();
    const double want = k ? std::exp(c[size_t(j)] - mx) / z : 0.0;
    if (!k) {
      EXPECT_EQ(o.out(r, row, j), 0.0f) << what << ": row " << row << " key " << j << " should be pruned";
    } else {
      EXPECT_NEAR(o.out(r, row, j), want, want / 256 + 1e-6) << what << ": row " << row << " key " << j;
    }
  }
  EXPECT_NEAR(r.lse[size_t(row)], mx + std::log(z), 1e-5) << what << ": row " << row;
}

TEST(AttentionSparseSoftmax, NmKeepsTheLargestByHand) {
  const std::vector<float> c = {3, 1, 4, 1, 5, 9, 2, 6};
  const OneHot o(c, 1, false);
  auto run = [&](int n, int m) {
    Extras x;
    x.n = n;
    x.m = m;
    return ref(o.h, 0.0, 1.0f, &x);
  };
  // 2:4: [3 1 4 1] keeps 4 and 3 (keys 2, 0); [5 9 2 6] keeps 9 and 6 (5, 7).
  expect_row_keeps(o, run(2, 4), 0, c, {0, 2, 5, 7}, "2:4");
  // 1:4: 4 and 9. 3:4: [3 1 4 1] keeps 4, 3 and the first 1 (tie: lower key).
  expect_row_keeps(o, run(1, 4), 0, c, {2, 5}, "1:4");
  expect_row_keeps(o, run(3, 4), 0, c, {0, 1, 2, 4, 5, 7}, "3:4");
  // 3:8 over the whole group: 9, 6, 5. 7:8 drops one of the two 1s: the later.
  expect_row_keeps(o, run(3, 8), 0, c, {4, 5, 7}, "3:8");
  expect_row_keeps(o, run(7, 8), 0, c, {0, 1, 2, 4, 5, 6, 7}, "7:8");
}

TEST(AttentionSparseSoftmax, NmTiesGoToTheLowerKey) {
  const std::vector<float> c = {2, 2, 2, 2, 1, 1, 1, 1};
  const OneHot o(c, 1, false);
  Extras x;
  x.n = 2;
  x.m = 4;
  expect_row_keeps(o, ref(o.h, 0.0, 1.0f, &x), 0, c, {0, 1, 4, 5}, "2:4 ties");
  x.n = 3;
  x.m = 8;
  expect_row_keeps(o, ref(o.h, 0.0, 1.0f, &x), 0, c, {0, 1, 2}, "3:8 ties");
}

// Sinks and the window, causal with bottom-right alignment: 4 rows, 16 keys,
// row i's diagonal key is i + 12. c repeats 0 1 2 3, so 1:4 keeps keys 3, 7,
// 11, 15 (where visible); sinks 2 add keys 0, 1; window 3 adds i+10..i+12.
TEST(AttentionSparseSoftmax, SinksAndWindowStayDense) {
  const std::vector<float> c = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  const OneHot o(c, 4, true);
  Extras x;
  x.n = 1;
  x.m = 4;
  x.sinks = 2;
  x.window = 3;
  const RunOutput r = ref(o.h, 0.0, 1.0f, &x);
  // Row 0 sees keys 0..12: [12 13 14 15] has only key 12 (others masked) -> 12.
  expect_row_keeps(o, r, 0, c, {0, 1, 3, 7, 10, 11, 12}, "row 0");
  expect_row_keeps(o, r, 1, c, {0, 1, 3, 7, 11, 12, 13}, "row 1");
  expect_row_keeps(o, r, 2, c, {0, 1, 3, 7, 11, 12, 13, 14}, "row 2");
  expect_row_keeps(o, r, 3, c, {0, 1, 3, 7, 11, 13, 14, 15}, "row 3");
  // Not causal: same diagonals, keys after them are not in the window.
  const OneHot nc(c, 4, false);
  const RunOutput rn = ref(nc.h, 0.0, 1.0f, &x);
  expect_row_keeps(nc, rn, 0, c, {0, 1, 3, 7, 10, 11, 12, 15}, "non-causal row 0");
  expect_row_keeps(nc, rn, 3, c, {0, 1, 3, 7, 11, 13, 14, 15}, "non-causal row 3");
}

// NVFP4 P by hand: softmax_scale ln 2 makes p_j = 2^c_j (row max 0), two
// 16-key blocks. Block 0 (max 1, scale 1/6): 1, .5, .25 stay; 2^-4 -> 0.375
// -> 0.5 -> 1/12; 2^-5 -> 0.1875 -> 0; 2^-6 -> 0. Block 1 (max .25: E4M3(112)
// = 112, scale 1/24): .25, .125, 2^-4 stay; 2^-6 -> 0.375 -> 0.5 -> 1/48;
// 2^-7 -> 0. The row sum takes P unrounded: Z = sum 2^c_j, LSE = ln Z.
TEST(AttentionSparseSoftmax, QuantizePByHand) {
  std::vector<float> c(32, -30.0f);
  const float b0[] = {0, -1, -2, -4, -5, -6}, b1[] = {-2, -3, -4, -6, -7};
  const double q0[] = {1, 0.5, 0.25, 1.0 / 12, 0, 0}, q1[] = {0.25, 0.125, 0.0625, 1.0 / 48, 0};
  for (int j = 0; j < 6; ++j) c[size_t(j)] = b0[j];
  for (int j = 0; j < 5; ++j) c[size_t(16 + j)] = b1[j];
  const OneHot o(c, 1, false);
  Extras x;
  x.quantize_p = true;
  const RunOutput r = ref(o.h, 0.0, float(std::log(2.0)), &x);
  double z = 0;
  for (float cj : c) z += std::exp2(double(cj));
  std::vector<double> want(32, 0.0);
  for (int j = 0; j < 6; ++j) want[size_t(j)] = q0[j] / z;
  for (int j = 0; j < 5; ++j) want[size_t(16 + j)] = q1[j] / z;
  for (int j = 0; j < 32; ++j) {
    if (want[size_t(j)] == 0) {
      EXPECT_EQ(o.out(r, 0, j), 0.0f) << "key " << j;
    } else {
      EXPECT_NEAR(o.out(r, 0, j), want[size_t(j)], want[size_t(j)] / 256) << "key " << j;
    }
  }
  EXPECT_NEAR(r.lse[0], std::log(z), 1e-5);
  // Without rounding key 4 keeps its 2^-5.
  const RunOutput dense = ref(o.h, 0.0, float(std::log(2.0)));
  EXPECT_NEAR(o.out(dense, 0, 4), std::exp2(-5.0) / z, 1e-4);
  EXPECT_EQ(dense.lse, r.lse) << "the row sums take P unrounded";
}

// Random problems against the independent float64 attention (expected() with
// Extras): N:M alone, NVFP4 P alone, both, both with skipping.

class ExtrasReference : public ::testing::TestWithParam<ExtrasCase> {};

TEST_P(ExtrasReference, EqualsFloat64WithTheSameRules) {
  const ExtrasCase& c = GetParam();
  Host h = make_host(c.shape);
  fill(h, c.fill, 4242u + unsigned(c.shape.lk), c.threshold);
  const RunOutput r = ref(h, c.threshold, 0.0f, &c.x);
  const Expected e = expected(h, 0.0f, c.threshold, c.x);
  expect_matches(h, r, e);
  if (c.threshold > 0) EXPECT_GT(e.skipped, 0u) << "this case is meant to skip tiles";
  // The slack (decisions within the kernels' worst-case float32 noise of
  // their boundary) widens at most half of the rows by more than the output
  // rounding.
  size_t loose = 0;
  for (double sl : e.slack) loose += sl > 2e-3;
  EXPECT_LT(loose, e.slack.size() / 2);
  // Not vacuous: without the extras, many outputs fail the check.
  RunOutput plain = r;
  const Expected without = expected(h, 0.0f, c.threshold);
  for_each_q_row(h, [&](int b, int i, int hh) {
    for (int d = 0; d < h.shape.dim; ++d) {
      plain.out[h.o_index(b, i, hh) + size_t(d)] =
          float_to_storage(float(without.out[without.index(h, b, i, hh) + size_t(d)]), h.shape.bf16());
    }
  });
  const Checks moved = check_run(h, e, plain, kReferenceArithmetic, 0.0f);
  EXPECT_GT(moved.out.failures(), moved.out.checked() / 100) << "N:M / NVFP4 P hardly changed the output";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExtrasReference,
    ::testing::Values(
        ExtrasCase{"nm24_gqa", shape(BF, 64, 2, 2, 1, 77, 300, false), make_extras(2, 4), 0.0, Fill::Grid},
        ExtrasCase{"nm14_causal_sinks_window", shape(FP, 128, 2, 2, 2, 200, 333, true), make_extras(1, 4, 5, 37),
                   0.0, Fill::Grid},
        ExtrasCase{"nm38_random", shape(BF, 128, 2, 4, 2, 130, 257, false), make_extras(3, 8), 0.0, Fill::Random},
        ExtrasCase{"nm78_window", shape(FP, 64, 2, 2, 1, 33, 129, false, kMixed), make_extras(7, 8, 3, 20), 0.0,
                   Fill::Random},
        ExtrasCase{"nm48_packed_causal",
                   shape_packed(BF, 64, 2, 1, {1, 70, 140}, {9, 70, 300}, true), make_extras(4, 8, 2, 16), 0.0,
                   Fill::Grid},
        ExtrasCase{"quant", shape(BF, 64, 2, 2, 2, 150, 400, false), quantize_only(), 0.0, Fill::Random},
        ExtrasCase{"quant_causal_gqa", shape(FP, 128, 2, 4, 2, 129, 260, true, kMixed2), quantize_only(), 0.0,
                   Fill::Random},
        ExtrasCase{"quant_packed", shape_packed(FP, 64, 2, 1, {5, 130, 64}, {300, 7, 129}, false),
                   quantize_only(), 0.0, Fill::Random},
        ExtrasCase{"nm24_quant_causal", shape(BF, 64, 2, 2, 1, 140, 270, true), make_extras(2, 4, 0, 0, true), 0.0,
                   Fill::Grid},
        ExtrasCase{"nm58_quant_window", shape(FP, 128, 2, 2, 2, 99, 200, true), make_extras(5, 8, 4, 50, true),
                   0.0, Fill::Random},
        ExtrasCase{"nm38_quant_skip", shape(BF, 64, 2, 2, 2, 256, 700, false, kMixed), make_extras(3, 8, 0, 0, true),
                   5.0, Fill::SkipSensitive},
        ExtrasCase{"nm14_skip_causal", shape(BF, 128, 2, 2, 1, 300, 700, true, kMixed2), make_extras(1, 4, 1, 8),
                   20.0, Fill::SkipSensitive}),
    kernel_check::CaseName());

// Invariants of the rules, exact (the same reference, bit for bit).
TEST(AttentionSparseSoftmax, EverythingDenseEqualsNoPruning) {
  Shape s = shape(BF, 64, 2, 2, 1, 100, 230, true);
  Host h = make_host(s);
  fill_random(h, 17);
  const RunOutput plain = ref(h, 0.0);
  const Extras sinks = make_extras(1, 4, 230, 0), window = make_extras(2, 8, 0, 230);  // every key a sink / in the window
  const RunOutput a = ref(h, 0.0, 0.0f, &sinks), b = ref(h, 0.0, 0.0f, &window);
  EXPECT_EQ(a.out, plain.out);
  EXPECT_EQ(b.out, plain.out);
  EXPECT_EQ(a.lse, plain.lse);
  const Extras some = make_extras(1, 4, 0, 0);
  EXPECT_NE(ref(h, 0.0, 0.0f, &some).out, plain.out);
}

TEST(AttentionSparseSoftmax, ExtrasKeepTheSkipDecisionsAndQuantizeKeepsRowSums) {
  Shape s = shape(BF, 64, 2, 2, 2, 256, 700, false);
  Host h = make_host(s);
  fill_skip_sensitive(h, 41, 5.0);
  const RunOutput plain = ref(h, 5.0);
  ASSERT_GT(plain.counters[1], 0u);
  const Extras q = quantize_only(), n = make_extras(2, 4), both = make_extras(1, 8, 3, 5, true);
  const RunOutput rq = ref(h, 5.0, 0.0f, &q), rn = ref(h, 5.0, 0.0f, &n),
               rb = ref(h, 5.0, 0.0f, &both);
  for (const RunOutput* r : {&rq, &rn, &rb}) {
    EXPECT_EQ(r->counters[0], plain.counters[0]);
    EXPECT_EQ(r->counters[1], plain.counters[1]) << "a group's maximum is never pruned: same votes";
    EXPECT_EQ(r->decisions, plain.decisions);
  }
  EXPECT_EQ(rq.lse, plain.lse) << "the row sums take P before rounding";
  EXPECT_NE(rq.out, plain.out);
}

// The extras come from layer_params whatever `enabled` says (enabled is the
// skip threshold's switch).
TEST(AttentionSparseSoftmax, ExtrasApplyWhenSkipIsDisabled) {
  Shape s = shape(BF, 64, 2, 2, 2, 64, 200, false);
  Host h = make_host(s);
  fill_random(h, 3);
  const Extras x = make_extras(2, 4, 0, 0, true);
  const RunOutput enabled_zero = ref(h, 0.0, 0.0f, &x);  // enabled = 0 (threshold 0)
  spattn_layer_params lp = make_layer_params(x, 0.0);
  lp.enabled = 0;
  lp.threshold_scale_factor = 9.0;  // ignored: not enabled
  RunOutput r;
  r.out.assign(h.out_elems() + kGuard, kernel_check::kPoison16);
  spattn_attention_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), r.out.data(), nullptr, nullptr);
  a.layer_params = &lp;
  a.tile_counters = r.counters;
  ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(r.out, enabled_zero.out);
  EXPECT_EQ(r.counters[1], 0u);
  EXPECT_NE(r.out, ref(h, 0.0).out);
}

// ---------------------------------------------------------------------------
// Argument checks (shared by the reference and the CUDA entry point).

struct BadArgs {
  Shape shape;
  Host host = make_host(shape);
  std::vector<uint16_t> out = std::vector<uint16_t>(host.out_elems());
  spattn_layer_params lp{};
  int32_t cu[2] = {0, 64};
  spattn_attention_args args = make_args(host, host.q.data(), host.k.data(), host.v.data(),
                                         out.data(), nullptr, nullptr);
};

struct BadCase {
  const char* name;
  void (*mutate)(BadArgs&);
  spattn_status status;
  const char* message;
};

void expect_error(spattn_status (*call)(const spattn_attention_args*, void*), const BadCase& c,
                  const char* function) {
  BadArgs b;
  c.mutate(b);
  const spattn_status st = call(&b.args, nullptr);
  EXPECT_EQ(st, c.status) << c.name << ": " << spattn_last_error();
  const std::string msg = spattn_last_error();
  EXPECT_NE(msg.find(c.message), std::string::npos) << c.name << ": " << msg;
  EXPECT_NE(msg.find(function), std::string::npos) << c.name << ": " << msg;
}

spattn_status reference_call(const spattn_attention_args* a, void*) {
  return spattn_attention_reference(a);
}

const BadCase kBadCases[] = {
    {"struct_size", [](BadArgs& b) { b.args.struct_size = 8; }, SPATTN_ERR_INVALID_ARGUMENT,
     "spattn_attention_args.struct_size is 8"},
    {"dtype", [](BadArgs& b) { b.args.dtype = spattn_dtype(7); }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.dtype is 7"},
    {"head_dim", [](BadArgs& b) { b.args.head_dim = 96; }, SPATTN_ERR_UNSUPPORTED,
     "args.head_dim is 96; supported: 64, 128"},
    {"batch", [](BadArgs& b) { b.args.batch = 0; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.batch is 0"},
    {"num_heads", [](BadArgs& b) { b.args.num_heads = -1; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.num_heads is -1"},
    {"num_kv_heads", [](BadArgs& b) { b.args.num_kv_heads = 0; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.num_kv_heads is 0"},
    {"gqa", [](BadArgs& b) { b.args.num_kv_heads = 3; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.num_heads (2) is not a multiple of args.num_kv_heads (3)"},
    {"seqlen_q", [](BadArgs& b) { b.args.seqlen_q = 0; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.seqlen_q is 0"},
    {"seqlen_kv", [](BadArgs& b) { b.args.seqlen_kv = -5; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.seqlen_kv is -5"},
    {"q", [](BadArgs& b) { b.args.q = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.q is NULL"},
    {"k", [](BadArgs& b) { b.args.k = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.k is NULL"},
    {"v", [](BadArgs& b) { b.args.v = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.v is NULL"},
    {"out", [](BadArgs& b) { b.args.out = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.out is NULL"},
    {"stride", [](BadArgs& b) { b.args.k_strides[1] = -64; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.k_strides[1] (token stride) is -64"},
    {"cu_q only", [](BadArgs& b) { b.args.cu_seqlens_q = b.cu; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.cu_seqlens_kv is NULL but cu_seqlens_q is not"},
    {"cu_kv only", [](BadArgs& b) { b.args.cu_seqlens_kv = b.cu; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.cu_seqlens_q is NULL but cu_seqlens_kv is not"},
    {"scale", [](BadArgs& b) { b.args.softmax_scale = -1.0f; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.softmax_scale is -1"},
    {"scale nan", [](BadArgs& b) { b.args.softmax_scale = std::nanf(""); },
     SPATTN_ERR_INVALID_ARGUMENT, "args.softmax_scale"},
    {"causal", [](BadArgs& b) { b.args.causal = 2; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.causal is 2"},
    {"threshold", [](BadArgs& b) { b.args.threshold_scale_factor = -1.0f; },
     SPATTN_ERR_INVALID_ARGUMENT, "args.threshold_scale_factor is -1"},
    {"layer struct_size",
     [](BadArgs& b) {
       b.lp.struct_size = 4;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "spattn_layer_params.struct_size is 4"},
    // N:M / NVFP4 P fields of a hand-filled layer_params (the config layer
    // never produces these): refused, naming the field.
    {"sparsity_m not 4/8",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = 2;
       b.lp.sparsity_m = 5;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->sparsity_m is 5; N:M sparse softmax needs 4 or 8"},
    {"sparsity_m 0 with n",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = 2;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->sparsity_m is 0"},
    {"sparsity_n >= m",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = 4;
       b.lp.sparsity_m = 4;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->sparsity_n is 4; with sparsity_m 4 it must be in [1, 3]"},
    {"sparsity_n 0",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_m = 8;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->sparsity_n is 0; with sparsity_m 8 it must be in [1, 7]"},
    {"sparsity_n negative",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = -1;
       b.lp.sparsity_m = 4;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->sparsity_n is -1"},
    {"num_sink_tokens",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = 2;
       b.lp.sparsity_m = 4;
       b.lp.num_sink_tokens = -3;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->num_sink_tokens is -3; must be >= 0"},
    {"dense_window_size",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.dense_window_size = -1;  // invalid even with N:M off
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->dense_window_size is -1; must be >= 0"},
    {"quantize_p",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.quantize_p = 2;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->quantize_p is 2; expected 0 or 1"},
    {"layer threshold",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.enabled = 1;
       b.lp.threshold_scale_factor = -2.0;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->threshold_scale_factor is -2"},
};

TEST(AttentionArguments, ReferenceRejectsEachBadField) {
  for (const BadCase& c : kBadCases) expect_error(reference_call, c, "spattn_attention_reference");
}

TEST(AttentionArguments, ForwardRejectsEachBadFieldBeforeLaunching) {
  for (const BadCase& c : kBadCases) expect_error(spattn_attention_forward, c, "spattn_attention_forward");
}

TEST(AttentionArguments, NullArgs) {
  EXPECT_EQ(spattn_attention_reference(nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args is NULL"), std::string::npos);
  EXPECT_EQ(spattn_attention_forward(nullptr, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
}

TEST(AttentionArguments, ReferenceRejectsInconsistentOffsets) {
  Shape s;
  s.q_lens = {10, 20};
  s.kv_lens = {10, 20};
  s.batch = 2;
  Host h = make_host(s);
  std::vector<uint16_t> out(h.out_elems());
  std::vector<int32_t> cu_q = {0, 10, 30}, cu_kv = {0, 25, 30};  // 25 > seqlen_kv 20
  spattn_attention_args a =
      make_args(h, h.q.data(), h.k.data(), h.v.data(), out.data(), cu_q.data(), cu_kv.data());
  EXPECT_EQ(spattn_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("cu_seqlens"), std::string::npos);
}

#if !SPATTN_HAVE_CUDA
TEST(AttentionArguments, ForwardWithoutCudaIsUnsupported) {
  BadArgs b;  // valid arguments
  EXPECT_EQ(spattn_attention_forward(&b.args, nullptr), SPATTN_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(spattn_last_error()).find("built without CUDA"), std::string::npos);
}
#endif

}  // namespace

// The CUDA grid is (query tiles, heads, batch): heads and batch above CUDA's
// 65535 limit for grid y/z are refused before any launch, with the reason.
TEST(AttentionKernelLimits, GridLimitsAreCheckedBeforeLaunch) {
  spattn::attention::Problem problem;
  problem.batch = 2;
  problem.num_heads = 8;
  EXPECT_NO_THROW(spattn::attention::check_kernel_alignment(problem, "test"));
  for (int which = 0; which < 2; ++which) {
    spattn::attention::Problem big = problem;
    (which == 0 ? big.batch : big.num_heads) = 65536;
    try {
      spattn::attention::check_kernel_alignment(big, "test");
      ADD_FAILURE() << "65536 " << (which == 0 ? "batch" : "heads") << " accepted";
    } catch (const spattn::Error& e) {
      EXPECT_EQ(e.status(), SPATTN_ERR_UNSUPPORTED);
      EXPECT_NE(std::string(e.what()).find("must each be at most 65535"), std::string::npos) << e.what();
    }
  }
}

// total_q / total_kv (appended to the args struct): optional, checked against
// the offsets by the reference, and ignored for callers whose struct_size
// predates them.
TEST(AttentionArguments, PackedTotalsAreOptionalAndMustMatchTheOffsets) {
  Shape s;
  s.q_lens = {10, 20};
  s.kv_lens = {12, 20};
  s.batch = 2;
  Host h = make_host(s);
  fill_peaked(h, 5, 4.0f);
  std::vector<int32_t> cu_q = {0, 10, 30}, cu_kv = {0, 12, 32};
  auto run = [&](int32_t total_q, int32_t total_kv, uint32_t struct_size, std::vector<uint16_t>& out) {
    out.assign(h.out_elems(), 0);
    spattn_attention_args a =
        make_args(h, h.q.data(), h.k.data(), h.v.data(), out.data(), cu_q.data(), cu_kv.data());
    a.total_q = total_q;
    a.total_kv = total_kv;
    a.struct_size = struct_size;
    return spattn_attention_reference(&a);
  };
  const uint32_t full = sizeof(spattn_attention_args);
  std::vector<uint16_t> without, with;
  ASSERT_EQ(run(0, 0, full, without), SPATTN_OK) << spattn_last_error();
  ASSERT_EQ(run(30, 32, full, with), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(without, with);

  EXPECT_EQ(run(31, 32, full, with), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.total_q 31 / total_kv 32 differ from cu_seqlens_q[batch] 30"),
            std::string::npos)
      << spattn_last_error();
  EXPECT_EQ(run(30, 0, full, with), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("give both token totals"), std::string::npos);
  EXPECT_EQ(run(15, 32, full, with), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("smaller than the longest sequence"), std::string::npos);

  // A caller built before the totals existed: whatever lies past its struct is not read.
  const uint32_t version1 = offsetof(spattn_attention_args, total_q);
  ASSERT_EQ(run(-7, 999, version1, with), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(without, with);
}
