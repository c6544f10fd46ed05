// GPU tests of the index-sparse family (tests/README.md's pattern):
//  - spattn_sparse_attention against the float64 model (tolerances from
//    index_sparse_test_support.hpp) and the CPU reference, for GQA 64/128
//    and MLA 576/512, per-token (DSA) and shared (RocketKV) lists, decode and
//    prefill, contiguous and paged, 16-bit and FP8 caches, holes, repeats
//    and out-of-range entries (ignored by the GPU), forced and automatic
//    splits; outputs and LSE poisoned, a guard after the output untouched;
//  - a CUDA graph captured once and replayed with shorter sequences and new
//    lists;
//  - spattn_topk exactly against the CPU reference (ties, NaN, -inf,
//    lengths, rows of up to 70000 columns);
//  - spattn_dsa_indexer against the model, exactly on exact inputs;
//  - spattn_dsa_layer against the composed models (exact indexer inputs: the
//    selection must match exactly), around index_topk, with and without the
//    indexer skip, and replayed in a graph with new lengths;
//  - mutations (SPATTN_TEST_MUTATION or ScopedMutation): each deliberately
//    broken launch must fail its check.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../support/cuda_check.hpp"
#include "../unit/index_sparse_test_support.hpp"
#include "attention/index_sparse_cuda.hpp"
#include "core/error.hpp"

namespace spattn::attention {

// Test names of the kernel paths (found by kernel_check::CaseName through ADL).
inline const char* case_name(SparsePath path) {
  switch (path) {
    case SparsePath::kAuto: return "api";
    case SparsePath::kMmaSync: return "mma";
    case SparsePath::kSm90: return "sm90";
  }
  return "?";
}
inline void PrintTo(SparsePath path, std::ostream* os) { *os << case_name(path); }

}  // namespace spattn::attention

namespace {

using namespace index_sparse_test;
using kernel_check::DeviceBuffer;
using kernel_check::Stream;
using kernel_check::Verdict;
using spattn::attention::SparsePath;

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;
const auto F8 = SPATTN_DTYPE_FLOAT8_E4M3;

// ---------------------------------------------------------------------------
// Mutations: deliberate corruptions of a launch's arguments.

const bool kMutationsRegistered =
    kernel_check::register_mutation("sparse_wrong_scale") && kernel_check::register_mutation("sparse_shifted_lists") &&
    kernel_check::register_mutation("sparse_no_causal") && kernel_check::register_mutation("topk_k_minus_one") &&
    kernel_check::register_mutation("indexer_shifted_weights") && kernel_check::register_mutation("dsa_topk_minus_one");

// kAuto goes through the public API; the forced paths through the internal
// launcher (the mma.sync kernel, or the sm_90a MLA kernel).
spattn_status launch_sparse(spattn_sparse_attention_args a, float resolved_scale, cudaStream_t stream,
                            SparsePath path = SparsePath::kAuto) {
  if (kernel_check::mutation_active("sparse_wrong_scale")) a.softmax_scale = resolved_scale * 1.05f;
  if (kernel_check::mutation_active("sparse_shifted_lists")) a.indices += 1;
  if (kernel_check::mutation_active("sparse_no_causal")) a.causal = 0;
  if (path == SparsePath::kAuto) return spattn_sparse_attention(&a, stream);
  try {
    const spattn::attention::SparseProblem problem = spattn::attention::resolve_sparse(&a, "test");
    spattn::attention::check_sparse_launch(problem, "test");
    spattn::attention::launch_sparse_cuda(problem, stream, "test", path);
    return SPATTN_OK;
  } catch (const spattn::Error& e) {
    return e.status();
  }
}



spattn_status launch_topk(spattn_topk_args a, cudaStream_t stream) {
  if (kernel_check::mutation_active("topk_k_minus_one") && a.k > 1) a.k -= 1;
  return spattn_topk(&a, stream);
}

spattn_status launch_indexer(spattn_dsa_indexer_args a, cudaStream_t stream) {
  if (kernel_check::mutation_active("indexer_shifted_weights")) a.weights += 1;
  return spattn_dsa_indexer(&a, stream);
}

spattn_status launch_layer(spattn_dsa_layer_args a, spattn_dsa_config config, cudaStream_t stream) {
  if (kernel_check::mutation_active("dsa_topk_minus_one")) {
    config.index_topk -= 1;
    a.config = &config;
  }
  return spattn_dsa_layer(&a, stream);
}

std::string err() { return spattn_last_error(); }

// ---------------------------------------------------------------------------
// Index-sparse attention.

constexpr size_t kGuard = 256;

// A case's tensors on the device, outputs poisoned.
struct DeviceSparse {
  DeviceBuffer<uint16_t> q, out;
  DeviceBuffer<uint8_t> k, v;
  DeviceBuffer<int32_t> seqlens, table, lists, cu;
  DeviceBuffer<float> lse;
  DeviceBuffer<uint8_t> ws;
  spattn_kv_cache kv{};
  spattn_sparse_attention_args a{};

