// CPU tests of spattn_attention_reference (the CPU version of the skip-softmax
// flash-attention kernel) against an independent float64 attention written
// in attention_test_support.hpp, and of the argument checks shared with
// spattn_attention_forward.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention/attention_problem.hpp"
#include "attention_test_support.hpp"
#include "core/error.hpp"

namespace {

using namespace attention_test;

struct RefRun {
  std::vector<uint16_t> out;
  std::vector<float> lse;
  unsigned long long counters[2] = {0, 0};
};

RefRun run_reference(const Host& h, double threshold, float scale = 0.0f) {
  RefRun r;
  r.out.assign(h.q_elems(), 0xffff);  // NaN poison in both formats
  r.lse.assign(lse_size(h), std::nanf(""));
  spattn_attention_args a =
      make_args(h, h.q.data(), h.k.data(), h.v.data(), r.out.data(), h.cu_q.data(), h.cu_kv.data());
  a.threshold_scale_factor = float(threshold);
  a.softmax_scale = scale;
  a.lse = r.lse.data();
  a.tile_counters = r.counters;
  const spattn_status st = spattn_attention_reference(&a);
  EXPECT_EQ(st, SPATTN_OK) << spattn_last_error();
  return r;
}

// Output tolerance against float64 on the same decoded inputs: the output is
// rounded to the storage type (half an ulp: 2^-9 relative for bf16, 2^-12
// for fp16), plus float32 logits (~1e-6) on values of order 1.
void expect_matches(const Host& h, const RefRun& r, const Expected& e) {
  const double rel = h.shape.bf16() ? 1.0 / 256 : 1.0 / 2048;
  const Compare c = compare_out(h, r.out, e, 1e-4, rel);
  EXPECT_EQ(c.bad, 0u) << "non-finite or unwritten outputs";
  EXPECT_LE(c.worst, 1.0) << "worst element error over tolerance";
  EXPECT_LT(c.rel_norm(), h.shape.bf16() ? 4e-3 : 5e-4);
  for (int b = 0; b < h.shape.batch; ++b)
    for (int hh = 0; hh < h.shape.heads; ++hh)
      for (int i = 0; i < h.seq_lq(b); ++i) {
        const double want = e.lse[e.row(h, b, i, hh)];
        const float got = r.lse[lse_index(h, b, hh, i)];
        if (std::isinf(want)) {
          EXPECT_TRUE(std::isinf(got) && got < 0) << "row " << i << " lse " << got;
        } else {
          EXPECT_NEAR(got, want, 1e-5 * (1.0 + std::fabs(want))) << "b " << b << " h " << hh
                                                                   << " row " << i;
        }
      }
}

struct DenseCase {
  spattn_dtype dtype;
  int dim;
  bool causal;
  int lq, lk;
};

class DenseReference : public ::testing::TestWithParam<DenseCase> {};

TEST_P(DenseReference, EqualsFloat64Attention) {
  const DenseCase c = GetParam();
  Shape s;
  s.dtype = c.dtype;
  s.dim = c.dim;
  s.causal = c.causal;
  s.batch = 2;
  s.heads = 2;
  s.kv_heads = 1;
  s.lq = c.lq;
  s.lk = c.lk;
  Host h = make_host(s);
  fill_random(h, 1234u + unsigned(c.dim + c.lq));
  const RefRun r = run_reference(h, 0.0);
  const Expected e = expected(h, 0.0f, 0.0);
  expect_matches(h, r, e);
  EXPECT_EQ(r.counters[0], e.visited);
  EXPECT_EQ(r.counters[1], 0u) << "threshold 0 must never skip";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DenseReference,
    ::testing::Values(DenseCase{SPATTN_DTYPE_BFLOAT16, 64, false, 130, 200},
                      DenseCase{SPATTN_DTYPE_FLOAT16, 64, false, 1, 77},
                      DenseCase{SPATTN_DTYPE_BFLOAT16, 128, false, 77, 260},
                      DenseCase{SPATTN_DTYPE_FLOAT16, 128, true, 200, 300},
                      DenseCase{SPATTN_DTYPE_BFLOAT16, 64, true, 300, 200},  // rows that see nothing
                      DenseCase{SPATTN_DTYPE_BFLOAT16, 64, true, 256, 256}));

TEST(AttentionReference, CustomSoftmaxScale) {
  Shape s;
  s.lq = 50;
  s.lk = 140;
  Host h = make_host(s);
  fill_random(h, 7);
  const RefRun r = run_reference(h, 0.0, 0.3f);
  expect_matches(h, r, expected(h, 0.3f, 0.0));
}

TEST(AttentionReference, BhsdAndBshdGiveIdenticalResults) {
  Shape s;
  s.batch = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.lq = 140;
  s.lk = 300;
  s.causal = true;
  Host a = make_host(s);
  fill_peaked(a, 11, 6.0f);
  s.layout = Layout::BHSD;
  Host b = make_host(s);
  // Same logical values in the other layout.
  for (int bb = 0; bb < s.batch; ++bb)
    for (int hh = 0; hh < s.heads; ++hh)
      for (int t = 0; t < s.lq; ++t)
        std::memcpy(&b.q[b.q_index(bb, t, hh)], &a.q[a.q_index(bb, t, hh)], s.dim * 2);
  for (int bb = 0; bb < s.batch; ++bb)
    for (int hh = 0; hh < s.kv_heads; ++hh)
      for (int t = 0; t < s.lk; ++t) {
        std::memcpy(&b.k[b.kv_index(bb, t, hh)], &a.k[a.kv_index(bb, t, hh)], s.dim * 2);
        std::memcpy(&b.v[b.kv_index(bb, t, hh)], &a.v[a.kv_index(bb, t, hh)], s.dim * 2);
      }
  const RefRun ra = run_reference(a, 4.0), rb = run_reference(b, 4.0);
  for (int bb = 0; bb < s.batch; ++bb)
    for (int hh = 0; hh < s.heads; ++hh)
      for (int t = 0; t < s.lq; ++t)
        ASSERT_EQ(0, std::memcmp(&ra.out[a.q_index(bb, t, hh)], &rb.out[b.q_index(bb, t, hh)],
                                 s.dim * 2));
  EXPECT_EQ(ra.lse, rb.lse);
  EXPECT_EQ(ra.counters[0], rb.counters[0]);
  EXPECT_EQ(ra.counters[1], rb.counters[1]);
}

TEST(AttentionReference, GqaEqualsRepeatedKvHeads) {
  Shape s;
  s.heads = 4;
  s.kv_heads = 2;
  s.lq = 100;
  s.lk = 290;
  Host g = make_host(s);
  fill_peaked(g, 21, 5.0f);
  Shape s2 = s;
  s2.kv_heads = 4;
  Host full = make_host(s2);
  full.q = g.q;
  for (int hh = 0; hh < 4; ++hh)
    for (int t = 0; t < s.lk; ++t) {
      std::memcpy(&full.k[full.kv_index(0, t, hh)], &g.k[g.kv_index(0, t, hh / 2)], s.dim * 2);
      std::memcpy(&full.v[full.kv_index(0, t, hh)], &g.v[g.kv_index(0, t, hh / 2)], s.dim * 2);
    }
  const RefRun rg = run_reference(g, 3.0), rf = run_reference(full, 3.0);
  EXPECT_EQ(rg.out, rf.out);
  EXPECT_EQ(rg.lse, rf.lse);
  EXPECT_EQ(rg.counters[1], rf.counters[1]);
  expect_matches(g, rg, expected(g, 0.0f, 3.0));
}

TEST(AttentionReference, PackedBatchEqualsSeparateSequences) {
  Shape s;
  s.q_lens = {1, 77, 200};
  s.kv_lens = {5, 130, 300};
  s.batch = 3;
  s.causal = true;
  Host p = make_host(s);
  fill_peaked(p, 31, 6.0f);
  const RefRun rp = run_reference(p, 2.0);
  expect_matches(p, rp, expected(p, 0.0f, 2.0));
  unsigned long long visited = 0, skipped = 0;
  for (int b = 0; b < 3; ++b) {
    Shape one;
    one.causal = true;
    one.lq = s.q_lens[b];
    one.lk = s.kv_lens[b];
    Host h = make_host(one);
    for (int hh = 0; hh < s.heads; ++hh) {
      for (int t = 0; t < one.lq; ++t)
        std::memcpy(&h.q[h.q_index(0, t, hh)], &p.q[p.q_index(b, t, hh)], s.dim * 2);
      for (int t = 0; t < one.lk; ++t) {
        std::memcpy(&h.k[h.kv_index(0, t, hh)], &p.k[p.kv_index(b, t, hh)], s.dim * 2);
        std::memcpy(&h.v[h.kv_index(0, t, hh)], &p.v[p.kv_index(b, t, hh)], s.dim * 2);
      }
    }
    const RefRun r = run_reference(h, 2.0);
    visited += r.counters[0];
    skipped += r.counters[1];
    for (int hh = 0; hh < s.heads; ++hh)
      for (int t = 0; t < one.lq; ++t) {
        ASSERT_EQ(0, std::memcmp(&r.out[h.q_index(0, t, hh)], &rp.out[p.q_index(b, t, hh)],
                                 s.dim * 2));
        ASSERT_EQ(r.lse[lse_index(h, 0, hh, t)], rp.lse[lse_index(p, b, hh, t)]);
      }
  }
  EXPECT_EQ(rp.counters[0], visited);
  EXPECT_EQ(rp.counters[1], skipped);
}

// Skipping: counters equal the float64 re-derivation of the rule; the output
// equals float64 attention over the kept tiles; and it differs from dense
// attention by at most what the skipped mass allows:
//   O_dense - O_skip = sum_skipped p_j (v_j - O_skip) / Z, so
//   |O_dense - O_skip| <= mass_skipped * (max|v| + max|O_skip|) <= 2 * mass * max|v|,
// and by the rule each skipped key has p_j < lambda * exp(m_run) <= lambda * Z,
// so the mass of a row is below Lk * lambda = threshold_scale_factor.
struct SkipCase {
  double threshold;
  bool causal;
  int dim;
};
class SkipReference : public ::testing::TestWithParam<SkipCase> {};

TEST_P(SkipReference, FollowsTheRuleAndStaysWithinTheSkippedMass) {
  const SkipCase c = GetParam();
  Shape s;
  s.batch = 1;
  s.heads = 2;
  s.kv_heads = 2;
  s.dim = c.dim;
  s.lq = 256;
  s.lk = 700;
  s.causal = c.causal;
  Host h = make_host(s);
  fill_peaked(h, 41 + unsigned(c.dim), 9.0f);
  const RefRun r = run_reference(h, c.threshold);
  const Expected skip = expected(h, 0.0f, c.threshold);
  const Expected dense = expected(h, 0.0f, 0.0);
  EXPECT_EQ(r.counters[0], skip.visited);
  EXPECT_EQ(r.counters[1], skip.skipped);
  EXPECT_GT(skip.skipped, 0u) << "inputs should make some tiles skippable";
  EXPECT_LT(skip.skipped, skip.visited);
  expect_matches(h, r, skip);
  const double rounding = 1.0 / 128;  // bf16 output rounding of values <= max|v|, with margin
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < s.lq; ++i)
      for (int hh = 0; hh < s.heads; ++hh) {
        const double mass = skip.skipped_mass[skip.row(h, b, i, hh)];
        EXPECT_LT(mass, c.threshold);
        for (int d = 0; d < s.dim; ++d) {
          const double got = storage_to_float(r.out[h.q_index(b, i, hh) + d], true);
          const double diff = std::fabs(got - dense.out[dense.index(h, b, i, hh) + d]);
          ASSERT_LE(diff, 2.0 * mass * skip.max_abs_v + rounding * (1.0 + std::fabs(got)))
              << "b " << b << " row " << i << " head " << hh << " dim " << d;
        }
      }
}

