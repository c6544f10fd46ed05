// CPU tests of the index-sparse family: spattn_sparse_attention_reference,
// spattn_topk_reference, spattn_dsa_indexer_reference and
// spattn_dsa_layer_reference against hand-computed cases and the
// independent float64 models of index_sparse_test_support.hpp; argument
// validation (every refusal names its field); the split rule and workspace
// sizes of spattn.h.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "index_sparse_test_support.hpp"

namespace {

using namespace index_sparse_test;
using kernel_check::Verdict;

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;
const auto F8 = SPATTN_DTYPE_FLOAT8_E4M3;

std::string last_error() { return spattn_last_error(); }

// ---------------------------------------------------------------------------
// A tiny problem written by hand: one sequence, one head, head dim 64,
// bf16 cache [keys][64] contiguous, values v_j[d] = vals[j] in every dim.

struct Tiny {
  int lq = 1, lk = 4;
  std::vector<uint16_t> q, k, v, out;
  std::vector<int32_t> list, seqlens;
  std::vector<float> lse;
  spattn_kv_cache cache{};
  spattn_sparse_attention_args a{};

  Tiny(int lq_, int lk_, const std::vector<float>& vals, std::vector<int32_t> l, int topk)
      : lq(lq_), lk(lk_), list(std::move(l)) {
    q.assign(size_t(lq) * 64, store16(0.0, BF));
    k.assign(size_t(lk) * 64, store16(0.0, BF));
    v.assign(size_t(lk) * 64, 0);
    for (int j = 0; j < lk; ++j)
      for (int d = 0; d < 64; ++d) v[size_t(j) * 64 + d] = store16(vals[size_t(j)], BF);
    out.assign(size_t(lq) * 64, kernel_check::kPoison16);
    lse.assign(size_t(lq), kernel_check::poison_f32());
    seqlens = {lk};
    cache.struct_size = sizeof cache;
    cache.layout = SPATTN_KV_LAYOUT_CONTIGUOUS;
    cache.dtype = BF;
    cache.num_kv_heads = 1;
    cache.head_dim = 64;
    cache.k = k.data();
    cache.v = v.data();
    cache.k_strides[0] = cache.v_strides[0] = int64_t(lk) * 64;
    cache.k_strides[1] = cache.v_strides[1] = 64;
    cache.k_strides[2] = cache.v_strides[2] = 64;
    cache.seqlens_kv = seqlens.data();
    cache.max_seqlen_kv = lk;
    a.struct_size = sizeof a;
    a.dtype = BF;
    a.batch = 1;
    a.num_heads = 1;
    a.seqlen_q = lq;
    a.q = q.data();
    a.q_strides[0] = int64_t(lq) * 64;
    a.q_strides[1] = 64;
    a.q_strides[2] = 64;
    a.out = out.data();
    for (int i = 0; i < 3; ++i) a.out_strides[i] = a.q_strides[i];
    a.kv_cache = &cache;
    a.indices = list.data();
    a.index_strides[0] = 0;
    a.index_strides[1] = topk;
    a.topk = topk;
    a.lse = lse.data();
  }
  double o(int i, int d) const { return load16(out[size_t(i) * 64 + d], BF); }
};

TEST(SparseReferenceHand, ZeroQueryAveragesTheListedValues) {
  // Keys {3, 0, 2} (a hole at slot 1): equal logits, the mean of 1, 4, 7 = 4.
  Tiny t(1, 5, {1, 100, 4, 7, 100}, {3, -1, 0, 2}, 4);
  ASSERT_EQ(spattn_sparse_attention_reference(&t.a), SPATTN_OK) << last_error();
  for (int d = 0; d < 64; ++d) EXPECT_EQ(t.o(0, d), 4.0) << d;
  EXPECT_NEAR(t.lse[0], std::log(3.0), 1e-6);
}

TEST(SparseReferenceHand, TwoLogitsWeighOneToThree) {
  // q = e0, k_0 = 0, k_1 = e0, softmax_scale ln 3: logits 0 and ln 3, weights
  // 1/4 and 3/4 of values 4 and 8: out = 7, LSE = ln 4.
  Tiny t(1, 2, {4, 8}, {1, 0}, 2);
  t.q[0] = store16(1.0, BF);
  t.k[64] = store16(1.0, BF);
  t.a.softmax_scale = float(std::log(3.0));
  ASSERT_EQ(spattn_sparse_attention_reference(&t.a), SPATTN_OK) << last_error();
  for (int d = 0; d < 64; ++d) EXPECT_EQ(t.o(0, d), 7.0) << d;
  EXPECT_NEAR(t.lse[0], std::log(4.0), 1e-6);
}

TEST(SparseReferenceHand, CausalMasksAListSharedByTheStepsQueries) {
  // Two queries, three keys, one list {2, 0, 1} shared by both (token stride
  // 0): query 0's diagonal is key 1 (0 + 3 - 2), query 1 sees all three.
  Tiny t(2, 3, {3, 6, 12}, {2, 0, 1}, 3);
  t.a.index_strides[1] = 0;
  t.a.causal = 1;
  ASSERT_EQ(spattn_sparse_attention_reference(&t.a), SPATTN_OK) << last_error();
  EXPECT_EQ(t.o(0, 5), 4.5);  // (3 + 6) / 2
  EXPECT_EQ(t.o(1, 5), 7.0);  // (3 + 6 + 12) / 3
  EXPECT_NEAR(t.lse[0], std::log(2.0), 1e-6);
  EXPECT_NEAR(t.lse[1], std::log(3.0), 1e-6);
  // Without causal both queries see the three keys.
  t.a.causal = 0;
  ASSERT_EQ(spattn_sparse_attention_reference(&t.a), SPATTN_OK) << last_error();
  EXPECT_EQ(t.o(0, 5), 7.0);
}

TEST(SparseReferenceHand, AnEmptyListGivesZerosAndMinusInfinity) {
  Tiny t(1, 3, {1, 2, 3}, {-1, -1}, 2);
  ASSERT_EQ(spattn_sparse_attention_reference(&t.a), SPATTN_OK) << last_error();
  for (int d = 0; d < 64; ++d) EXPECT_EQ(t.o(0, d), 0.0);
  EXPECT_EQ(t.lse[0], -INFINITY);
}

TEST(SparseReferenceHand, OrderOfTheListDoesNotMatter) {
  SparseCase c;
  c.name = "order";
  c.heads = 2;
  c.kv_heads = 1;
  c.dim = 64;
  c.dim_v = 64;
  c.q_lens = {2};
  c.kv_lens = {90};
  c.topk = 40;
  SparseSetup s(c, 11);
  std::vector<uint16_t> out1(s.out_elems(), kernel_check::kPoison16), out2 = out1;
  spattn_kv_cache kv = s.cache.host_desc();
  spattn_sparse_attention_args a = s.args(s.q.data(), out1.data(), &kv, s.lists.data(), s.cu.data(), nullptr);
  ASSERT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
  for (int i = 0; i < 2; ++i) std::reverse(s.list(0, i, 0), s.list(0, i, 0) + c.topk);
  a = s.args(s.q.data(), out2.data(), &kv, s.lists.data(), s.cu.data(), nullptr);
  ASSERT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
  EXPECT_EQ(out1, out2);
}

// ---------------------------------------------------------------------------
// Against the float64 model.

std::vector<SparseCase> reference_cases() {
  std::vector<SparseCase> cases;
  cases.push_back(sparse_case("gqa128_dsa", BF, 8, 2, 128, {3, 3}, {40, 77}, 32));
  {
    SparseCase c = sparse_case("gqa64_shared_causal_fp16_paged", FP, 4, 2, 64, {4, 4}, {50, 33}, 24);
    c.per_query = false;
    c.causal = true;
    c.cache.paged = true;
    c.cache.page_size = 16;
    cases.push_back(c);
  }
  {
    SparseCase c = sparse_case("mla_packed_paged_fp8", BF, 16, 1, 576, {2, 3}, {70, 45}, 32);
    c.packed = true;
    c.cache.paged = true;
    c.cache.page_size = 32;
    c.cache.dtype = F8;
    c.cache.k_scale = c.cache.v_scale = 0.0625f;
    cases.push_back(c);
  }
  {
    SparseCase c = sparse_case("mla_prefill_causal", FP, 8, 1, 576, {6}, {6}, 8);
    c.causal = true;
    c.lists.valid_fraction = 1.0;
    cases.push_back(c);
  }
  {
    SparseCase c = sparse_case("gqa128_fp8_sorted_scaled", BF, 4, 4, 128, {1, 1, 1}, {129, 5, 64}, 64);
    c.cache.dtype = F8;
    c.cache.k_scale = 0.25f;
    c.cache.v_scale = 2.0f;
    c.lists.shuffled = false;
    c.softmax_scale = 0.05f;
    cases.push_back(c);
  }
  return cases;
}

class SparseReference : public ::testing::TestWithParam<SparseCase> {};

TEST_P(SparseReference, MatchesTheFloat64Model) {
  SparseSetup s(GetParam(), 1234);
  std::vector<uint16_t> out(s.out_elems() + 64, kernel_check::kPoison16);
  std::vector<float> lse(s.lse_elems, kernel_check::poison_f32());
  spattn_kv_cache kv = s.cache.host_desc();
  spattn_sparse_attention_args a = s.args(s.q.data(), out.data(), &kv, s.lists.data(), s.cu.data(), lse.data());
  ASSERT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
  Verdict v("reference vs model");
  check_sparse(v, s, out, lse, sparse_reference_tolerance(s.c.dtype));
  kernel_check::untouched_outside(v, out, out_mask(s, out.size()), kernel_check::kPoison16);
  EXPECT_TRUE(v.ok()) << v.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, SparseReference, ::testing::ValuesIn(reference_cases()), kernel_check::CaseName());

// The check itself catches a wrong answer: a model of another scale fails.
TEST(SparseReferenceCheck, FailsOnAWrongSoftmaxScale) {
  SparseCase c = reference_cases()[0];
  SparseSetup s(c, 99);
  std::vector<uint16_t> out(s.out_elems(), kernel_check::kPoison16);
  std::vector<float> lse(s.lse_elems, 0.0f);
  spattn_kv_cache kv = s.cache.host_desc();
  spattn_sparse_attention_args a = s.args(s.q.data(), out.data(), &kv, s.lists.data(), s.cu.data(), lse.data());
  a.softmax_scale = s.scale * 1.01f;
  ASSERT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
  Verdict v("wrong scale");
  check_sparse(v, s, out, lse, sparse_reference_tolerance(s.c.dtype));
  EXPECT_FALSE(v.ok());
}

// ---------------------------------------------------------------------------
// Refusals.

struct SparseArgsFixture : ::testing::Test {
  SparseSetup s{sparse_case("args", BF, 4, 2, 64, {2, 2}, {20, 30}, 8), 5};
  std::vector<uint16_t> out = std::vector<uint16_t>(s.out_elems());
  spattn_kv_cache kv = s.cache.host_desc();
  spattn_sparse_attention_args a = s.args(s.q.data(), out.data(), &kv, s.lists.data(), s.cu.data(), nullptr);