  explicit DeviceSparse(const SparseSetup& s)
      : q(s.q), out(s.out_elems() + kGuard), k(s.cache.k_bytes()), v(s.cache.v_bytes()),
        seqlens(s.cache.seqlens()), table(s.cache.table().empty() ? std::vector<int32_t>{0} : s.cache.table()),
        lists(s.lists), cu(s.cu), lse(std::max<size_t>(s.lse_elems, 1)), ws(workspace_bytes(s)) {
    kv = s.cache.desc(k.get(), s.cache.shared() ? k.get() : v.get(), seqlens.get(), table.get());
    a = s.args(q.get(), out.get(), &kv, lists.get(), cu.get(), lse.get());
    a.workspace = ws.get();
    a.workspace_size = ws.size();
    poison();
  }
  void poison() {
    out.fill_bytes(0xff);
    lse.fill_bytes(0xff);
  }
  // Re-uploads what a graph replay may change: lengths and lists.
  void update(const SparseSetup& s) {
    seqlens.upload(s.cache.seqlens());
    lists.upload(s.lists);
    poison();
  }
  static size_t workspace_bytes(const SparseSetup& s) {
    spattn_kv_cache kv = s.cache.host_desc();
    const spattn_sparse_attention_args a = s.args(s.q.data(), nullptr, &kv, s.lists.data(), s.cu.data(), nullptr);
    size_t bytes = 0;
    spattn_sparse_attention_args with_out = a;
    with_out.out = reinterpret_cast<void*>(16);
    EXPECT_EQ(spattn_sparse_attention_workspace_size(&with_out, &bytes), SPATTN_OK) << err();
    return std::max<size_t>(bytes, 16);
  }
};

struct SparseRun {
  std::vector<uint16_t> out;
  std::vector<float> lse;
};

SparseRun download(const SparseSetup& s, const DeviceSparse& d) {
  SparseRun r;
  r.out = d.out.download();
  r.lse = d.lse.download();
  r.lse.resize(s.lse_elems);
  return r;
}

void check_against_model(Verdict& v, const SparseSetup& s, const ModelRows& model, const SparseRun& r) {
  std::vector<uint16_t> logical(r.out.begin(), r.out.begin() + long(s.out_elems()));
  check_sparse(v, s, model, logical, r.lse, sparse_kernel_tolerance(s.c.dtype, s.c.dim, s.c.topk));
  kernel_check::untouched_outside(v, r.out, out_mask(s, r.out.size()), kernel_check::kPoison16);
}

void check_against_model(Verdict& v, const SparseSetup& s, const SparseRun& r) {
  check_against_model(v, s, model_rows(s), r);
}

// The case's GPU result against the CPU reference (when the reference takes
// the lists: no repeats, nothing out of range), each within its own bound of
// the model: their distance is within the sum.
void check_against_reference(Verdict& v, const SparseSetup& s, const ModelRows& model, const SparseRun& r) {
  std::vector<uint16_t> ref(s.out_elems(), kernel_check::kPoison16);
  std::vector<float> ref_lse(s.lse_elems, kernel_check::poison_f32());
  spattn_kv_cache kv = s.cache.host_desc();
  spattn_sparse_attention_args a = s.args(s.q.data(), ref.data(), &kv, s.lists.data(), s.cu.data(), ref_lse.data());
  if (spattn_sparse_attention_reference(&a) != SPATTN_OK) {
    v.fail("the CPU reference refused the case: " + err());
    return;
  }
  const Tolerance tk = sparse_kernel_tolerance(s.c.dtype, s.c.dim, s.c.topk);
  const Tolerance tr = sparse_reference_tolerance(s.c.dtype);
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < s.lq(b); ++i)
      for (int h = 0; h < s.c.heads; ++h) {
        const ModelRow& m = model.at(s, b, i, h);
        for (int d = 0; d < s.c.dim_v; d += 7) {
          const double want = load16(ref[s.out_offset(b, i, h) + d], s.c.dtype);
          const double got = load16(r.out[s.out_offset(b, i, h) + d], s.c.dtype);
          const double tol = (tk.out_rel + tr.out_rel) * std::fabs(m.o[size_t(d)]) * 2 +
                             (tk.out_pv + tr.out_pv + tk.out_pv_logit * m.logit_abs) * m.pv_abs + 2 * tk.out_abs;
          v.value(got, want, tol, [&] { return "vs reference out[b" + std::to_string(b) + " q" + std::to_string(i) + " h" +
                                               std::to_string(h) + " d" + std::to_string(d) + "]"; });
        }
      }
}

