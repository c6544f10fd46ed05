// RocketKV on the CPU: the pieces of the reference against hand-computed
// cases (pooling, top-k ties, E5M2 rounding, the bound's dims, compaction,
// the KT update and page selection), the whole reference against the
// float64 model of tests/unit/rocket_test_support.hpp, argument validation,
// and the tests of the test (the check fails on a mutated run).
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention/fp8.hpp"
#include "attention/half_float.hpp"
#include "attention/rocket_problem.hpp"
#include "attention/rocket_reference.hpp"
#include "core/error.hpp"
#include "rocket_test_support.hpp"

namespace {

namespace rocket = spattn::attention::rocket;
using rocket_test::Case;
using rocket_test::Host;

// ---------------------------------------------------------------------------
// Runs of the CPU reference on a host problem.

struct ReferenceRun {
  spattn_status status = SPATTN_OK;
  std::string error;
};

ReferenceRun run_context(Host& h, rocket_test::ContextResult& r) {
  r.kept.assign(size_t(h.batch()) * h.c.kv_heads * h.c.budget, 0x7eadbeef);
  r.seqlens_out.assign(size_t(h.batch()), -7);
  r.k = h.k;
  r.v = h.v;
  r.kt = h.kt;
  rocket_test::Pointers p;
  p.q = h.q.data();
  p.k = r.k.data();
  p.v = r.v.data();
  p.block_table = h.c.paged_kv ? h.block_table.data() : nullptr;
  p.seqlens = h.seqlens.data();
  p.kt = r.kt.data();
  p.kt_block_table = h.c.paged_kt ? h.kt_block_table.data() : nullptr;
  p.seqlens_out = r.seqlens_out.data();
  p.kept = r.kept.data();
  rocket_test::Args a;
  rocket_test::fill_args(h, p, a);
  ReferenceRun run;
  run.status = spattn_rocket_context_reference(&a.context);
  if (run.status != SPATTN_OK) run.error = spattn_last_error();
  return run;
}

ReferenceRun run_decode(Host& h, rocket_test::DecodeResult& r) {
  const size_t max_sel = size_t(h.c.topk) * h.c.page;
  r.kt = h.kt;
  // Twice the room: a mutated config (page_size doubled) writes longer lists.
  r.selected.assign(2 * size_t(h.batch()) * h.c.kv_heads * max_sel, 0x7eadbeef);
  r.out.assign(rocket_test::out_layout(h).elems + rocket_test::kGuard, kernel_check::kPoison16);
  r.lse.assign(size_t(h.batch()) * h.heads(), kernel_check::poison_f32());
  std::vector<uint8_t> k = h.k, v = h.v;
  rocket_test::Pointers p;
  p.q = h.q.data();
  p.k = k.data();
  p.v = v.data();
  p.block_table = h.c.paged_kv ? h.block_table.data() : nullptr;
  p.seqlens = h.seqlens.data();
  p.kt = r.kt.data();
  p.kt_block_table = h.c.paged_kt ? h.kt_block_table.data() : nullptr;
  p.out = r.out.data();
  p.lse = r.lse.data();
  p.selected = r.selected.data();
  rocket_test::Args a;
  rocket_test::fill_args(h, p, a);
  ReferenceRun run;
  run.status = spattn_rocket_decode_reference(&a.decode);
  if (run.status != SPATTN_OK) run.error = spattn_last_error();
  r.selected.resize(r.selected.size() / 2);
  return run;
}

// ---------------------------------------------------------------------------
// Pieces, by hand.

TEST(RocketPieces, MaxPoolOddEvenAndWiderThanTheInput) {
  const std::vector<double> x{1, 3, 2, 5, 4, 0};
  EXPECT_EQ(rocket::max_pool(x, 1), x);
  EXPECT_EQ(rocket::max_pool(x, 3), (std::vector<double>{3, 3, 5, 5, 5, 4}));
  // even widths: output j covers [j - w/2, j + w/2 - 1] (PyTorch, padding w/2)
  EXPECT_EQ(rocket::max_pool(x, 2), (std::vector<double>{1, 3, 3, 5, 5, 4}));
  EXPECT_EQ(rocket::max_pool(x, 4), (std::vector<double>{3, 3, 5, 5, 5, 5}));
  EXPECT_EQ(rocket::max_pool(x, 63), (std::vector<double>(6, 5.0)));
  EXPECT_TRUE(rocket::max_pool({}, 5).empty());
}

TEST(RocketPieces, TopKPrefersLowerPositionsOnTiesAndReturnsThemInOrder) {
  // The index-sparse family's rule (spattn_topk), on the reference's doubles.
  const std::vector<double> x{5, 1, 5, 3, 5};
  EXPECT_EQ(rocket::top_k(x, 2), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(rocket::top_k(x, 4), (std::vector<int32_t>{0, 2, 3, 4}));
  EXPECT_EQ(rocket::top_k({NAN, 1, -INFINITY}, 2), (std::vector<int32_t>{1}));
}

TEST(RocketPieces, KtValuesRoundToNearestEvenAndSaturate) {
  const auto e5m2 = SPATTN_KT_CACHE_FLOAT8_E5M2;
  EXPECT_EQ(rocket::round_kt(1.0f, e5m2), 1.0f);
  EXPECT_EQ(rocket::round_kt(1.1f, e5m2), 1.0f);
  EXPECT_EQ(rocket::round_kt(1.125f, e5m2), 1.0f);    // halfway 1 / 1.25: even mantissa
  EXPECT_EQ(rocket::round_kt(1.375f, e5m2), 1.5f);    // halfway 1.25 / 1.5: even mantissa
  EXPECT_EQ(rocket::round_kt(-3.0f, e5m2), -3.0f);
  EXPECT_EQ(rocket::round_kt(60000.0f, e5m2), 57344.0f);  // saturates instead of overflowing
  EXPECT_EQ(rocket::round_kt(-1e30f, e5m2), -57344.0f);
  EXPECT_EQ(rocket::round_kt(std::ldexp(1.0f, -17), e5m2), 0.0f);                 // half the smallest subnormal
  EXPECT_EQ(rocket::round_kt(3 * std::ldexp(1.0f, -17), e5m2), std::ldexp(1.0f, -15));  // 1.5 steps: even
  EXPECT_EQ(rocket::round_kt(1.0f + std::ldexp(1.0f, -8), SPATTN_KT_CACHE_BFLOAT16), 1.0f);
  EXPECT_EQ(rocket::round_kt(1.0f + 3 * std::ldexp(1.0f, -8), SPATTN_KT_CACHE_BFLOAT16), 1.0f + std::ldexp(1.0f, -6));
  // Every E5M2 code reads back as itself (the bytes the kernels store).
  for (int code = 0; code < 256; ++code) {
    const float x = spattn::attention::e5m2_to_float(uint8_t(code));
    if (!std::isfinite(x)) continue;
    EXPECT_EQ(spattn::attention::float_to_e5m2(x) & 0x7f, code & 0x7f) << code;
    EXPECT_EQ(x, float(rocket_test::model_e5m2(uint8_t(code)))) << code;
  }
}

TEST(RocketPieces, BoundDimsRankTheGroupsSummedMagnitudes) {
  // heads {1, -3, 0.5, 2} and {-1, 1, 0.5, -2}: sums of |q_d| {2, 4, 1, 4}
  const std::vector<float> q{1, -3, 0.5f, 2, -1, 1, 0.5f, -2};
  EXPECT_EQ(rocket::bound_dims(q, 2, 4, 1), (std::vector<int32_t>{1}));  // 4 and 4 tie: lower first
  EXPECT_EQ(rocket::bound_dims(q, 2, 4, 2), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(rocket::bound_dims(q, 2, 4, 3), (std::vector<int32_t>{0, 1, 3}));
}

TEST(RocketPieces, WindowScoresSumTheRowsSoftmaxOverThePrefix) {
  // One row, dim 1, q = 1, keys {0, ln 2, ln 2}: softmax {1/5, 2/5, 2/5};
  // two rows (q = 1 and q = 0): {1/5 + 1/3, 2/5 + 1/3, 2/5 + 1/3}.
  const std::vector<float> keys{0.0f, float(std::log(2.0)), float(std::log(2.0))};
  const std::vector<double> one = rocket::window_scores({1.0f}, 1, keys, 3, 1, 1.0);
  EXPECT_NEAR(one[0], 0.2, 1e-7);
  EXPECT_NEAR(one[1], 0.4, 1e-7);
  const std::vector<double> two = rocket::window_scores({1.0f, 0.0f}, 2, keys, 3, 1, 1.0);
  EXPECT_NEAR(two[0], 0.2 + 1.0 / 3, 1e-7);
  EXPECT_NEAR(two[2], 0.4 + 1.0 / 3, 1e-7);
  // Only the prefix takes part: a fourth key is not in the softmax.
  const std::vector<double> three = rocket::window_scores({1.0f}, 1, {0.0f, 0.0f, 100.0f}, 2, 1, 1.0);
  EXPECT_NEAR(three[0], 0.5, 1e-12);
}

TEST(RocketPieces, ToprCountsAndFractions) {
  EXPECT_EQ(spattn::attention::resolve_topr(128, 64, "f", "topr"), 64);
  EXPECT_EQ(spattn::attention::resolve_topr(24, 64, "f", "topr"), 24);
  EXPECT_EQ(spattn::attention::resolve_topr(0.5, 128, "f", "topr"), 64);
  EXPECT_EQ(spattn::attention::resolve_topr(0.001, 128, "f", "topr"), 1);
  EXPECT_THROW(spattn::attention::resolve_topr(2.5, 128, "f", "topr"), spattn::Error);
  EXPECT_THROW(spattn::attention::resolve_topr(0.0, 128, "f", "topr"), spattn::Error);
}

// ---------------------------------------------------------------------------
// Compaction, KT build, KT update and page selection by hand: dim-64
// queries and keys along dim 0 only, so every logit is known.

Case tiny_case() {
  Case c;
  c.name = "tiny";
  c.dim = 64;
  c.kv_heads = 1;
  c.group = 1;
  c.window = 1;
  c.kernel = 1;
  c.budget = 3;
  c.page = 2;
  c.topk = 1;
  c.topr = 64;
  c.kt_dtype = SPATTN_KT_CACHE_BFLOAT16;
  c.softmax_scale = 1.0f;
  return c;
}

// Key j of sequence b: x along dim 0 and (j + 1) / 8 along dim 1 (so rows differ); value j: j + 1 everywhere.
void set_row(Host& h, int b, int j, double x) {
  for (int d = 0; d < h.c.dim; ++d) {
    rocket_test::store_kv(h, false, b, j, 0, d, d == 0 ? x : d == 1 ? (j + 1) / 8.0 : 0.0);
    rocket_test::store_kv(h, true, b, j, 0, d, j + 1);
  }
}

TEST(RocketContextByHand, KeepsTheTopPrefixPlusTheWindowAndCompactsInPlace) {
  Case c = tiny_case();
  c.lens = {5, 2};  // sequence 1 is shorter than the budget
  Host h = rocket_test::layout(c, c.window);
  for (int b = 0; b < 2; ++b) {
    for (int d = 0; d < c.dim; ++d) rocket_test::store_q(h, b, 0, 0, d, d == 0 ? 1.0 : 0.0);
  }
  // prefix of sequence 0: positions 0..3 with logits 0, 5, 1, 4: the top 2 are 1 and 3
  const double x0[5] = {0, 5, 1, 4, -2};
  for (int j = 0; j < 5; ++j) set_row(h, 0, j, x0[j]);
  set_row(h, 1, 0, 3);
  set_row(h, 1, 1, -1);
  rocket_test::ContextResult r;
  const ReferenceRun run = run_context(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(r.kept, (std::vector<int32_t>{1, 3, 4, 0, 1, -1}));
  EXPECT_EQ(r.seqlens_out, (std::vector<int32_t>{3, 2}));
  // rows 0, 1, 2 of sequence 0 now hold the old rows 1, 3, 4 (K and V); rows 3, 4 are untouched
  const size_t row = size_t(c.dim) * 2;
  const int moved_from[5] = {1, 3, 4, 3, 4};
  for (int t = 0; t < 5; ++t) {
    EXPECT_EQ(0, std::memcmp(&r.k[h.kv_row(false, 0, t, 0)], &h.k[h.kv_row(false, 0, moved_from[t], 0)], row)) << t;
    EXPECT_EQ(0, std::memcmp(&r.v[h.kv_row(true, 0, t, 0)], &h.v[h.kv_row(true, 0, moved_from[t], 0)], row)) << t;
  }
  // sequence 1 is not moved
  EXPECT_EQ(0, std::memcmp(&r.k[h.kv_row(false, 1, 0, 0)], &h.k[h.kv_row(false, 1, 0, 0)], 2 * row));
  // KT entries (pages of 2): sequence 0 [rows {1, 3}], [row {4}]; sequence 1 [rows {0, 1}]
  auto kt = [&](int b, int e, int d) {
    uint16_t v;
    std::memcpy(&v, &r.kt[h.kt_row(b, e, 0) + size_t(d) * 2], 2);
    return spattn::attention::bf16_to_float(v);
  };
  EXPECT_EQ(kt(0, 0, 0), 4.0f);       // min of 5, 4 along dim 0
  EXPECT_EQ(kt(0, 0, 64), 5.0f);      // max
  EXPECT_EQ(kt(0, 0, 1), 0.25f);      // min of 2/8, 4/8 along dim 1
  EXPECT_EQ(kt(0, 0, 65), 0.5f);
  EXPECT_EQ(kt(0, 1, 0), -2.0f);      // a one-token entry: min = max = the key
  EXPECT_EQ(kt(0, 1, 64), -2.0f);
  EXPECT_EQ(kt(1, 0, 0), -1.0f);
  EXPECT_EQ(kt(1, 0, 64), 3.0f);
  // Nothing written past the entries used.
  EXPECT_EQ(r.kt[h.kt_row(0, 2, 0)], rocket_test::kPoisonByte);
  EXPECT_EQ(r.kt[h.kt_row(1, 1, 0)], rocket_test::kPoisonByte);
}

TEST(RocketContextByHand, PoolingSpreadsAPeakAndTiesKeepTheLowerPositions) {
  Case c = tiny_case();
  c.kernel = 3;
  c.budget = 4;  // 3 prefix positions kept
  c.lens = {8};  // prefix 0..6, window 7
  Host h = rocket_test::layout(c, c.window);
  for (int d = 0; d < c.dim; ++d) rocket_test::store_q(h, 0, 0, 0, d, d == 0 ? 1.0 : 0.0);
  // logits: a peak at 4; 1 is second. Pooled (width 3): position 3, 4, 5 take the peak's
  // value, 0, 1, 2 take key 1's: the top 3 are the peak's plateau {3, 4, 5}.
  const double x[8] = {0, 2, 0, 0, 6, 0, 0, 0};
  for (int j = 0; j < 8; ++j) set_row(h, 0, j, x[j]);
  rocket_test::ContextResult r;
  ReferenceRun run = run_context(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(std::vector<int32_t>(r.kept.begin(), r.kept.begin() + 4), (std::vector<int32_t>{3, 4, 5, 7}));
  // Budget 6: the peak's plateau, then two of the tie {0, 1, 2} (key 1's value): 0 and 1.
  h.config.prompt_budget = 6;
  h.c.budget = 6;
  run = run_context(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(std::vector<int32_t>(r.kept.begin(), r.kept.begin() + 6), (std::vector<int32_t>{0, 1, 3, 4, 5, 7}));
}

Case tiny_decode_case() {
  Case c = tiny_case();
  c.out_layout = {kernel_check::Order::BSHD, 0};
  return c;
}

// A decode problem: sequence of `len` tokens with keys x[j] along dim 0,
// KT entries of tokens [0, len - 1) built by hand.
Host decode_by_hand(const std::vector<double>& x, int topk) {
  Case c = tiny_decode_case();
  c.topk = topk;
  c.lens = {int(x.size())};
  Host h = rocket_test::layout(c, 1);
  for (int d = 0; d < c.dim; ++d) rocket_test::store_q(h, 0, 0, 0, d, d == 0 ? 1.0 : 0.0);
  for (int j = 0; j < int(x.size()); ++j) set_row(h, 0, j, x[size_t(j)]);
  const int len = int(x.size());
  for (int e = 0; e < rocket_test::entries_of(len - 1, c.page); ++e) {
    uint8_t* row = &h.kt[h.kt_row(0, e, 0)];
    for (int d = 0; d < c.dim; ++d) {
      double lo = INFINITY, hi = -INFINITY;
      for (int j = e * c.page; j < std::min(len - 1, e * c.page + c.page); ++j) {
        lo = std::min(lo, h.kv_value(false, 0, j, 0, d));
        hi = std::max(hi, h.kv_value(false, 0, j, 0, d));
      }
      rocket_test::model_store_kt(lo, false, row + size_t(d) * 2);
      rocket_test::model_store_kt(hi, false, row + size_t(c.dim + d) * 2);
    }
  }
  return h;
}

float kt_value(const Host& h, const std::vector<uint8_t>& kt, int e, int d) {
  return float(rocket_test::model_load_kt(&kt[h.kt_row(0, e, 0) + size_t(d) * 2], false));
}

TEST(RocketDecodeByHand, TheNewTokensEntryIsUpdatedAndTheBestEntryAttended) {
  // Entries (pages of 2): {0.5, 2} -> bound 2, {1, 0} -> 1, {3} (the new token) -> 3.
  Host h = decode_by_hand({0.5, 2, 1, 0, 3}, 1);
  rocket_test::DecodeResult r;
  ReferenceRun run = run_decode(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(kt_value(h, r.kt, 2, 0), 3.0f);   // a fresh entry: min = max = the new key
  EXPECT_EQ(kt_value(h, r.kt, 2, 64), 3.0f);
  EXPECT_EQ(r.selected, (std::vector<int32_t>{4, -1}));
  // one key attended: the output is its value (5) and the LSE its logit (3)
  EXPECT_EQ(spattn::attention::bf16_to_float(r.out[0]), 5.0f);
  EXPECT_NEAR(r.lse[0], 3.0, 1e-6);
  // topk 2: entries 0 and 2, tokens 0, 1, 4 in increasing order
  Host h2 = decode_by_hand({0.5, 2, 1, 0, 3}, 2);
  run = run_decode(h2, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(r.selected, (std::vector<int32_t>{0, 1, 4, -1}));
  const double w[3] = {std::exp(0.5), std::exp(2.0), std::exp(3.0)};
  const double want = (w[0] * 1 + w[1] * 2 + w[2] * 5) / (w[0] + w[1] + w[2]);
  EXPECT_NEAR(spattn::attention::bf16_to_float(r.out[0]), want, want * 0x1p-8);
}

TEST(RocketDecodeByHand, ANewTokenInAStartedEntryWidensItsBounds) {
  // The new token (index 3) joins entry 1 = {1}: the entry becomes {1, -4}.
  Host h = decode_by_hand({0.5, 2, 1, -4}, 1);
  rocket_test::DecodeResult r;
  const ReferenceRun run = run_decode(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(kt_value(h, r.kt, 1, 0), -4.0f);
  EXPECT_EQ(kt_value(h, r.kt, 1, 64), 1.0f);
  EXPECT_EQ(kt_value(h, r.kt, 0, 64), 2.0f);  // entry 0 untouched
  EXPECT_EQ(r.selected, (std::vector<int32_t>{0, 1}));  // bounds 2 and 1: entry 0
}

TEST(RocketDecodeByHand, TheBoundIsPerHeadNotTheGroupsSign) {
  // Two heads: q_0 = +e0, q_1 = -2 e0 (group sum negative). Entry 0 holds
  // keys {-3, 1} along dim 0, entry 1 {0.5, 0.5}, entry 2 the new token 0.
  // Per-head bounds: head 0 {1, 0.5, 0}, head 1 {6, -1, 0}: entry 0 wins.
  // TensorRT-LLM's shared kmin (negative sum) would give head 0 -3 and head 1 6.
  Case c = tiny_decode_case();
  c.group = 2;
  c.topk = 1;
  c.lens = {5};
  Host h = rocket_test::layout(c, 1);
  for (int d = 0; d < c.dim; ++d) {
    rocket_test::store_q(h, 0, 0, 0, d, d == 0 ? 1.0 : 0.0);
    rocket_test::store_q(h, 0, 0, 1, d, d == 0 ? -2.0 : 0.0);
  }
  const double x[5] = {-3, 1, 0.5, 0.5, 0};
  for (int j = 0; j < 5; ++j) set_row(h, 0, j, x[j]);
  for (int e = 0; e < 2; ++e) {
    uint8_t* row = &h.kt[h.kt_row(0, e, 0)];
    for (int d = 0; d < c.dim; ++d) {
      const double a = h.kv_value(false, 0, 2 * e, 0, d), b = h.kv_value(false, 0, 2 * e + 1, 0, d);
      rocket_test::model_store_kt(std::min(a, b), false, row + size_t(d) * 2);
      rocket_test::model_store_kt(std::max(a, b), false, row + size_t(c.dim + d) * 2);
    }
  }
  rocket_test::DecodeResult r;
  const ReferenceRun run = run_decode(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_EQ(r.selected, (std::vector<int32_t>{0, 1}));
}

// ---------------------------------------------------------------------------
// The whole reference against the float64 model.

class RocketContextReference : public ::testing::TestWithParam<Case> {};

TEST_P(RocketContextReference, MatchesTheFloat64Model) {
  Host h = rocket_test::layout(GetParam(), GetParam().window);
  rocket_test::generate_context(h);
  const rocket_test::ContextExpected e = rocket_test::model_context(h);
  ASSERT_GE(e.margin, 1.0) << "the inputs put a decision within the error bound";
  rocket_test::ContextResult r;
  const ReferenceRun run = run_context(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  const kernel_check::Verdict v = rocket_test::check_context(h, e, r);
  EXPECT_TRUE(v.ok()) << v.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, RocketContextReference, ::testing::ValuesIn(rocket_test::context_cases()), kernel_check::CaseName());

class RocketDecodeReference : public ::testing::TestWithParam<Case> {};

TEST_P(RocketDecodeReference, MatchesTheFloat64Model) {
  Host h = rocket_test::layout(GetParam(), 1);
  rocket_test::generate_decode(h);
  const rocket_test::DecodeExpected e = rocket_test::model_decode(h);
  ASSERT_GE(e.margin, 1.0) << "the inputs put a decision within the error bound";
  rocket_test::DecodeResult r;
  const ReferenceRun run = run_decode(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  const kernel_check::Verdict v = rocket_test::check_decode(h, e, rocket_test::kReferenceArithmetic, r);
  EXPECT_TRUE(v.ok()) << v.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, RocketDecodeReference, ::testing::ValuesIn(rocket_test::decode_cases()), kernel_check::CaseName());

// ---------------------------------------------------------------------------
// Tests of the test: each mutation makes the check fail.

TEST(RocketMutations, EachContextMutationFailsTheCheck) {
  for (const char* name : {"rocket_pool_wider", "rocket_v_with_k_strides", "rocket_kt_page_doubled"}) {
    Host h = rocket_test::layout(rocket_test::context_cases()[0], rocket_test::context_cases()[0].window);
    rocket_test::generate_context(h);
    const rocket_test::ContextExpected e = rocket_test::model_context(h);
    kernel_check::ScopedMutation m(name);
    rocket_test::ContextResult r;
    const ReferenceRun run = run_context(h, r);
    ASSERT_EQ(run.status, SPATTN_OK) << name << ": " << run.error;
    EXPECT_FALSE(rocket_test::check_context(h, e, r).ok()) << name << " went unnoticed";
  }
}

TEST(RocketMutations, EachDecodeMutationFailsTheCheck) {
  for (const char* name : {"rocket_topk_minus_one", "rocket_wrong_softmax_scale", "rocket_v_with_k_strides",
                           "rocket_kt_page_doubled"}) {
    Host h = rocket_test::layout(rocket_test::decode_cases()[0], 1);
    rocket_test::generate_decode(h);
    const rocket_test::DecodeExpected e = rocket_test::model_decode(h);
    kernel_check::ScopedMutation m(name);
    rocket_test::DecodeResult r;
    const ReferenceRun run = run_decode(h, r);
    ASSERT_EQ(run.status, SPATTN_OK) << name << ": " << run.error;
    EXPECT_FALSE(rocket_test::check_decode(h, e, rocket_test::kReferenceArithmetic, r).ok())
        << name << " went unnoticed";
  }
}

// ---------------------------------------------------------------------------
// Validation: every bad field is refused, naming it.

class RocketValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    Case c = rocket_test::context_cases()[0];
    c.paged_kv = true;
    c.paged_kt = true;
    h_ = rocket_test::layout(c, c.window);
    kept_.assign(size_t(h_.batch()) * c.kv_heads * c.budget, 0);
    p_.q = h_.q.data();
    p_.k = h_.k.data();
    p_.v = h_.v.data();
    p_.block_table = h_.block_table.data();
    p_.seqlens = h_.seqlens.data();
    p_.kt = h_.kt.data();
    p_.kt_block_table = h_.kt_block_table.data();
    p_.kept = kept_.data();
    rocket_test::fill_args(h_, p_, a_);
  }

  // The context reference's status and message after `edit`.
  template <class Edit>
  std::pair<spattn_status, std::string> context(Edit&& edit) {
    rocket_test::fill_args(h_, p_, a_);
    edit(a_);
    const spattn_status s = spattn_rocket_context_reference(&a_.context);
    return {s, s == SPATTN_OK ? "" : spattn_last_error()};
  }

  Host h_;
  std::vector<int32_t> kept_;
  rocket_test::Pointers p_;
  rocket_test::Args a_;
};

#define EXPECT_REFUSED(result, status, text)                                   \
  do {                                                                         \
    const auto r_ = (result);                                                  \
    EXPECT_EQ(r_.first, status) << r_.second;                                  \
    EXPECT_NE(r_.second.find(text), std::string::npos) << "message: " << r_.second; \
  } while (0)

TEST_F(RocketValidation, RefusesEachBadFieldByName) {
  using A = rocket_test::Args;
  const spattn_status bad = SPATTN_ERR_INVALID_ARGUMENT;
  EXPECT_REFUSED(context([](A& a) { a.context.struct_size = 8; }), bad, "spattn_rocket_context_args.struct_size");
  EXPECT_REFUSED(context([](A& a) { a.context.dtype = SPATTN_DTYPE_FLOAT8_E4M3; }), bad, "args.dtype");
  EXPECT_REFUSED(context([](A& a) { a.context.batch = 0; }), bad, "args.batch");
  EXPECT_REFUSED(context([](A& a) { a.context.num_heads = 3; }), bad, "args.num_heads");
  EXPECT_REFUSED(context([](A& a) { a.context.q_window = nullptr; }), bad, "args.q_window");
  EXPECT_REFUSED(context([](A& a) { a.context.config = nullptr; }), bad, "args.config");
  EXPECT_REFUSED(context([](A& a) { a.config.window_size = 0; }), bad, "args.config->window_size");
  EXPECT_REFUSED(context([](A& a) { a.config.prompt_budget = a.config.window_size; }), bad,
                 "args.config->prompt_budget");
  EXPECT_REFUSED(context([](A& a) { a.config.page_size = 3; }), bad, "args.config->page_size");
  EXPECT_REFUSED(context([](A& a) { a.config.page_size = 256; }), bad, "args.config->page_size");
  EXPECT_REFUSED(context([](A& a) { a.config.kernel_size = -1; }), bad, "args.config->kernel_size");
  EXPECT_REFUSED(context([](A& a) { a.config.topr = 2.5; }), bad, "args.config->topr");
  EXPECT_REFUSED(context([](A& a) { a.config.kt_cache_dtype = SPATTN_KT_CACHE_BFLOAT16; }), bad,
                 "args.kt_cache->dtype");
  EXPECT_REFUSED(context([](A& a) { a.kt.num_kv_heads = 1; }), bad, "args.kt_cache has 1 KV heads");
  EXPECT_REFUSED(context([](A& a) { a.kt.max_entries = 3; }), bad, "args.kt_cache->max_entries");
  EXPECT_REFUSED(context([](A& a) { a.kt.block_table = nullptr; }), bad, "args.kt_cache->block_table");
  EXPECT_REFUSED(context([](A& a) { a.kt.max_blocks_per_seq = 1; }), bad, "args.kt_cache->max_blocks_per_seq");
  EXPECT_REFUSED(context([](A& a) { a.kt.strides[1] = -1; }), bad, "args.kt_cache->strides[1]");
  EXPECT_REFUSED(context([](A& a) { a.kt.data = nullptr; }), bad, "args.kt_cache->data");
  EXPECT_REFUSED(context([](A& a) { a.context.kt_cache = nullptr; }), bad, "args.kt_cache");
  EXPECT_REFUSED(context([](A& a) { a.kv.page_size = 12; }), bad, "args.kv_cache->page_size");
  EXPECT_REFUSED(context([](A& a) { a.context.softmax_scale = -1.0f; }), bad, "args.softmax_scale");
  EXPECT_REFUSED(context([](A& a) { a.kv.head_dim = 96; a.kt.head_dim = 96; }), SPATTN_ERR_UNSUPPORTED,
                 "args.kv_cache->head_dim");
}

TEST_F(RocketValidation, TheReferenceRefusesDeviceValuesOutOfRange) {
  std::vector<int32_t> table = h_.kt_block_table;
  table[0] = h_.kt_blocks;  // a block past the pool
  p_.kt_block_table = table.data();
  auto r = context([](rocket_test::Args&) {});
  EXPECT_REFUSED(r, SPATTN_ERR_INVALID_ARGUMENT, "args.kt_cache->block_table[0][0]");
  p_.kt_block_table = h_.kt_block_table.data();
  std::vector<int32_t> lens = h_.seqlens;
  lens[1] = h_.max_seqlen + 1;
  p_.seqlens = lens.data();
  r = context([](rocket_test::Args&) {});
  EXPECT_REFUSED(r, SPATTN_ERR_INVALID_ARGUMENT, "args.kv_cache->seqlens_kv[1]");
}

TEST_F(RocketValidation, LaunchChecksComeBeforeTheMissingDevice) {
  // The pieces need kept_indices; the workspace must be large enough; these
  // are refused even where no kernel could run.
  rocket_test::fill_args(h_, p_, a_);
  a_.context.kept_indices = nullptr;
  EXPECT_EQ(spattn_rocket_context_select(&a_.context, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.kept_indices"), std::string::npos) << spattn_last_error();
  size_t bytes = 0;
  ASSERT_EQ(spattn_rocket_context_workspace_size(&a_.context, &bytes), SPATTN_OK) << spattn_last_error();
  EXPECT_GT(bytes, 0u);
  a_.context.workspace_size = bytes - 1;
  EXPECT_EQ(spattn_rocket_context(&a_.context, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.workspace_size"), std::string::npos) << spattn_last_error();
  EXPECT_EQ(spattn_rocket_context_workspace_size(&a_.context, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  rocket_test::fill_args(h_, p_, a_);
  a_.config.kernel_size = 2000;
  EXPECT_EQ(spattn_rocket_context(&a_.context, nullptr), SPATTN_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(spattn_last_error()).find("kernel_size"), std::string::npos) << spattn_last_error();
}

TEST(RocketValidationDecode, RefusesEachBadFieldByName) {
  Host h = rocket_test::layout(rocket_test::decode_cases()[0], 1);
  rocket_test::Pointers p;
  std::vector<uint16_t> out(rocket_test::out_layout(h).elems);
  p.q = h.q.data();
  p.k = h.k.data();
  p.v = h.v.data();
  p.seqlens = h.seqlens.data();
  p.kt = h.kt.data();
  p.out = out.data();
  auto decode = [&](auto&& edit) {
    rocket_test::Args a;
    rocket_test::fill_args(h, p, a);
    edit(a);
    const spattn_status s = spattn_rocket_decode_reference(&a.decode);
    return std::make_pair(s, std::string(s == SPATTN_OK ? "" : spattn_last_error()));
  };
  using A = rocket_test::Args;
  const spattn_status bad = SPATTN_ERR_INVALID_ARGUMENT;
  EXPECT_REFUSED(decode([](A& a) { a.decode.struct_size = 4; }), bad, "spattn_rocket_decode_args.struct_size");
  EXPECT_REFUSED(decode([](A& a) { a.decode.out = nullptr; }), bad, "args.out");
  EXPECT_REFUSED(decode([](A& a) { a.decode.q = nullptr; }), bad, "args.q");
  EXPECT_REFUSED(decode([](A& a) { a.decode.out_strides[2] = -8; }), bad, "out_strides");
  EXPECT_REFUSED(decode([](A& a) { a.config.topk = 0; }), bad, "args.config->topk");
  EXPECT_REFUSED(decode([](A& a) { a.config.struct_size = 4; }), bad, "spattn_rocket_config.struct_size");
  EXPECT_REFUSED(decode([](A& a) { a.kv.head_dim_v = 128; }), SPATTN_ERR_UNSUPPORTED, "head_dim_v");
  rocket_test::Args a;
  rocket_test::fill_args(h, p, a);
  a.decode.selected_indices = nullptr;
  EXPECT_EQ(spattn_rocket_decode_attend(&a.decode, nullptr), bad);
  EXPECT_NE(std::string(spattn_last_error()).find("args.selected_indices"), std::string::npos);
}

TEST(RocketConfig, TheParsedConfigDrivesTheReference) {
  // The config object of a YAML file reaches the call unchanged.
  const char* text = "sparse_attention_config:\n  algorithm: rocket\n  window_size: 8\n  kernel_size: 7\n"
                     "  prompt_budget: 96\n  page_size: 4\n  topk: 6\n  topr: 24\n  kt_cache_dtype: float8_e5m2\n";
  spattn_config* config = nullptr;
  ASSERT_EQ(spattn_config_parse(text, std::strlen(text), SPATTN_FORMAT_YAML, &config), SPATTN_OK) << spattn_last_error();
  spattn_rocket_config parsed{};
  parsed.struct_size = sizeof parsed;
  ASSERT_EQ(spattn_config_rocket(config, &parsed), SPATTN_OK);
  spattn_config_destroy(config);
  Host h = rocket_test::layout(rocket_test::context_cases()[0], 8);
  rocket_test::generate_context(h);
  const rocket_test::ContextExpected e = rocket_test::model_context(h);
  h.config = parsed;  // same numbers as the case: the same expectation
  rocket_test::ContextResult r;
  const ReferenceRun run = run_context(h, r);
  ASSERT_EQ(run.status, SPATTN_OK) << run.error;
  EXPECT_TRUE(rocket_test::check_context(h, e, r).ok());
}

}  // namespace