  void expect_refused(spattn_status want, const std::string& fragment) {
    EXPECT_EQ(spattn_sparse_attention_reference(&a), want);
    EXPECT_NE(last_error().find(fragment), std::string::npos) << last_error();
    size_t bytes = 0;
    EXPECT_EQ(spattn_sparse_attention_workspace_size(&a, &bytes), want == SPATTN_OK ? SPATTN_OK : want);
  }
};

TEST_F(SparseArgsFixture, RefusesAnOutOfRangeEntryNamingIt) {
  s.list(1, 1, 0)[3] = 30;  // sequence 1 has 30 keys
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("sequence 1, query token 1, KV head 0, slot 3 is 30"), std::string::npos)
      << last_error();
  s.list(1, 1, 0)[3] = -2;
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("slot 3 is -2"), std::string::npos) << last_error();
}

TEST_F(SparseArgsFixture, RefusesADuplicateNamingBothSlots) {
  int32_t* l = s.list(0, 1, 1);
  l[0] = 7;
  l[5] = 7;
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("sequence 0, query token 1, KV head 1, slot 5 repeats key 7 of slot 0"),
            std::string::npos)
      << last_error();
}

TEST_F(SparseArgsFixture, RefusesBadFields) {
  const spattn_sparse_attention_args good = a;
  a.topk = 0;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.topk is 0");
  a = good;
  a.topk = SPATTN_SPARSE_MAX_TOPK + 1;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.topk is 4097");
  a = good;
  a.indices = nullptr;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.indices is NULL");
  a = good;
  a.index_strides[2] = -1;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.index_strides[2] (KV head stride) is -1");
  a = good;
  a.num_heads = 5;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "not a multiple of args.kv_cache->num_kv_heads");
  a = good;
  a.num_splits = 65;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.num_splits is 65");
  a = good;
  a.causal = 2;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.causal is 2");
  a = good;
  a.dtype = F8;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.dtype is 3");
  a = good;
  a.struct_size = 8;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "spattn_sparse_attention_args.struct_size is 8");
  a = good;
  a.softmax_scale = NAN;
  expect_refused(SPATTN_ERR_INVALID_ARGUMENT, "args.softmax_scale");
  a = good;
  kv.head_dim = 96;
  expect_refused(SPATTN_ERR_UNSUPPORTED, "head_dim / head_dim_v are 96 / 96");
  kv = s.cache.host_desc();
  a = good;
  kv.head_dim_v = 32;
  expect_refused(SPATTN_ERR_UNSUPPORTED, "64 / 32");
  kv = s.cache.host_desc();
  a = good;
  kv.seqlens_kv = nullptr;  // every sequence max_seqlen_kv long: still valid, keys are all zero-filled
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
  EXPECT_EQ(spattn_sparse_attention_reference(nullptr), SPATTN_ERR_INVALID_ARGUMENT);
}