SparseCase gpu_case(const char* name, spattn_dtype dt, int heads, int kv_heads, int dim, std::vector<int> q_lens,
                    std::vector<int> kv_lens, int topk) {
  return sparse_case(name, dt, heads, kv_heads, dim, std::move(q_lens), std::move(kv_lens), topk);
}

std::vector<SparseCase> gpu_cases() {
  std::vector<SparseCase> cases;
  {  // GQA decode, DSA lists with holes, repeats and out-of-range entries.
    SparseCase c = gpu_case("gqa128_decode_dirty_lists", BF, 32, 8, 128, {1, 1, 1}, {300, 77, 1000}, 128);
    c.lists.duplicates = 5;
    c.lists.out_of_range = 6;
    cases.push_back(c);
  }
  {  // RocketKV-like: a list per (sequence, KV head) shared by 4 queries x 4 heads, causal, paged fp16.
    SparseCase c = gpu_case("gqa64_shared_causal_paged", FP, 16, 4, 64, {4, 4}, {200, 90}, 96);
    c.per_query = false;
    c.causal = true;
    c.cache.paged = true;
    c.cache.page_size = 16;
    cases.push_back(c);
  }
  {  // 16 queries x group 4 = 64 rows on one list; FP8 paged cache with scales.
    SparseCase c = gpu_case("gqa128_shared64rows_fp8", BF, 8, 2, 128, {16, 16}, {500, 333}, 256);
    c.per_query = false;
    c.causal = true;
    c.cache.dtype = F8;
    c.cache.paged = true;
    c.cache.page_size = 64;
    c.cache.k_scale = 0.125f;
    c.cache.v_scale = 0.5f;
    cases.push_back(c);
  }
  {  // GQA 32/8 prefill-shaped: per-token lists, 33 queries, causal.
    SparseCase c = gpu_case("gqa128_prefill_causal", BF, 32, 8, 128, {33}, {60}, 64);
    c.causal = true;
    c.lists.shuffled = false;
    cases.push_back(c);
  }
  {  // MLA decode, 128 heads (two row tiles), automatic splits.
    SparseCase c = gpu_case("mla_decode_128heads_splits", BF, 128, 1, 576, {1, 1}, {700, 2100}, 1024);
    c.lists.duplicates = 3;
    cases.push_back(c);
  }
  {  // MLA, 16 heads (one row of warps), FP8 paged with scales, MTP-like 2 queries.
    SparseCase c = gpu_case("mla16_fp8_paged_mtp", FP, 16, 1, 576, {2, 2}, {400, 129}, 128);
    c.cache.dtype = F8;
    c.cache.paged = true;
    c.cache.page_size = 32;
    c.cache.k_scale = 0.0625f;
    c.cache.v_scale = 0.0625f;
    cases.push_back(c);
  }
  {  // MLA prefill, packed, causal, increasing lists (the fast path), forced 3 splits.
    SparseCase c = gpu_case("mla_prefill_packed_splits", BF, 64, 1, 576, {40, 17}, {40, 17}, 160);
    c.packed = true;
    c.causal = true;
    c.lists.shuffled = false;
    c.lists.valid_fraction = 0.5;
    c.num_splits = 3;
    cases.push_back(c);
  }
  {  // MLA prefill for the sm_90a kernel: 128 heads, causal, shuffled lists with repeats (sorted in the kernel).
    SparseCase c = gpu_case("mla_prefill_sm90_dirty", BF, 128, 1, 576, {40}, {70}, 256);
    c.causal = true;
    c.lists.valid_fraction = 0.6;
    c.lists.duplicates = 4;
    c.lists.out_of_range = 3;
    cases.push_back(c);
  }
  {  // MLA packed prefill, one split, increasing lists (the fast path), fp16.
    SparseCase c = gpu_case("mla_prefill_packed_sm90", FP, 64, 1, 576, {60, 33}, {120, 33}, 128);
    c.packed = true;
    c.causal = true;
    c.lists.shuffled = false;
    cases.push_back(c);
  }
  {  // MLA decode with topk 2048 and one split (forced): the sm_90a kernel's longest list, paged.
    SparseCase c = gpu_case("mla_decode_topk2048_one_split", BF, 64, 1, 576, {1, 1, 1}, {3000, 100, 2049}, 2048);
    c.num_splits = 1;
    c.lists.shuffled = false;
    c.cache.paged = true;
    c.cache.page_size = 64;
    cases.push_back(c);
  }
  {  // d64 decode with a softmax scale of its own, a list of 1.
    SparseCase c = gpu_case("gqa64_topk1", BF, 8, 8, 64, {1}, {10}, 1);
    c.softmax_scale = 0.3f;
    c.lists.valid_fraction = 1.0;
    cases.push_back(c);
  }
  return cases;
}

