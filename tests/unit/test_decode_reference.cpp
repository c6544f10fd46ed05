// The decode step's CPU reference (spattn_attention_decode_reference) and
// the LSE merge (spattn_attention_merge_reference): hand-computed cases, an
// independent float64 model (decode_test_support.hpp) with its decisions
// compared tile by tile, tests of the tests (each named mutation must fail
// the check), and every bad argument refused with a message naming it.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention/decode_problem.hpp"
#include "attention/decode_reference.hpp"
#include "attention/half_float.hpp"
#include "core/error.hpp"
#include "decode_test_support.hpp"
#include "kernel_check.hpp"

namespace {

using namespace decode_test;
using spattn::attention::bf16_to_float;
using spattn::attention::float_to_bf16;

// Runs the CPU reference on a host problem, with the launch-site mutations
// applied, and returns what it wrote and decided.
DecodeResult run_reference(const DecodeHost& h) {
  DecodeHost in = h;  // mutations may change the block table
  if (kernel_check::mutation_active("decode_pages_swapped") && in.c.page_size != 0) {
    std::swap(in.block_table[0], in.block_table[size_t(in.max_pages)]);  // first pages of sequences 0 and 1
  }
  DecodeResult r;
  r.out.assign(out_buffer_elems(in), kernel_check::kPoison16);
  r.lse.assign(size_t(in.c.batch) * in.c.heads * in.c.lq, kernel_check::poison_f32());
  spattn_kv_cache cache = kv_cache_of(in, in.k.data(), in.v.data(), in.seqlens.data(), in.block_table.data());
  spattn_decode_args args = decode_args_of(in, in.q.data(), r.out.data(), &cache, r.lse.data(), r.counters);
  apply_input_mutations(args, cache);
  spattn::attention::DecodeProblem p = spattn::attention::resolve_decode(&args, "test");
  r.decisions.assign(size_t(in.c.batch) * in.c.kv_heads * p.plan.row_tiles * p.plan.max_tiles, 0);
  p.debug_decisions = r.decisions.data();
  spattn::attention::reference_decode(p, "test");
  if (kernel_check::mutation_active("decode_lse_over_all_keys")) {
    std::vector<uint16_t> out(out_buffer_elems(in));
    unsigned long long counters[2] = {0, 0};
    args.out = out.data();
    args.threshold_scale_factor = 0.0f;
    args.tile_counters = counters;
    EXPECT_EQ(spattn_attention_decode_reference(&args), SPATTN_OK) << spattn_last_error();
  }
  return r;
}

class DecodeReference : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeReference, MatchesFloat64ModelAndItsDecisions) {
  const DecodeHost h = make_decode_host(GetParam());
  const DecodeModel model = decode_model(h, true);
  const DecodeResult r = run_reference(h);
  const kernel_check::Verdict v = check_decode(h, model, r, false);
  EXPECT_TRUE(v.ok()) << v.report();
  if (h.c.threshold > 0.0) {
    // Decisions far from their boundary (the float32 noise of a logit is
    // below 1e-3 in these inputs), and skipping changes the result by far
    // more than the tolerance, so a reference that did not skip would fail.
    EXPECT_GT(model.min_margin, 1e-2);
    const DecodeModel dense = decode_model(h, false);
    if (model.skipped > 0) {
      for (bool kernel : {false, true}) {  // the GPU test's tolerances too, checked here without a GPU
        const Separation s = separation(h, model, dense, kernel);
        EXPECT_GT(s.out, 4.0) << "skipping moves the output by too little to be seen" << (kernel ? " (kernel)" : "");
        EXPECT_GT(s.lse, 4.0) << "skipping moves the LSE by too little to be seen" << (kernel ? " (kernel)" : "");
      }
    } else {
      EXPECT_EQ(std::string(h.c.name), "skip_off_when_lambda_at_least_one");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeReference, ::testing::ValuesIn(decode_cases()), kernel_check::CaseName());

TEST(DecodeReference, SkipCasesSkipSomeTilesAndKeepOthers) {
  for (const DecodeCase& c : decode_cases()) {
    if (c.threshold == 0.0 || std::string(c.name) == "skip_off_when_lambda_at_least_one") continue;
    const DecodeModel m = decode_model(make_decode_host(c), true);
    EXPECT_GT(m.skipped, 0u) << c.name;
    EXPECT_LT(m.skipped, m.visited) << c.name;
  }
}

// Tests of the test: each mutation, applied at the launch site, must fail
// the check on a case it affects.
struct MutationCase {
  const char* name;
  const char* mutation;
  const char* case_name;
};
KERNEL_CHECK_PRINT_BY_NAME(MutationCase)

class DecodeReferenceMutation : public ::testing::TestWithParam<MutationCase> {};

TEST_P(DecodeReferenceMutation, FailsTheCheck) {
  const MutationCase& mc = GetParam();
  for (const DecodeCase& c : decode_cases()) {
    if (std::string(c.name) != mc.case_name) continue;
    const DecodeHost h = make_decode_host(c);
    const DecodeModel model = decode_model(h, true);
    kernel_check::ScopedMutation mutation(mc.mutation);
    const kernel_check::Verdict v = check_decode(h, model, run_reference(h), false);
    EXPECT_FALSE(v.ok()) << mc.mutation << " went unnoticed on " << c.name;
    return;
  }
  FAIL() << "no case " << mc.case_name;
}

INSTANTIATE_TEST_SUITE_P(
    Mutations, DecodeReferenceMutation,
    ::testing::Values(MutationCase{"dense_instead_of_skip", "decode_dense_instead_of_skip", "skip_contiguous_auto_splits"},
                      MutationCase{"v_with_k_strides", "decode_v_with_k_strides", "dense_contiguous_bf16"},
                      MutationCase{"wrong_softmax_scale", "decode_wrong_softmax_scale", "dense_paged16_fp16_empty_sequence"},
                      MutationCase{"lse_over_all_keys", "decode_lse_over_all_keys", "skip_paged16_three_splits_lq2"},
                      MutationCase{"pages_swapped", "decode_pages_swapped", "dense_fp8_paged32_not_causal"}),
    kernel_check::CaseName());

// ---------------------------------------------------------------------------
// Hand-computed: one query, two keys, d = 64, scale 1/8. Logits 1/8 and 2/8,
// values e0 and e1: out = (e^(1/8), e^(2/8)) / (e^(1/8) + e^(2/8)).

TEST(DecodeReference, HandComputedTwoKeys) {
  std::vector<uint16_t> q(64, 0), k(2 * 64, 0), v(2 * 64, 0), out(64, 0xffff);
  q[0] = float_to_bf16(1.0f);
  k[0] = float_to_bf16(1.0f);
  k[64] = float_to_bf16(2.0f);
  v[0] = float_to_bf16(1.0f);
  v[64 + 1] = float_to_bf16(1.0f);
  spattn_kv_cache cache{};
  cache.struct_size = sizeof cache;
  cache.layout = SPATTN_KV_LAYOUT_CONTIGUOUS;
  cache.dtype = SPATTN_DTYPE_BFLOAT16;
  cache.num_kv_heads = 1;
  cache.head_dim = 64;
  cache.k = k.data();
  cache.v = v.data();
  const int64_t kv_strides[3] = {128, 64, 64};
  std::memcpy(cache.k_strides, kv_strides, sizeof kv_strides);
  std::memcpy(cache.v_strides, kv_strides, sizeof kv_strides);
  cache.max_seqlen_kv = 2;
  float lse = 0.0f;
  spattn_decode_args a{};
  a.struct_size = sizeof a;
  a.dtype = SPATTN_DTYPE_BFLOAT16;
  a.batch = 1;
  a.num_heads = 1;
  a.seqlen_q = 1;
  a.q = q.data();
  const int64_t q_strides[3] = {64, 64, 64};
  std::memcpy(a.q_strides, q_strides, sizeof q_strides);
  std::memcpy(a.out_strides, q_strides, sizeof q_strides);
  a.out = out.data();
  a.kv_cache = &cache;
  a.causal = 1;
  a.lse = &lse;
  ASSERT_EQ(spattn_attention_decode_reference(&a), SPATTN_OK) << spattn_last_error();
  const double e1 = std::exp(0.125), e2 = std::exp(0.25);
  EXPECT_NEAR(bf16_to_float(out[0]), e1 / (e1 + e2), 0x1p-8 * e1 / (e1 + e2));
  EXPECT_NEAR(bf16_to_float(out[1]), e2 / (e1 + e2), 0x1p-8 * e2 / (e1 + e2));
  for (int d = 2; d < 64; ++d) EXPECT_EQ(out[size_t(d)], 0) << d;
  EXPECT_NEAR(lse, std::log(e1 + e2), 1e-6);
}

// Splits change the arithmetic, not the result: 1, 7 and the automatic
// number of splits agree within the tolerance of the model.
TEST(DecodeReference, SplitCountsAgree) {
  DecodeCase c = base("splits");
  c.lens = {2048, 1100};
  c.max_len = 2048;
  for (int splits : {1, 7, 16}) {
    c.splits = splits;
    const DecodeHost h = make_decode_host(c);
    const kernel_check::Verdict v = check_decode(h, decode_model(h, true), run_reference(h), false);
    EXPECT_TRUE(v.ok()) << "splits " << splits << ": " << v.report();
  }
}

// ---------------------------------------------------------------------------
// The split rule and the workspace, by hand from spattn.h.

spattn_decode_args shape_args(spattn_kv_cache& cache, int batch, int heads, int kv_heads, int lq, int max_len) {
  static uint16_t dummy[8];
  cache = spattn_kv_cache{};
  cache.struct_size = sizeof cache;
  cache.dtype = SPATTN_DTYPE_BFLOAT16;
  cache.num_kv_heads = kv_heads;
  cache.head_dim = 128;
  cache.k = cache.v = dummy;
  cache.max_seqlen_kv = max_len;
  spattn_decode_args a{};
  a.struct_size = sizeof a;
  a.dtype = SPATTN_DTYPE_BFLOAT16;
  a.batch = batch;
  a.num_heads = heads;
  a.seqlen_q = lq;
  a.q = a.out = dummy;
  a.kv_cache = &cache;
  return a;
}

TEST(DecodePlan, SplitsAndWorkspaceFollowTheDocumentedRule) {
  spattn_kv_cache cache;
  int32_t splits = 0;
  size_t bytes = 1;
  // 1 x 8 KV heads x 128k keys: T = 1024 tiles, C = 8 -> min(256, ceil(128 / 8)) = 16 splits of 64 tiles.
  spattn_decode_args a = shape_args(cache, 1, 32, 8, 1, 131072);
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(splits, 16);
  ASSERT_EQ(spattn_decode_workspace_size(&a, &bytes), SPATTN_OK);
  const size_t rows = 1 * 32 * 1 * 16;  // batch * heads * queries * splits
  EXPECT_EQ(bytes, rows * 128 * 4 + rows * 4);
  // The same over an FP8 cache (4 rows per KV head, W = 256): ceil(256 / 8) = 32 splits;
  // with 32 rows per KV head (8 queries) W is 128 again: 16 splits.
  cache.dtype = SPATTN_DTYPE_FLOAT8_E4M3;
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(splits, 32);
  a.seqlen_q = 8;
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(splits, 16);
  // 64 x 8 = 512 CTAs: one split, no workspace.
  a = shape_args(cache, 64, 32, 8, 1, 32768);
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 1);
  ASSERT_EQ(spattn_decode_workspace_size(&a, &bytes), SPATTN_OK);
  EXPECT_EQ(bytes, 0u);
  // 3 x 2 KV heads x 10 tiles: ceil(128 / 6) = 22, but ceil(10 / 4) = 3 -> 3 splits (4, 4, 2 tiles).
  a = shape_args(cache, 3, 4, 2, 1, 1280);
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 3);
  // Forced 4 of 10 tiles: 3 tiles each -> ceil(10 / 3) = 4 splits; forced 6: 2 tiles each -> 5.
  a.num_splits = 4;
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 4);
  a.num_splits = 6;
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 5);
  // 16 queries x 16 heads per KV head = 256 rows: two row tiles count as CTAs.
  a = shape_args(cache, 1, 16, 1, 16, 4096);
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 8);  // T = 32, C = 2 -> min(ceil(32 / 4), 128)
  // No keys at all: one (empty) split.
  a = shape_args(cache, 1, 1, 1, 1, 0);
  ASSERT_EQ(spattn_decode_num_splits(&a, &splits), SPATTN_OK);
  EXPECT_EQ(splits, 1);
}