TEST(SparseArgs, MlaNeedsTheValuesInTheKeys) {
  SparseSetup s(sparse_case("mla_args", BF, 4, 1, 576, {1}, {10}, 8), 3);
  std::vector<uint16_t> out(s.out_elems());
  spattn_kv_cache kv = s.cache.host_desc();
  std::vector<uint8_t> other = s.cache.k_bytes();
  kv.v = other.data();
  spattn_sparse_attention_args a = s.args(s.q.data(), out.data(), &kv, s.lists.data(), s.cu.data(), nullptr);
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_ERR_UNSUPPORTED);
  EXPECT_NE(last_error().find("args.kv_cache->v must equal args.kv_cache->k"), std::string::npos) << last_error();
  kv.v = kv.k;
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_OK) << last_error();
}

TEST(SparseArgs, RefusesInconsistentPackedOffsets) {
  SparseCase c = sparse_case("packed_args", BF, 2, 1, 64, {2, 3}, {10, 10}, 4);
  c.packed = true;
  SparseSetup s(c, 3);
  std::vector<uint16_t> out(s.out_elems());
  spattn_kv_cache kv = s.cache.host_desc();
  std::vector<int32_t> cu = {0, 3, 2};
  spattn_sparse_attention_args a = s.args(s.q.data(), out.data(), &kv, s.lists.data(), cu.data(), nullptr);
  EXPECT_EQ(spattn_sparse_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("args.cu_seqlens_q[1] .. [2] are 3 .. 2"), std::string::npos) << last_error();
}