INSTANTIATE_TEST_SUITE_P(Thresholds, SkipReference,
                         ::testing::Values(SkipCase{0.5, false, 64}, SkipCase{5.0, false, 64},
                                           SkipCase{20.0, true, 64}, SkipCase{5.0, false, 128}));

TEST(AttentionReference, ThresholdFromLayerParams) {
  Shape s;
  s.lq = 130;
  s.lk = 520;
  Host h = make_host(s);
  fill_peaked(h, 51, 7.0f);
  const RefRun direct = run_reference(h, 5.0);
  ASSERT_GT(direct.counters[1], 0u);

  spattn_layer_params lp{};
  lp.struct_size = sizeof lp;
  lp.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
  lp.enabled = 1;
  lp.threshold_scale_factor = 5.0;
  RefRun via;
  via.out.assign(h.q_elems(), 0xffff);
  spattn_attention_args a =
      make_args(h, h.q.data(), h.k.data(), h.v.data(), via.out.data(), nullptr, nullptr);
  a.threshold_scale_factor = 1000.0f;  // ignored when layer_params is given
  a.layer_params = &lp;
  a.tile_counters = via.counters;
  ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(via.out, direct.out);
  EXPECT_EQ(via.counters[1], direct.counters[1]);

  lp.enabled = 0;  // a disabled layer runs dense, whatever its factor says
  via.counters[0] = via.counters[1] = 0;
  ASSERT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(via.counters[1], 0u);
  EXPECT_EQ(via.out, run_reference(h, 0.0).out);
}

// ---------------------------------------------------------------------------
// Argument checks (shared by the reference and the CUDA entry point).

struct BadArgs {
  Shape shape;
  Host host = make_host(shape);
  std::vector<uint16_t> out = std::vector<uint16_t>(host.q_elems());
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
    {"n:m",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.sparsity_n = 2;
       b.lp.sparsity_m = 4;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_UNSUPPORTED, "N:M sparse softmax"},
    {"quantize_p",
     [](BadArgs& b) {
       b.lp.struct_size = sizeof b.lp;
       b.lp.quantize_p = 1;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_UNSUPPORTED, "NVFP4 P quantization"},
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
  std::vector<uint16_t> out(h.q_elems());
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
    out.assign(h.q_elems(), 0);
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