// ---------------------------------------------------------------------------
// Bad arguments: each refused, naming the field.

struct BadDecode {
  const char* name;
  std::function<void(spattn_decode_args&, spattn_kv_cache&)> edit;
  spattn_status status;
  const char* message;
};
KERNEL_CHECK_PRINT_BY_NAME(BadDecode)

class DecodeArguments : public ::testing::TestWithParam<BadDecode> {};

TEST_P(DecodeArguments, AreRefusedWithTheFieldNamed) {
  DecodeCase c = base("args");
  c.page_size = 16;
  const DecodeHost h = make_decode_host(c);
  std::vector<uint16_t> out(out_buffer_elems(h));
  std::vector<float> lse(size_t(c.batch) * c.heads * c.lq);
  std::vector<int32_t> table = h.block_table, lens = h.seqlens;
  spattn_kv_cache cache = kv_cache_of(h, h.k.data(), h.v.data(), lens.data(), table.data());
  spattn_decode_args a = decode_args_of(h, h.q.data(), out.data(), &cache, lse.data(), nullptr);
  GetParam().edit(a, cache);
  EXPECT_EQ(spattn_attention_decode_reference(&a), GetParam().status);
  EXPECT_NE(std::string(spattn_last_error()).find(GetParam().message), std::string::npos) << spattn_last_error();
}