// The split rule of spattn.h, computed by hand for the shapes it names.
struct SplitCase {
  int batch, seqlen_q, heads, kv_heads, dim, topk, requested;
  bool per_query;
  int want_splits;
  size_t want_bytes;
};

TEST(SparseSplits, FollowTheDocumentedRule) {
  const SplitCase cases[] = {
      // MLA decode, batch 1, 128 heads: 2 row tiles, T = 32 runs, ceil(256/2) -> 32 splits.
      {1, 1, 128, 1, 576, 2048, 0, true, 32, (size_t(128) * 32 * 512 * 4 + 15) / 16 * 16 + 128 * 32 * 4},
      // GQA 32/8 decode, batch 128: 1024 CTAs already -> 1 split, no workspace.
      {128, 1, 32, 8, 128, 2048, 0, true, 1, 0},
      // batch 4: 32 CTAs -> ceil(256/32) = 8 splits.
      {4, 1, 32, 8, 128, 2048, 0, true, 8, size_t(4) * 32 * 8 * 128 * 4 + size_t(4) * 32 * 8 * 4},
      // Shared lists, 4 queries x group 4 = 16 rows: 1 * 8 CTAs -> 32 splits of T = 32.
      {1, 4, 32, 8, 128, 2048, 0, false, 32, size_t(4) * 32 * 32 * 128 * 4 + size_t(4) * 32 * 32 * 4},
      // Requested 5 of 32 runs: 7 runs per split -> 5 splits.
      {1, 1, 4, 1, 64, 2048, 5, true, 5, size_t(4) * 5 * 64 * 4 + size_t(4) * 5 * 4},
      // Requested 64 of 3 runs (topk 150): 3 splits.
      {1, 1, 4, 1, 64, 150, 64, true, 3, size_t(4) * 3 * 64 * 4 + size_t(4) * 3 * 4},
      // Prefill of 4096 queries: 1 split.
      {1, 4096, 128, 1, 576, 2048, 0, true, 1, 0},
  };
  for (const SplitCase& sc : cases) {
    spattn_kv_cache kv{};
    kv.struct_size = sizeof kv;
    kv.dtype = BF;
    kv.num_kv_heads = sc.kv_heads;
    kv.head_dim = sc.dim;
    kv.head_dim_v = sc.dim == 576 ? 512 : 0;
    kv.k = kv.v = reinterpret_cast<const void*>(16);
    kv.max_seqlen_kv = 4096;
    spattn_sparse_attention_args a{};
    a.struct_size = sizeof a;
    a.dtype = BF;
    a.batch = sc.batch;
    a.num_heads = sc.heads;
    a.seqlen_q = sc.seqlen_q;
    a.q = a.out = reinterpret_cast<void*>(16);
    a.kv_cache = &kv;
    a.indices = reinterpret_cast<const int32_t*>(16);
    a.index_strides[1] = sc.per_query ? sc.topk : 0;
    a.topk = sc.topk;
    a.num_splits = sc.requested;
    int32_t splits = 0;
    size_t bytes = 1;
    ASSERT_EQ(spattn_sparse_attention_num_splits(&a, &splits), SPATTN_OK) << last_error();
    ASSERT_EQ(spattn_sparse_attention_workspace_size(&a, &bytes), SPATTN_OK) << last_error();
    EXPECT_EQ(splits, sc.want_splits) << sc.batch << " " << sc.seqlen_q << " " << sc.heads;
    EXPECT_EQ(bytes, sc.want_bytes) << sc.batch << " " << sc.seqlen_q << " " << sc.heads;
  }
}