bool reference_takes(const SparseCase& c) { return c.lists.duplicates == 0 && c.lists.out_of_range == 0; }

class GpuSparse : public ::testing::TestWithParam<std::tuple<SparseCase, SparsePath>> {};

TEST_P(GpuSparse, MatchesTheModelAndTheReference) {
  KERNEL_CHECK_REQUIRE_GPU();
  const SparseCase& c = std::get<0>(GetParam());
  const SparsePath path = std::get<1>(GetParam());
  const SparseSetup s(c, 4321);
  DeviceSparse d(s);
  Stream stream;
  const spattn_status status = launch_sparse(d.a, s.scale, stream.get(), path);
  if (path == SparsePath::kSm90 && status == SPATTN_ERR_UNSUPPORTED) {
    if (kernel_check::device_compute_capability() != 90) GTEST_SKIP() << "the sm_90a kernel needs compute capability 9.0";
    FAIL() << "the sm_90a kernel refused a case meant for it: " << err();
  }
  ASSERT_EQ(status, SPATTN_OK) << err();
  stream.sync();
  const SparseRun r = download(s, d);
  Verdict v(std::string(c.name) + " " + spattn::attention::case_name(path));
  const ModelRows model = model_rows(s);
  check_against_model(v, s, model, r);
  if (reference_takes(c)) check_against_reference(v, s, model, r);
  EXPECT_TRUE(v.ok()) << v.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuSparse,
                         ::testing::Combine(::testing::ValuesIn(gpu_cases()),
                                            ::testing::Values(SparsePath::kAuto, SparsePath::kMmaSync)),
                         kernel_check::CaseName());