INSTANTIATE_TEST_SUITE_P(
    Bad, DecodeArguments,
    ::testing::Values(
        BadDecode{"struct_size", [](auto& a, auto&) { a.struct_size = 8; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "spattn_decode_args.struct_size is 8"},
        BadDecode{"dtype", [](auto& a, auto&) { a.dtype = SPATTN_DTYPE_FLOAT32; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.dtype is 4"},
        BadDecode{"no_queries", [](auto& a, auto&) { a.seqlen_q = 0; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.seqlen_q is 0; must be in [1, 16]"},
        BadDecode{"too_many_queries", [](auto& a, auto&) { a.seqlen_q = 17; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.seqlen_q is 17"},
        BadDecode{"heads_not_multiple", [](auto& a, auto&) { a.num_heads = 7; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.num_heads (7) is not a multiple of args.kv_cache->num_kv_heads (2)"},
        BadDecode{"no_cache", [](auto& a, auto&) { a.kv_cache = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache is NULL"},
        BadDecode{"cache_struct_size", [](auto&, auto& c) { c.struct_size = 4; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "spattn_kv_cache.struct_size is 4"},
        BadDecode{"head_dim", [](auto&, auto& c) { c.head_dim = 96; }, SPATTN_ERR_UNSUPPORTED,
                  "args.kv_cache->head_dim is 96"},
        BadDecode{"head_dim_v", [](auto&, auto& c) { c.head_dim_v = 64; }, SPATTN_ERR_UNSUPPORTED,
                  "head_dim_v 64 differs from head_dim 128"},
        BadDecode{"cache_dtype", [](auto&, auto& c) { c.dtype = SPATTN_DTYPE_FLOAT16; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->dtype is 1"},
        BadDecode{"layout", [](auto&, auto& c) { c.layout = spattn_kv_layout(7); }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->layout is 7"},
        BadDecode{"page_size", [](auto&, auto& c) { c.page_size = 48; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->page_size is 48; supported: 16, 32, 64, 128"},
        BadDecode{"num_pages", [](auto&, auto& c) { c.num_pages = 0; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->num_pages is 0"},
        BadDecode{"block_table", [](auto&, auto& c) { c.block_table = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->block_table is NULL"},
        BadDecode{"pages_per_seq", [](auto&, auto& c) { c.max_pages_per_seq = 63; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->max_pages_per_seq is 63; max_seqlen_kv 1024 with page_size 16 needs at least 64"},
        BadDecode{"k_scale_16bit", [](auto&, auto& c) { c.k_scale = 2.0f; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "only FP8 caches are scaled"},
        BadDecode{"v_scale_negative", [](auto&, auto& c) { c.v_scale = -1.0f; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->v_scale is -1"},
        BadDecode{"negative_stride", [](auto&, auto& c) { c.v_strides[1] = -8; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.kv_cache->v_strides[1] (slot stride) is -8"},
        BadDecode{"seqlen_above_max", [](auto&, auto& c) { const_cast<int32_t*>(c.seqlens_kv)[1] = 1025; },
                  SPATTN_ERR_INVALID_ARGUMENT, "args.kv_cache->seqlens_kv[1] is 1025; must be in [0, max_seqlen_kv = 1024]"},
        BadDecode{"bad_page", [](auto&, auto& c) { const_cast<int32_t*>(c.block_table)[c.max_pages_per_seq + 2] = 999; },
                  SPATTN_ERR_INVALID_ARGUMENT, "args.kv_cache->block_table[1][2] is page 999"},
        BadDecode{"skip_seqlen", [](auto& a, auto&) { a.skip_seqlen_kv = -1; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.skip_seqlen_kv is -1"},
        BadDecode{"splits", [](auto& a, auto&) { a.num_splits = 2000; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.num_splits is 2000; must be in [0, 1024]"},
        BadDecode{"causal", [](auto& a, auto&) { a.causal = 2; }, SPATTN_ERR_INVALID_ARGUMENT, "args.causal is 2"},
        BadDecode{"threshold", [](auto& a, auto&) { a.threshold_scale_factor = -1.0f; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.threshold_scale_factor is -1"},
        BadDecode{"scale", [](auto& a, auto&) { a.softmax_scale = NAN; }, SPATTN_ERR_INVALID_ARGUMENT,
                  "args.softmax_scale is nan"}),
    kernel_check::CaseName());

TEST(DecodeArguments, NullArgsAndOutputs) {
  int32_t splits = 0;
  size_t bytes = 0;
  EXPECT_EQ(spattn_attention_decode_reference(nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args is NULL"), std::string::npos);
  EXPECT_EQ(spattn_decode_num_splits(nullptr, &splits), SPATTN_ERR_INVALID_ARGUMENT);
  spattn_kv_cache cache;
  spattn_decode_args a = shape_args(cache, 1, 1, 1, 1, 128);
  EXPECT_EQ(spattn_decode_workspace_size(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("out_bytes is NULL"), std::string::npos);
  EXPECT_EQ(spattn_decode_workspace_size(&a, &bytes), SPATTN_OK);
#if !SPATTN_HAVE_CUDA
  EXPECT_EQ(spattn_attention_decode(&a, nullptr), SPATTN_ERR_UNSUPPORTED);
#endif
}

// ---------------------------------------------------------------------------
// Merge by LSE.

spattn_merge_args merge_args(int parts, const void* const* outs, const float* const* lses, void* out, float* lse) {
  spattn_merge_args a{};
  a.struct_size = sizeof a;
  a.num_parts = parts;
  a.batch = 1;
  a.seqlen = 1;
  a.num_heads = 1;
  a.head_dim = 2;
  a.parts_dtype = SPATTN_DTYPE_FLOAT32;
  a.parts = outs;
  const int64_t strides[3] = {2, 2, 2};
  std::memcpy(a.part_strides, strides, sizeof strides);
  std::memcpy(a.out_strides, strides, sizeof strides);
  a.part_lse = lses;
  a.out_dtype = SPATTN_DTYPE_FLOAT32;
  a.out = out;
  a.lse = lse;
  return a;
}

TEST(Merge, HandComputedWeights) {
  // LSEs ln 1 and ln 3: weights 1/4 and 3/4; a third part at -inf adds nothing.
  const float o1[2] = {1.0f, 0.0f}, o2[2] = {0.0f, 2.0f}, o3[2] = {NAN, NAN};
  const float l1 = 0.0f, l2 = std::log(3.0f), l3 = -INFINITY;
  const void* outs[3] = {o1, o2, o3};
  const float* lses[3] = {&l1, &l2, &l3};
  float out[2] = {NAN, NAN}, lse = NAN;
  spattn_merge_args a = merge_args(3, outs, lses, out, &lse);
  ASSERT_EQ(spattn_attention_merge_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_NEAR(out[0], 0.25, 1e-6);
  EXPECT_NEAR(out[1], 1.5, 1e-6);
  EXPECT_NEAR(lse, std::log(4.0), 1e-6);
}

TEST(Merge, EveryPartEmptyGivesZerosAndMinusInfinity) {
  const float o1[2] = {NAN, NAN};
  const float l1 = -INFINITY;
  const void* outs[1] = {o1};
  const float* lses[1] = {&l1};
  float out[2] = {NAN, NAN}, lse = 0.0f;
  spattn_merge_args a = merge_args(1, outs, lses, out, &lse);
  ASSERT_EQ(spattn_attention_merge_reference(&a), SPATTN_OK);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(lse, -INFINITY);
}

// Two halves of a cache decoded separately with LSE and merged give the
// decode of the whole (not causal: the halves see all their keys).
TEST(Merge, HalvesOfADecodeMergeToTheWhole) {
  DecodeCase c = base("merge_whole");
  c.causal = false;
  c.batch = 1;
  c.lens = {1024};
  c.max_len = 1024;
  DecodeHost whole = make_decode_host(c);
  const DecodeModel model = decode_model(whole, false);
  std::vector<std::vector<uint16_t>> outs(2, std::vector<uint16_t>(out_buffer_elems(whole)));
  std::vector<std::vector<float>> lses(2, std::vector<float>(size_t(c.heads)));
  for (int half = 0; half < 2; ++half) {
    // The half's keys are the cache's keys [512 half, 512 half + 512): a view
    // that starts there with length 512.
    spattn_kv_cache cache = kv_cache_of(whole, whole.k.data(), whole.v.data(), nullptr, nullptr);
    cache.k = whole.k.data() + 2 * whole.k_layout.offset(0, 512 * half, 0);
    cache.v = whole.v.data() + 2 * whole.v_layout.offset(0, 512 * half, 0);
    cache.max_seqlen_kv = 512;
    spattn_decode_args a = decode_args_of(whole, whole.q.data(), outs[size_t(half)].data(), &cache,
                                          lses[size_t(half)].data(), nullptr);
    ASSERT_EQ(spattn_attention_decode_reference(&a), SPATTN_OK) << spattn_last_error();
  }
  std::vector<uint16_t> merged(out_buffer_elems(whole), kernel_check::kPoison16);
  std::vector<float> merged_lse(size_t(c.heads));
  const void* parts[2] = {outs[0].data(), outs[1].data()};
  const float* part_lse[2] = {lses[0].data(), lses[1].data()};
  spattn_merge_args m{};
  m.struct_size = sizeof m;
  m.num_parts = 2;
  m.batch = 1;
  m.seqlen = 1;
  m.num_heads = c.heads;
  m.head_dim = c.dim;
  m.parts_dtype = c.dtype;
  m.parts = parts;
  whole.o_layout.strides(m.part_strides);
  whole.o_layout.strides(m.out_strides);
  m.part_lse = part_lse;
  m.out_dtype = c.dtype;
  m.out = merged.data();
  m.lse = merged_lse.data();
  ASSERT_EQ(spattn_attention_merge_reference(&m), SPATTN_OK) << spattn_last_error();
  // Each half was rounded to bf16 before the merge: |o_half| <= sum p|v| / Z of
  // that half, so the weighted halves add at most u * sum p|v| / Z of the
  // whole on top of the model's own bound (the final rounding included).
  kernel_check::Verdict v("merged halves");
  for (int hh = 0; hh < c.heads; ++hh) {
    const size_t ri = model.row_index(c, 0, 0, hh);
    for (int d = 0; d < c.dim; ++d) {
      const size_t oi = model.out_index(c, 0, 0, hh) + d;
      const double want = model.out[oi];
      const double tol = out_tolerance(c, want, model.sum_pv[oi], model.logit_abs[ri], 1024, false) +
                         kernel_check::kBf16Unit * model.sum_pv[oi];
      v.value(bf16_to_float(merged[whole.o_layout.offset(0, 0, hh) + d]), want, tol,
              [&] { return "h " + std::to_string(hh) + " d " + std::to_string(d); });
    }
    v.value(merged_lse[size_t(hh)], model.lse[size_t(hh)], 1e-5 * (1 + std::fabs(model.lse[size_t(hh)])),
            [&] { return "lse h " + std::to_string(hh); });
  }
  EXPECT_TRUE(v.ok()) << v.report();
}

TEST(Merge, BadArguments) {
  const float o1[2] = {0, 0};
  const float l1 = 0;
  const void* outs[1] = {o1};
  const float* lses[1] = {&l1};
  float out[2], lse;
  spattn_merge_args a = merge_args(1, outs, lses, out, &lse);
  a.num_parts = 0;
  EXPECT_EQ(spattn_attention_merge_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.num_parts is 0; must be in [1, 32]"), std::string::npos);
  a = merge_args(1, outs, lses, out, &lse);
  a.parts_dtype = SPATTN_DTYPE_FLOAT8_E4M3;
  EXPECT_EQ(spattn_attention_merge_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.parts_dtype is 3"), std::string::npos);
  const void* null_part[1] = {nullptr};
  a = merge_args(1, null_part, lses, out, &lse);
  EXPECT_EQ(spattn_attention_merge_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.parts[0] is NULL"), std::string::npos);
  a = merge_args(1, outs, lses, out, &lse);
  a.head_dim = 2000;
  EXPECT_EQ(spattn_attention_merge_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.head_dim is 2000"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Prefill over a cache (spattn_attention_args.kv_cache): the reference reads
// the same keys through the cache as through k/v, so the results are equal
// bit for bit; the prefill path itself is checked against float64 in
// test_attention_reference.cpp.

TEST(PrefillOverCache, EqualsThePlainTensors) {
  DecodeCase c = base("chunked_prefill");
  c.lq = 16;  // queries of the chunk, the last of each sequence
  c.page_size = 32;
  c.lens = {700, 333};
  c.max_len = 704;
  c.peaked = true;
  DecodeHost h = make_decode_host(c);
  for (int skip_len : {0, 5000}) {
    // Plain tensors: each sequence's keys gathered into [batch][max_len][kv][dim].
    const int64_t kv_strides[3] = {int64_t(c.max_len) * c.kv_heads * c.dim, int64_t(c.kv_heads) * c.dim, c.dim};
    std::vector<uint16_t> k(size_t(c.batch) * c.max_len * c.kv_heads * c.dim, 0), v = k;
    for (int b = 0; b < c.batch; ++b)
      for (int j = 0; j < c.lens[size_t(b)]; ++j)
        for (int g = 0; g < c.kv_heads; ++g)
          for (int d = 0; d < c.dim; ++d) {
            const size_t i = size_t(b * kv_strides[0] + j * kv_strides[1] + g * kv_strides[2] + d);
            k[i] = float_to_storage(float(h.key(b, j, g, d)), h.bf16());
            v[i] = float_to_storage(float(h.value(b, j, g, d)), h.bf16());
          }
    spattn_kv_cache cache = kv_cache_of(h, h.k.data(), h.v.data(), h.seqlens.data(), h.block_table.data());
    std::vector<std::vector<uint16_t>> out(2, std::vector<uint16_t>(out_buffer_elems(h), kernel_check::kPoison16));
    std::vector<std::vector<float>> lse(2, std::vector<float>(size_t(c.batch) * c.heads * c.lq));
    unsigned long long counters[2][2] = {{0, 0}, {0, 0}};
    for (int use_cache = 0; use_cache < 2; ++use_cache) {
      for (int b = 0; b < c.batch; ++b) {  // one sequence per call for the plain tensors (fixed lengths)
        spattn_attention_args a{};
        a.struct_size = sizeof a;
        a.dtype = c.dtype;
        a.batch = 1;
        a.num_heads = c.heads;
        a.num_kv_heads = c.kv_heads;
        a.head_dim = c.dim;
        a.seqlen_q = c.lq;
        a.seqlen_kv = c.lens[size_t(b)];
        a.q = h.q.data() + h.q_layout.offset(b, 0, 0);
        h.q_layout.strides(a.q_strides);
        a.out = out[size_t(use_cache)].data() + h.o_layout.offset(b, 0, 0);
        h.o_layout.strides(a.out_strides);
        a.k = k.data() + b * kv_strides[0];
        a.v = v.data() + b * kv_strides[0];
        std::memcpy(a.k_strides, kv_strides, sizeof kv_strides);
        std::memcpy(a.v_strides, kv_strides, sizeof kv_strides);
        a.causal = 1;
        a.threshold_scale_factor = 40.0f;
        a.skip_seqlen_kv = skip_len;
        a.lse = lse[size_t(use_cache)].data() + size_t(b) * c.heads * c.lq;
        a.tile_counters = counters[use_cache];
        spattn_kv_cache one = cache;
        int32_t len = c.lens[size_t(b)];
        if (use_cache) {  // the cache of sequence b alone: its block-table row and length
          one.seqlens_kv = &len;
          one.block_table = h.block_table.data() + size_t(b) * h.max_pages;
          a.kv_cache = &one;
          a.k = a.v = nullptr;
          a.num_kv_heads = 0;
        }
        ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
      }
    }
    EXPECT_EQ(out[0], out[1]) << "skip_seqlen_kv " << skip_len;
    EXPECT_EQ(lse[0], lse[1]);
    EXPECT_EQ(counters[0][0], counters[1][0]);
    EXPECT_EQ(counters[0][1], counters[1][1]);
    if (skip_len == 0) EXPECT_GT(counters[0][1], 0u) << "the case must skip some tiles";
  }
}

TEST(PrefillOverCache, RefusesPackedKeysWithACache) {
  DecodeCase c = base("refuse");
  const DecodeHost h = make_decode_host(c);
  spattn_kv_cache cache = kv_cache_of(h, h.k.data(), h.v.data(), h.seqlens.data(), nullptr);
  std::vector<uint16_t> out(out_buffer_elems(h));
  const int32_t cu[3] = {0, 1, 2};
  spattn_attention_args a{};
  a.struct_size = sizeof a;
  a.dtype = c.dtype;
  a.batch = 2;
  a.num_heads = c.heads;
  a.head_dim = c.dim;
  a.seqlen_q = 1;
  a.q = h.q.data();
  a.out = out.data();
  a.kv_cache = &cache;
  a.cu_seqlens_q = cu;
  a.cu_seqlens_kv = cu;
  EXPECT_EQ(spattn_attention_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.cu_seqlens_kv is set with args.kv_cache"), std::string::npos);
  a.cu_seqlens_kv = nullptr;
  cache.head_dim = 64;
  EXPECT_EQ(spattn_attention_reference(&a), SPATTN_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(spattn_last_error()).find("args.kv_cache->head_dim / head_dim_v (64 / 64) differ"),
            std::string::npos)
      << spattn_last_error();
}

}  // namespace