// ---------------------------------------------------------------------------
// Top-k.

std::vector<int32_t> run_topk(const std::vector<float>& scores, int rows, int cols, int k,
                              const std::vector<int32_t>* lengths = nullptr) {
  std::vector<int32_t> out(size_t(rows) * (k + 2), -77);
  spattn_topk_args a{};
  a.struct_size = sizeof a;
  a.num_rows = rows;
  a.num_cols = cols;
  a.scores = scores.data();
  a.score_row_stride = cols;
  a.lengths = lengths ? lengths->data() : nullptr;
  a.k = k;
  a.indices = out.data();
  a.index_row_stride = k + 2;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_OK) << last_error();
  return out;
}

TEST(TopkReferenceHand, TiesGoToTheLowerColumnAndOutputIsIncreasing) {
  const std::vector<float> s = {3, 1, 3, 2, 3};
  EXPECT_EQ(run_topk(s, 1, 5, 2), (std::vector<int32_t>{0, 2, -77, -77}));
  EXPECT_EQ(run_topk(s, 1, 5, 4), (std::vector<int32_t>{0, 2, 3, 4, -77, -77}));
  EXPECT_EQ(run_topk(s, 1, 5, 7), (std::vector<int32_t>{0, 1, 2, 3, 4, -1, -1, -77, -77}));
}

TEST(TopkReferenceHand, NeverSelectsMinusInfinityOrNaN) {
  const float inf = INFINITY;
  const std::vector<float> s = {NAN, -inf, 1, -inf, inf};
  EXPECT_EQ(run_topk(s, 1, 5, 3), (std::vector<int32_t>{2, 4, -1, -77, -77}));
  EXPECT_EQ(run_topk(s, 1, 5, 1), (std::vector<int32_t>{4, -77, -77}));
}

TEST(TopkReferenceHand, MinusZeroEqualsPlusZero) {
  const std::vector<float> s = {-0.0f, 0.0f, -1.0f};
  EXPECT_EQ(run_topk(s, 1, 3, 1), (std::vector<int32_t>{0, -77, -77}));
  const std::vector<float> t = {-1.0f, 0.0f, -0.0f};
  EXPECT_EQ(run_topk(t, 1, 3, 1), (std::vector<int32_t>{1, -77, -77}));
}

TEST(TopkReferenceHand, LengthsAreClampedToTheColumns) {
  const std::vector<float> s = {5, 4, 3, 2, 1, 0, 9, 9};  // two rows of 4
  const std::vector<int32_t> lengths = {10, -3};
  EXPECT_EQ(run_topk(s, 2, 4, 2, &lengths), (std::vector<int32_t>{0, 1, -77, -77, -1, -1, -77, -77}));
  const std::vector<int32_t> short_rows = {1, 3};
  EXPECT_EQ(run_topk(s, 2, 4, 2, &short_rows), (std::vector<int32_t>{0, -1, -77, -77, 0, 2, -77, -77}));
}

TEST(TopkReference, MatchesTheModelOnTieHeavyRows) {
  std::mt19937 rng(7);
  const float pool[] = {-2, -1, -0.0f, 0, 1, 2, 1.5f, NAN, -INFINITY, INFINITY};
  for (int cols : {1, 7, 64, 300}) {
    for (int k : {1, 3, 64, 500}) {
      const int rows = 6;
      std::vector<float> s(size_t(rows) * cols);
      for (float& x : s) x = pool[rng() % 10];
      std::vector<int32_t> lengths(static_cast<size_t>(rows));
      for (int32_t& l : lengths) l = int32_t(rng() % size_t(cols + 2));
      const std::vector<int32_t> got = run_topk(s, rows, cols, k, &lengths);
      for (int r = 0; r < rows; ++r) {
        const std::vector<int32_t> want = model_topk(&s[size_t(r) * cols], std::min(lengths[size_t(r)], cols), k);
        const std::vector<int32_t> row(got.begin() + long(r) * (k + 2), got.begin() + long(r) * (k + 2) + k);
        EXPECT_EQ(row, want) << "cols " << cols << " k " << k << " row " << r;
        EXPECT_EQ(got[size_t(r) * (k + 2) + k], -77);  // nothing past k written
      }
    }
  }
}