std::vector<SparseCase> sm90_cases() {
  std::vector<SparseCase> cases;
  for (const SparseCase& c : gpu_cases()) {
    if (c.dim == 576 && c.per_query && c.heads % 64 == 0 && !is_fp8(c.cache.dtype) && c.topk <= 2048 &&
        c.num_splits <= 1) {
      SparseCase one = c;
      one.num_splits = 1;
      cases.push_back(one);
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sm90, GpuSparse,
                         ::testing::Combine(::testing::ValuesIn(sm90_cases()), ::testing::Values(SparsePath::kSm90)),
                         kernel_check::CaseName());

TEST(GpuSparseGraph, ReplaysWithShorterSequencesAndNewLists) {
  KERNEL_CHECK_REQUIRE_GPU();
  for (const SparseCase& c : {gpu_cases()[0], gpu_cases()[4], gpu_cases()[2]}) {
    SparseSetup s(c, 99);
    DeviceSparse d(s);
    Stream stream;
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    KERNEL_CHECK_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
    const spattn_status status = launch_sparse(d.a, s.scale, stream.get());
    KERNEL_CHECK_CUDA(cudaStreamEndCapture(stream.get(), &graph));
    ASSERT_EQ(status, SPATTN_OK) << err();
    KERNEL_CHECK_CUDA(cudaGraphInstantiate(&exec, graph, 0));
    for (int round = 0; round < 2; ++round) {
      if (round == 1) {
        for (int32_t& len : s.cache.seqlens()) len = std::max(1, len - 37);
        s.remake_lists(7);
        d.update(s);
      }
      KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
      stream.sync();
      Verdict v(std::string(c.name) + (round ? " replay with new lengths" : " first replay"));
      check_against_model(v, s, download(s, d));
      EXPECT_TRUE(v.ok()) << v.report();
    }
    KERNEL_CHECK_CUDA(cudaGraphExecDestroy(exec));
    KERNEL_CHECK_CUDA(cudaGraphDestroy(graph));
  }
}

TEST(GpuSparseArgs, RefusesMisalignedPointersAndSmallWorkspaces) {
  KERNEL_CHECK_REQUIRE_GPU();
  const SparseSetup s(gpu_cases()[4], 5);
  DeviceSparse d(s);
  spattn_sparse_attention_args a = d.a;
  ASSERT_GT(a.workspace_size, 16u);
  a.workspace_size = 16;
  EXPECT_EQ(spattn_sparse_attention(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err().find("args.workspace_size is 16"), std::string::npos) << err();
  a = d.a;
  a.q = static_cast<const uint16_t*>(a.q) + 1;
  EXPECT_EQ(spattn_sparse_attention(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err().find("args.q is not 16-byte aligned"), std::string::npos) << err();
}

// ---------------------------------------------------------------------------
// Top-k, exactly as the CPU reference.

TEST(GpuTopk, SelectsExactlyAsTheReference) {
  KERNEL_CHECK_REQUIRE_GPU();
  std::mt19937 rng(3);
  const float pool[] = {-2, -1, -0.0f, 0, 1, 2, 1.5f, NAN, -INFINITY, INFINITY};
  struct Shape {
    int rows, cols, k;
    bool ties;
  };
  for (const Shape sh : {Shape{40, 300, 64, true}, Shape{12, 70000, 2048, false}, Shape{12, 70000, 2048, true},
                         Shape{30, 5000, 1, false}, Shape{7, 3000, 4096, true}}) {
    const int64_t stride = sh.cols + 5;
    std::vector<float> scores(size_t(sh.rows) * size_t(stride), NAN);
    std::uniform_real_distribution<float> u(-8.0f, 8.0f);
    for (int r = 0; r < sh.rows; ++r)
      for (int j = 0; j < sh.cols; ++j) scores[size_t(r * stride + j)] = sh.ties ? pool[rng() % 10] : u(rng);
    std::vector<int32_t> lengths(size_t(sh.rows));
    for (int r = 0; r < sh.rows; ++r) lengths[size_t(r)] = r % 3 == 0 ? sh.cols : int32_t(rng() % size_t(sh.cols + 3));
    const int64_t out_stride = sh.k + 3;
    std::vector<int32_t> want(size_t(sh.rows) * size_t(out_stride), -77);
    spattn_topk_args a{};
    a.struct_size = sizeof a;
    a.num_rows = sh.rows;
    a.num_cols = sh.cols;
    a.scores = scores.data();
    a.score_row_stride = stride;
    a.lengths = lengths.data();
    a.k = sh.k;
    a.indices = want.data();
    a.index_row_stride = out_stride;
    ASSERT_EQ(spattn_topk_reference(&a), SPATTN_OK) << err();
    DeviceBuffer<float> d_scores(scores);
    DeviceBuffer<int32_t> d_lengths(lengths), d_out(std::vector<int32_t>(want.size(), -77));
    a.scores = d_scores.get();
    a.lengths = d_lengths.get();
    a.indices = d_out.get();
    Stream stream;
    ASSERT_EQ(launch_topk(a, stream.get()), SPATTN_OK) << err();
    stream.sync();
    const std::vector<int32_t> got = d_out.download();
    Verdict v("topk " + std::to_string(sh.rows) + "x" + std::to_string(sh.cols) + " k " + std::to_string(sh.k));
    kernel_check::same_map(v, got, want, [&](size_t i) {
      return "row " + std::to_string(i / size_t(out_stride)) + " slot " + std::to_string(i % size_t(out_stride));
    });
    EXPECT_TRUE(v.ok()) << v.report();
  }
}

// ---------------------------------------------------------------------------
// The indexer.

std::vector<IndexerCase> gpu_indexer_cases() {
  std::vector<IndexerCase> cases;
  IndexerCase c;
  c.name = "fp8_d128_h64_paged_tokenscales";
  c.q_dtype = F8;
  c.heads = 64;
  c.dim = 128;
  c.q_lens = {37, 37};
  c.kv_lens = {300, 37};
  c.cache.dtype = F8;
  c.cache.paged = true;
  c.cache.page_size = 64;
  c.cache.k_scale = 0.5f;
  cases.push_back(c);
  c.name = "fp8_d64_h20_exact";
  c.heads = 20;
  c.dim = 64;
  c.q_lens = {3, 3, 3};
  c.kv_lens = {129, 5, 260};
  c.cache = CacheSpec{};
  c.cache.dtype = F8;
  c.exact = true;
  cases.push_back(c);
  c.name = "bf16_d64_h8_packed";
  c.q_dtype = BF;
  c.heads = 8;
  c.q_lens = {70, 1, 9};
  c.kv_lens = {70, 500, 20};
  c.packed = true;
  c.cache = CacheSpec{};
  c.cache.dtype = BF;
  c.token_scales = false;
  c.exact = false;
  cases.push_back(c);
  c.name = "fp16_fp8keys_d128_h128_exact";
  c.q_dtype = FP;
  c.heads = 128;
  c.dim = 128;
  c.q_lens = {2};
  c.kv_lens = {200};
  c.packed = false;
  c.cache.dtype = F8;
  c.cache.k_scale = 2.0f;
  c.token_scales = true;
  c.exact = true;
  cases.push_back(c);
  return cases;
}

struct DeviceIndexer {
  DeviceBuffer<uint8_t> q, k;
  DeviceBuffer<float> w, scales, logits;
  DeviceBuffer<int32_t> seqlens, table, cu;
  spattn_kv_cache kc{};
  spattn_dsa_indexer_args a{};
  explicit DeviceIndexer(const IndexerSetup& s)
      : q(s.q), k(s.cache.k_bytes()), w(s.w), scales(s.token_scales), logits(size_t(s.rows() * s.logits_stride) + kGuard),
        seqlens(s.cache.seqlens()), table(s.cache.table().empty() ? std::vector<int32_t>{0} : s.cache.table()), cu(s.cu) {
    kc = s.cache.desc(k.get(), k.get(), seqlens.get(), table.get());
    a = s.args(q.get(), w.get(), &kc, scales.get(), cu.get(), logits.get());
    logits.fill_bytes(0xff);
  }
};

class GpuIndexer : public ::testing::TestWithParam<IndexerCase> {};

TEST_P(GpuIndexer, MatchesTheModel) {
  KERNEL_CHECK_REQUIRE_GPU();
  const IndexerSetup s(GetParam(), 8);
  DeviceIndexer d(s);
  Stream stream;
  ASSERT_EQ(launch_indexer(d.a, stream.get()), SPATTN_OK) << err();
  stream.sync();
  std::vector<float> logits = d.logits.download();
  Verdict v(GetParam().name);
  check_indexer(v, s, logits, true);
  EXPECT_TRUE(v.ok()) << v.report();
  // Only the rows' logical columns were written (rows end at max_seqlen_kv,
  // the guard after the last row is intact).
  size_t written = 0;
  for (int64_t r = 0; r < s.rows(); ++r)
    for (int64_t j = s.cache.max_len(); j < s.logits_stride; ++j) written += !std::isnan(logits[size_t(r * s.logits_stride + j)]);
  for (size_t i = size_t(s.rows() * s.logits_stride); i < logits.size(); ++i) written += !std::isnan(logits[i]);
  EXPECT_EQ(written, 0u);
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuIndexer, ::testing::ValuesIn(gpu_indexer_cases()), kernel_check::CaseName());

// ---------------------------------------------------------------------------
// The DSA layer.

struct DeviceLayer {
  DeviceIndexer ix;
  DeviceSparse att;
  DeviceBuffer<int32_t> indices;
  DeviceBuffer<uint8_t> ws;
  spattn_dsa_layer_args la{};
  DeviceLayer(const LayerFixture& f)
      : ix(f.ix), att(f.att), indices(f.indices.size()), ws(workspace(f)) {
    ix.a.logits = nullptr;
    att.a.cu_seqlens_q = ix.a.cu_seqlens_q;  // one cu_seqlens_q for both pieces
    la = f.la;
    la.indexer = &ix.a;
    la.attention = &att.a;
    la.indices = indices.get();
    la.workspace = ws.get();
    la.workspace_size = ws.size();
    indices.fill_bytes(0xff);
  }
  static size_t workspace(const LayerFixture& f) {
    size_t bytes = 0;
    EXPECT_EQ(spattn_dsa_layer_workspace_size(&f.la, &bytes), SPATTN_OK) << err();
    return bytes;
  }
};

void check_layer(Verdict& v, LayerFixture& f, DeviceLayer& d) {
  f.indices = d.indices.download();
  const std::vector<uint16_t> out = d.att.out.download();
  f.out.assign(out.begin(), out.begin() + long(f.att.out_elems()));
  f.lse = d.att.lse.download();
  f.lse.resize(f.att.lse_elems);
  f.check(v, sparse_kernel_tolerance(BF, f.att.c.dim, f.att.c.topk));
}

TEST(GpuDsaLayer, MatchesTheComposedModelsAroundIndexTopk) {
  KERNEL_CHECK_REQUIRE_GPU();
  struct Shape {
    std::vector<int> q_lens, kv_lens;
    bool packed;
    int topk, dim, heads, kv_heads;
    int skip;
  };
  const Shape shapes[] = {
      {{1, 1, 1, 1}, {127, 128, 129, 700}, false, 128, 576, 16, 1, 1},   // decode around topk, MLA
      {{1, 1, 1}, {127, 128, 129}, false, 128, 128, 8, 2, 0},            // no indexer skip, GQA
      {{150, 40}, {150, 40}, true, 64, 576, 64, 1, 1},                   // packed prefill, MLA
      {{4, 4}, {300, 64}, false, 64, 64, 8, 8, 1},                       // MTP-like decode, d64
  };
  for (const Shape& sh : shapes) {
    // The model's selection depends on the skip flag: recompute it.
    LayerFixture g(sh.q_lens, sh.kv_lens, sh.packed, sh.topk, sh.dim, sh.heads, sh.kv_heads);
    g.config.skip_indexer_for_short_seqs = sh.skip;
    for (int b = 0; b < g.ix.batch; ++b)
      for (int i = 0; i < g.ix.lq(b); ++i) {
        const std::vector<int32_t> sel = g.model_selection(b, i);
        for (int gg = 0; gg < g.att.c.kv_heads; ++gg) std::copy(sel.begin(), sel.end(), g.att.list(b, i, gg));
      }
    DeviceLayer d(g);
    Stream stream;
    ASSERT_EQ(launch_layer(d.la, g.config, stream.get()), SPATTN_OK) << err();
    stream.sync();
    Verdict v("layer q" + std::to_string(sh.q_lens[0]) + " topk " + std::to_string(sh.topk) + " d" +
              std::to_string(sh.dim) + (sh.skip ? " skip" : " no-skip"));
    check_layer(v, g, d);
    EXPECT_TRUE(v.ok()) << v.report();
  }
}

TEST(GpuDsaLayer, GraphReplaysWithNewLengths) {
  KERNEL_CHECK_REQUIRE_GPU();
  LayerFixture f({1, 1}, {400, 260}, false, 128, 576, 16, 1);
  DeviceLayer d(f);
  Stream stream;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  KERNEL_CHECK_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
  const spattn_status status = launch_layer(d.la, f.config, stream.get());
  KERNEL_CHECK_CUDA(cudaStreamEndCapture(stream.get(), &graph));
  ASSERT_EQ(status, SPATTN_OK) << err();
  KERNEL_CHECK_CUDA(cudaGraphInstantiate(&exec, graph, 0));
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      // Shorter sequences (the first now below index_topk: no indexer), in both caches.
      const std::vector<int32_t> lens = {100, 200};
      f.ix.cache.seqlens() = lens;
      f.att.cache.seqlens() = lens;
      d.ix.seqlens.upload(lens);
      d.att.seqlens.upload(lens);
      for (int b = 0; b < f.ix.batch; ++b) {
        const std::vector<int32_t> sel = f.model_selection(b, 0);
        std::copy(sel.begin(), sel.end(), f.att.list(b, 0, 0));
      }
      d.att.poison();
      d.indices.fill_bytes(0xff);
    }
    KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
    stream.sync();
    Verdict v(round ? "layer replay with new lengths" : "layer first replay");
    check_layer(v, f, d);
    EXPECT_TRUE(v.ok()) << v.report();
  }
  KERNEL_CHECK_CUDA(cudaGraphExecDestroy(exec));
  KERNEL_CHECK_CUDA(cudaGraphDestroy(graph));
}

// ---------------------------------------------------------------------------
// Tests of the tests: every mutation breaks the check it targets.

TEST(GpuIndexSparseMutations, EachBrokenLaunchFailsItsCheck) {
  KERNEL_CHECK_REQUIRE_GPU();
  ASSERT_TRUE(kMutationsRegistered);
  {
    SparseCase c = gpu_cases()[1];  // causal, shared lists
    const SparseSetup s(c, 4321);
    for (const char* name : {"sparse_wrong_scale", "sparse_shifted_lists", "sparse_no_causal"}) {
      kernel_check::ScopedMutation m(name);
      DeviceSparse d(s);
      Stream stream;
      ASSERT_EQ(launch_sparse(d.a, s.scale, stream.get()), SPATTN_OK) << err();
      stream.sync();
      Verdict v(name);
      check_against_model(v, s, download(s, d));
      EXPECT_FALSE(v.ok()) << name << " was not caught";
    }
  }
  {
    kernel_check::ScopedMutation m("indexer_shifted_weights");
    const IndexerSetup s(gpu_indexer_cases()[0], 8);
    DeviceIndexer d(s);
    Stream stream;
    ASSERT_EQ(launch_indexer(d.a, stream.get()), SPATTN_OK) << err();
    stream.sync();
    Verdict v("indexer_shifted_weights");
    check_indexer(v, s, d.logits.download(), true);
    EXPECT_FALSE(v.ok()) << "indexer_shifted_weights was not caught";
  }
  {
    kernel_check::ScopedMutation m("dsa_topk_minus_one");
    LayerFixture f({1, 1}, {400, 260}, false, 128, 128, 8, 2);
    DeviceLayer d(f);
    Stream stream;
    ASSERT_EQ(launch_layer(d.la, f.config, stream.get()), SPATTN_OK) << err();
    stream.sync();
    Verdict v("dsa_topk_minus_one");
    check_layer(v, f, d);
    EXPECT_FALSE(v.ok()) << "dsa_topk_minus_one was not caught";
  }
  {
    kernel_check::ScopedMutation m("topk_k_minus_one");
    std::vector<float> scores = {5, 1, 4, 2, 3};
    std::vector<int32_t> want = {0, 2, 4};
    DeviceBuffer<float> d_scores(scores);
    DeviceBuffer<int32_t> d_out(std::vector<int32_t>(3, -77));
    spattn_topk_args a{};
    a.struct_size = sizeof a;
    a.num_rows = 1;
    a.num_cols = 5;
    a.scores = d_scores.get();
    a.score_row_stride = 5;
    a.k = 3;
    a.indices = d_out.get();
    a.index_row_stride = 3;
    Stream stream;
    ASSERT_EQ(launch_topk(a, stream.get()), SPATTN_OK) << err();
    stream.sync();
    EXPECT_NE(d_out.download(), want) << "topk_k_minus_one was not caught";
  }
}

}  // namespace