TEST(TopkArgs, RefusesBadFields) {
  std::vector<float> s(8);
  std::vector<int32_t> out(8);
  spattn_topk_args a{};
  a.struct_size = sizeof a;
  a.num_rows = 2;
  a.num_cols = 4;
  a.scores = s.data();
  a.score_row_stride = 4;
  a.k = 2;
  a.indices = out.data();
  a.index_row_stride = 4;
  const spattn_topk_args good = a;
  a.k = 0;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("args.k is 0"), std::string::npos) << last_error();
  a = good;
  a.score_row_stride = 3;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("args.score_row_stride is 3"), std::string::npos) << last_error();
  a = good;
  a.index_row_stride = 1;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("args.index_row_stride is 1"), std::string::npos) << last_error();
  a = good;
  a.scores = nullptr;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("args.scores is NULL"), std::string::npos) << last_error();
  a = good;
  a.num_rows = -1;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  a = good;
  EXPECT_EQ(spattn_topk_reference(&a), SPATTN_OK) << last_error();
}

// ---------------------------------------------------------------------------
// The DSA indexer.

TEST(IndexerReferenceHand, ReluWeightsAndKeyScales) {
  // Two heads, head dim 64, five keys. Head 0: q = e0, k_j[0] = j - 2, w =
  // 0.5; head 1: q = e1, k_j[1] = 1, w = -1; key scales 2: I_j = 2 * (0.5 *
  // max(0, j - 2) - 1) = max(0, j - 2) - 2. Two queries: query 0 sees keys
  // 0..3 (diagonal 0 + 5 - 2), query 1 all five.
  const int lk = 5;
  std::vector<uint8_t> q(2 * 2 * 64, 0), k(size_t(lk) * 64, 0);
  for (int i = 0; i < 2; ++i) {
    q[size_t(i) * 128 + 0] = float_to_e4m3(1.0f);
    q[size_t(i) * 128 + 64 + 1] = float_to_e4m3(1.0f);
  }
  for (int j = 0; j < lk; ++j) {
    k[size_t(j) * 64 + 0] = float_to_e4m3(float(j - 2));
    k[size_t(j) * 64 + 1] = float_to_e4m3(1.0f);
  }
  std::vector<float> w = {0.5f, -1.0f, 0.5f, -1.0f};
  std::vector<float> scales(lk, 2.0f);
  std::vector<int32_t> seqlens = {lk};
  spattn_kv_cache kc{};
  kc.struct_size = sizeof kc;
  kc.dtype = F8;
  kc.num_kv_heads = 1;
  kc.head_dim = 64;
  kc.k = kc.v = k.data();
  kc.k_strides[0] = kc.v_strides[0] = lk * 64;
  kc.k_strides[1] = kc.v_strides[1] = 64;
  kc.k_strides[2] = kc.v_strides[2] = 64;
  kc.seqlens_kv = seqlens.data();
  kc.max_seqlen_kv = 6;
  std::vector<float> logits(2 * 6, 12345.0f);
  spattn_dsa_indexer_args a{};
  a.struct_size = sizeof a;
  a.q_dtype = F8;
  a.batch = 1;
  a.seqlen_q = 2;
  a.num_heads = 2;
  a.q = q.data();
  a.q_strides[0] = 256;
  a.q_strides[1] = 128;
  a.q_strides[2] = 64;
  a.weights = w.data();
  a.weight_strides[0] = 4;
  a.weight_strides[1] = 2;
  a.k_cache = &kc;
  a.k_token_scales = scales.data();
  a.k_token_scale_strides[0] = lk;
  a.k_token_scale_strides[1] = 1;
  a.logits = logits.data();
  a.logits_row_stride = 6;
  ASSERT_EQ(spattn_dsa_indexer_reference(&a), SPATTN_OK) << last_error();
  const float ninf = -INFINITY;
  EXPECT_EQ(logits, (std::vector<float>{-2, -2, -2, -1, ninf, ninf, -2, -2, -2, -1, 0, ninf}));
}

std::vector<IndexerCase> indexer_cases() {
  std::vector<IndexerCase> cases;
  IndexerCase c;
  c.name = "fp8_paged_tokenscales";
  c.q_dtype = F8;
  c.heads = 8;
  c.dim = 128;
  c.q_lens = {4, 4};  // fixed lengths: every sequence has seqlen_q queries
  c.kv_lens = {40, 21};
  c.cache.dtype = F8;
  c.cache.paged = true;
  c.cache.page_size = 16;
  c.cache.k_scale = 0.5f;
  cases.push_back(c);
  c.name = "bf16_contig_packed";
  c.q_dtype = BF;
  c.heads = 4;
  c.dim = 64;
  c.packed = true;
  c.q_lens = {4, 1, 6};
  c.kv_lens = {9, 30, 6};
  c.cache = CacheSpec{};
  c.cache.dtype = BF;
  c.token_scales = false;
  cases.push_back(c);
  c.name = "fp16_queries_fp8_keys_exact";
  c.q_dtype = FP;
  c.heads = 16;
  c.dim = 128;
  c.packed = false;
  c.q_lens = {2, 2};
  c.kv_lens = {17, 50};
  c.cache.dtype = F8;
  c.cache.k_scale = 2.0f;
  c.token_scales = true;
  c.exact = true;
  cases.push_back(c);
  return cases;
}

class IndexerReference : public ::testing::TestWithParam<IndexerCase> {};

TEST_P(IndexerReference, MatchesTheFloat64Model) {
  IndexerSetup s(GetParam(), 77);
  std::vector<float> logits(size_t(s.rows() * s.logits_stride) + 16, 12345.0f);
  spattn_kv_cache kc = s.cache.host_desc();
  spattn_dsa_indexer_args a = s.args(s.q.data(), s.w.data(), &kc, s.token_scales.data(), s.cu.data(), logits.data());
  ASSERT_EQ(spattn_dsa_indexer_reference(&a), SPATTN_OK) << last_error();
  Verdict v("indexer reference vs model");
  check_indexer(v, s, logits, false);
  EXPECT_TRUE(v.ok()) << v.report();
  EXPECT_EQ(logits.back(), 12345.0f);
}

INSTANTIATE_TEST_SUITE_P(Cases, IndexerReference, ::testing::ValuesIn(indexer_cases()), kernel_check::CaseName());

TEST(IndexerArgs, RefusesBadFields) {
  IndexerSetup s(indexer_cases()[0], 3);
  std::vector<float> logits(size_t(s.rows() * s.logits_stride));
  spattn_kv_cache kc = s.cache.host_desc();
  spattn_dsa_indexer_args a = s.args(s.q.data(), s.w.data(), &kc, s.token_scales.data(), s.cu.data(), logits.data());
  const spattn_dsa_indexer_args good = a;
  auto refused = [&](spattn_status want, const std::string& fragment) {
    EXPECT_EQ(spattn_dsa_indexer_reference(&a), want);
    EXPECT_NE(last_error().find(fragment), std::string::npos) << last_error();
    a = good;
    kc = s.cache.host_desc();
  };
  a.num_heads = 129;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.num_heads is 129");
  a.logits_row_stride = 3;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.logits_row_stride is 3");
  a.weights = nullptr;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.weights is NULL");
  a.q_dtype = SPATTN_DTYPE_FLOAT32;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.q_dtype is 4");
  kc.head_dim = 96;
  refused(SPATTN_ERR_UNSUPPORTED, "index_head_dim) is 96");
  kc.num_kv_heads = 2;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.k_cache->num_kv_heads is 2");
  kc.dtype = BF;  // FP8 queries need FP8 keys
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.k_cache->dtype is 2");
  a.k_token_scale_strides[1] = -1;
  refused(SPATTN_ERR_INVALID_ARGUMENT, "args.k_token_scale_strides[1] is -1");
  EXPECT_EQ(spattn_dsa_indexer_reference(&a), SPATTN_OK) << last_error();
}

// ---------------------------------------------------------------------------
// The DSA layer: indexer -> top-k -> attention, against the models composed.

TEST(DsaLayerReference, MatchesTheComposedModelsAroundIndexTopk) {
  // index_topk 16: sequences of 15, 16 and 17 keys (decode: one query each),
  // and a prefill sequence of 40 keys whose 40 queries cross 16.
  for (bool packed : {false, true}) {
    LayerFixture f(packed ? std::vector<int>{1, 1, 1, 40} : std::vector<int>{1, 1, 1},
                   packed ? std::vector<int>{15, 16, 17, 40} : std::vector<int>{15, 16, 17}, packed, 16);
    ASSERT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_OK) << last_error();
    Verdict v(packed ? "packed layer" : "decode layer");
    f.check(v, sparse_reference_tolerance(BF));
    EXPECT_TRUE(v.ok()) << v.report();
  }
}

TEST(DsaLayerReference, MlaShapeWithTiesInTheScores) {
  // Exact small-integer indexer inputs make many equal scores: the
  // selection must break them by the lower key, as the model does.
  LayerFixture f({3, 2}, {50, 37}, false, 8, 576, 8, 1);
  ASSERT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_OK) << last_error();
  int ties = 0;
  for (int b = 0; b < f.ix.batch; ++b) {
    std::vector<float> s;
    for (int j = 0; j < f.ix.prefix(b, 0); ++j) s.push_back(float(model_score(f.ix, b, 0, j).value));
    std::sort(s.begin(), s.end());
    ties += int(std::adjacent_find(s.begin(), s.end()) != s.end());
  }
  EXPECT_GT(ties, 0) << "the inputs were meant to produce tied scores";
  Verdict v("mla layer");
  f.check(v, sparse_reference_tolerance(BF));
  EXPECT_TRUE(v.ok()) << v.report();
}

TEST(DsaLayerReference, ShortSequencesSkipTheIndexer) {
  // Sequence 0 (15 keys <= index_topk 16) has NaN indexer weights. Skipping
  // the indexer it selects its 15 keys anyway; running it, every score is NaN
  // and nothing is selected: zeros and an LSE of -inf.
  LayerFixture f({1, 1}, {15, 30}, false, 16);
  for (int h = 0; h < f.ix.c.heads; ++h) f.ix.w[size_t(h)] = NAN;
  ASSERT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_OK) << last_error();
  for (int s = 0; s < 16; ++s) EXPECT_EQ(f.indices[size_t(s)], s < 15 ? s : -1) << s;
  EXPECT_TRUE(std::isfinite(f.lse[f.att.lse_index(0, 0, 0)]));
  f.config.skip_indexer_for_short_seqs = 0;
  ASSERT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_OK) << last_error();
  for (int s = 0; s < 16; ++s) EXPECT_EQ(f.indices[size_t(s)], -1) << s;
  EXPECT_EQ(f.lse[f.att.lse_index(0, 0, 0)], -INFINITY);
  EXPECT_EQ(load16(f.out[f.att.out_offset(0, 0, 1) + 3], BF), 0.0);
}

TEST(DsaLayerArgs, RefusesDisagreeingPieces) {
  LayerFixture f({2, 2}, {20, 20}, false, 8);
  const spattn_dsa_layer_args good = f.la;
  f.aa.batch = 1;
  EXPECT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("describe different queries"), std::string::npos) << last_error();
  f.aa.batch = 2;
  f.config.index_n_heads = 64;
  EXPECT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("config index_n_heads 64 differs from args.indexer->num_heads 8"), std::string::npos)
      << last_error();
  f.config.index_n_heads = 0;
  f.config.index_topk = 0;
  EXPECT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("index_topk is 0"), std::string::npos) << last_error();
  f.la.index_topk = 8;  // the args' value stands in for the config's
  EXPECT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_OK) << last_error();
  f.la = good;
  f.config.index_topk = 8;
  f.ia.num_heads = 0;
  EXPECT_EQ(spattn_dsa_layer_reference(&f.la), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error().find("spattn_dsa_layer_reference (args.indexer): args.num_heads is 0"), std::string::npos)
      << last_error();
}

TEST(DsaLayerArgs, WorkspaceHoldsTheSelectionAndAChunkOfScores) {
  LayerFixture f({3, 3}, {20, 25}, false, 8);
  size_t with_indices = 0, without = 0;
  ASSERT_EQ(spattn_dsa_layer_workspace_size(&f.la, &with_indices), SPATTN_OK) << last_error();
  f.la.indices = nullptr;
  ASSERT_EQ(spattn_dsa_layer_workspace_size(&f.la, &without), SPATTN_OK) << last_error();
  // Scores: 2 sequences x 3 queries x (28 keys -> 28 floats) = 672 bytes ->
  // 768 with 256-byte alignment; the selection 6 x 8 int32 = 192 -> 256.
  EXPECT_EQ(with_indices, 768u);
  EXPECT_EQ(without, 768u + 256u);
  // A chunk size of 2 query tokens (1 per sequence here) shrinks the scores.
  f.config.indexer_max_chunk_size = 2;
  ASSERT_EQ(spattn_dsa_layer_workspace_size(&f.la, &without), SPATTN_OK) << last_error();
  EXPECT_EQ(without, 256u + 256u);
}

}  // namespace
