// GPU tests of spattn_attention_decode and spattn_attention_merge, and of
// chunked prefill over a cache (spattn_attention_forward with kv_cache):
// the kernels against the independent float64 model of
// tests/unit/decode_test_support.hpp with the kernel's own derived
// tolerances, their tile decisions compared one by one with the model's,
// poisoned outputs, a CUDA graph replayed with new lengths and pages, planted
// bad page ids, and tests of the tests (each mutation must fail). Pattern:
// tests/README.md. Skipped without a GPU, failed instead with
// SPATTN_TEST_REQUIRE_GPU=1.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../unit/decode_test_support.hpp"
#include "attention/attention_cuda.hpp"
#include "attention/attention_problem.hpp"
#include "attention/decode_problem.hpp"
#include "core/error.hpp"
#include "cuda_check.hpp"
#include "kernel_check.hpp"

namespace {

using namespace decode_test;
using kernel_check::DeviceBuffer;
using kernel_check::Stream;

// A host problem on the device.
struct DeviceDecode {
  DeviceBuffer<uint16_t> q;
  DeviceBuffer<uint8_t> k, v;
  DeviceBuffer<int32_t> seqlens, table;
  DeviceBuffer<uint16_t> out;
  DeviceBuffer<float> lse;
  DeviceBuffer<unsigned long long> counters;
  DeviceBuffer<uint8_t> decisions;
  size_t workspace_bytes = 0;
  DeviceBuffer<uint8_t> workspace;
  spattn_kv_cache cache;
  spattn_decode_args args;

  DeviceDecode(const DecodeHost& h, size_t n_decisions, size_t ws)
      : q(h.q), k(h.k), v(h.v), seqlens(h.seqlens), table(h.block_table.empty() ? std::vector<int32_t>{0} : h.block_table),
        out(out_buffer_elems(h)), lse(size_t(h.c.batch) * h.c.heads * h.c.lq), counters(2),
        decisions(std::max<size_t>(n_decisions, 1)), workspace_bytes(ws), workspace(std::max<size_t>(ws, 16)) {
    cache = kv_cache_of(h, k.get(), v.get(), seqlens.get(), h.c.page_size ? table.get() : nullptr);
    args = decode_args_of(h, q.get(), out.get(), &cache, lse.get(), counters.get());
    args.workspace = workspace.get();
    args.workspace_size = ws;
    reset();
  }
  void reset() {
    out.fill_bytes(0xff);
    lse.fill_bytes(0xff);
    counters.fill_bytes(0);
    decisions.fill_bytes(0);
  }
  DecodeResult download() const {
    DecodeResult r;
    r.out = out.download();
    r.lse = lse.download();
    r.decisions = decisions.download();
    const std::vector<unsigned long long> c = counters.download();
    r.counters[0] = c[0];
    r.counters[1] = c[1];
    return r;
  }
};

size_t decision_count(const DecodeHost& h) {
  const DecodePlanModel p = plan_model(h.c);
  return size_t(h.c.batch) * h.c.kv_heads * p.row_tiles * p.max_tiles;
}

// The workspace a problem needs (the size query validates the args, so the
// pointers must be set; their values do not matter).
size_t workspace_for(spattn_decode_args args) {
  static uint16_t dummy[8];
  if (args.out == nullptr) args.out = dummy;
  size_t bytes = 0;
  EXPECT_EQ(spattn_decode_workspace_size(&args, &bytes), SPATTN_OK) << spattn_last_error();
  return bytes;
}

// Enqueues the kernel through the internal launcher with the decision hook
// (and the launch-site mutations); returns the status as the C API would.
spattn_status enqueue(DeviceDecode& d, const DecodeHost& h, cudaStream_t stream) {
  spattn_decode_args args = d.args;
  spattn_kv_cache cache = d.cache;
  args.kv_cache = &cache;
  apply_input_mutations(args, cache);
  (void)h;
  try {
    spattn::attention::DecodeProblem p = spattn::attention::resolve_decode(&args, "test");
    spattn::attention::check_decode_launch(p, "test");
    p.debug_decisions = d.decisions.get();
    spattn::attention::launch_decode_cuda(p, stream, "test");
  } catch (const spattn::Error& e) {
    ADD_FAILURE() << e.what();
    return e.status();
  }
  return SPATTN_OK;
}

// Runs the kernel on `h` (mutations applied) and returns what it produced.
DecodeResult run_kernel(const DecodeHost& h) {
  DecodeHost in = h;
  if (kernel_check::mutation_active("decode_pages_swapped") && in.c.page_size != 0) {
    std::swap(in.block_table[0], in.block_table[size_t(in.max_pages)]);
  }
  size_t ws = 0;
  {
    spattn_kv_cache cache = kv_cache_of(in, in.k.data(), in.v.data(), in.seqlens.data(), in.block_table.data());
    ws = workspace_for(decode_args_of(in, in.q.data(), nullptr, &cache, nullptr, nullptr));
  }
  DeviceDecode d(in, decision_count(in), ws);
  Stream stream;
  EXPECT_EQ(enqueue(d, in, stream.get()), SPATTN_OK);
  stream.sync();
  DecodeResult r = d.download();
  if (kernel_check::mutation_active("decode_lse_over_all_keys")) {
    d.args.threshold_scale_factor = 0.0f;
    d.args.tile_counters = nullptr;
    EXPECT_EQ(spattn_attention_decode(&d.args, stream.get()), SPATTN_OK) << spattn_last_error();
    stream.sync();
    r.lse = d.lse.download();
  }
  return r;
}

class GpuDecode : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(GpuDecode, MatchesFloat64ModelAndItsDecisions) {
  KERNEL_CHECK_REQUIRE_GPU();
  const DecodeHost h = make_decode_host(GetParam());
  const DecodeModel model = decode_model(h, true);
  const kernel_check::Verdict v = check_decode(h, model, run_kernel(h), true);
  EXPECT_TRUE(v.ok()) << v.report();
  if (model.skipped > 0) {
    const Separation s = separation(h, model, decode_model(h, false), true);
    EXPECT_GT(s.out, 4.0) << "skipping must move the output by more than the kernel's tolerance";
    EXPECT_GT(s.lse, 4.0);
  }
}

// The public entry point on the same problem: same values (the internal
// launcher is what it calls), no decision hook.
TEST_P(GpuDecode, PublicEntryPointMatches) {
  KERNEL_CHECK_REQUIRE_GPU();
  const DecodeHost h = make_decode_host(GetParam());
  const DecodeModel model = decode_model(h, true);
  spattn_kv_cache host_cache = kv_cache_of(h, h.k.data(), h.v.data(), h.seqlens.data(), h.block_table.data());
  DeviceDecode d(h, decision_count(h), workspace_for(decode_args_of(h, h.q.data(), nullptr, &host_cache, nullptr, nullptr)));
  Stream stream;
  ASSERT_EQ(spattn_attention_decode(&d.args, stream.get()), SPATTN_OK) << spattn_last_error();
  stream.sync();
  DecodeResult r = d.download();
  r.decisions = model.decisions;  // not reported through the C API
  const kernel_check::Verdict v = check_decode(h, model, r, true);
  EXPECT_TRUE(v.ok()) << v.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuDecode, ::testing::ValuesIn(decode_cases()), kernel_check::CaseName());

struct GpuMutation {
  const char* name;
  const char* mutation;
  const char* case_name;
};
KERNEL_CHECK_PRINT_BY_NAME(GpuMutation)

class GpuDecodeMutation : public ::testing::TestWithParam<GpuMutation> {};

TEST_P(GpuDecodeMutation, FailsTheCheck) {
  KERNEL_CHECK_REQUIRE_GPU();
  for (const DecodeCase& c : decode_cases()) {
    if (std::string(c.name) != GetParam().case_name) continue;
    const DecodeHost h = make_decode_host(c);
    const DecodeModel model = decode_model(h, true);
    kernel_check::ScopedMutation mutation(GetParam().mutation);
    EXPECT_FALSE(check_decode(h, model, run_kernel(h), true).ok()) << GetParam().mutation << " went unnoticed";
    return;
  }
  FAIL() << "no case " << GetParam().case_name;
}

INSTANTIATE_TEST_SUITE_P(
    Mutations, GpuDecodeMutation,
    ::testing::Values(GpuMutation{"dense_instead_of_skip", "decode_dense_instead_of_skip", "skip_contiguous_auto_splits"},
                      GpuMutation{"v_with_k_strides", "decode_v_with_k_strides", "dense_contiguous_bf16"},
                      GpuMutation{"wrong_softmax_scale", "decode_wrong_softmax_scale", "dense_rows_over_128_mqa"},
                      GpuMutation{"lse_over_all_keys", "decode_lse_over_all_keys", "skip_paged16_three_splits_lq2"},
                      GpuMutation{"pages_swapped", "decode_pages_swapped", "dense_fp8_paged32_not_causal"}),
    kernel_check::CaseName());

// A captured launch replayed after the lengths and the block table changed
// on the device: the replay computes the new problem.
TEST(GpuDecodeGraph, ReplaysWithNewLengthsAndPages) {
  KERNEL_CHECK_REQUIRE_GPU();
  DecodeCase c = base("graph");
  c.peaked = true;
  c.threshold = 753.0;
  c.page_size = 16;
  c.lens = {2048, 1900};
  c.max_len = 2048;
  const DecodeHost h = make_decode_host(c);
  spattn_kv_cache host_cache = kv_cache_of(h, h.k.data(), h.v.data(), h.seqlens.data(), h.block_table.data());
  DeviceDecode d(h, decision_count(h), workspace_for(decode_args_of(h, h.q.data(), nullptr, &host_cache, nullptr, nullptr)));
  Stream stream;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  KERNEL_CHECK_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
  const spattn_status status = spattn_attention_decode(&d.args, stream.get());
  KERNEL_CHECK_CUDA(cudaStreamEndCapture(stream.get(), &graph));
  ASSERT_EQ(status, SPATTN_OK) << spattn_last_error();
  KERNEL_CHECK_CUDA(cudaGraphInstantiate(&exec, graph, 0));

  // Second problem: other lengths, and the first pages of the two sequences swapped.
  DecodeHost h2 = h;
  h2.c.lens = {1000, 1850};  // no longer than the keys written: the rest of a page is unwritten
  h2.seqlens = {1000, 1850};
  std::swap(h2.block_table[0], h2.block_table[size_t(h2.max_pages)]);
  for (const DecodeHost* problem : std::vector<const DecodeHost*>{&h, &h2}) {
    d.seqlens.upload(problem->seqlens);
    d.table.upload(problem->block_table);
    d.reset();
    KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
    stream.sync();
    const DecodeModel model = decode_model(*problem, true);
    DecodeResult r = d.download();
    r.decisions = model.decisions;
    const kernel_check::Verdict v = check_decode(*problem, model, r, true);
    EXPECT_TRUE(v.ok()) << (problem == &h ? "first replay: " : "after the change: ") << v.report();
  }
  KERNEL_CHECK_CUDA(cudaGraphExecDestroy(exec));
  KERNEL_CHECK_CUDA(cudaGraphDestroy(graph));
}

// Page ids the host cannot see: a page id out of range masks its keys.
TEST(GpuDecodeBadPages, AreMasked) {
  KERNEL_CHECK_REQUIRE_GPU();
  DecodeCase c = base("bad_pages");
  c.page_size = 32;
  c.lens = {700, 1000};
  c.max_len = 1024;
  DecodeHost h = make_decode_host(c);
  h.block_table[size_t(h.max_pages) + 3] = h.num_pages + 5;  // sequence 1, keys 96..127
  h.block_table[1] = -2;                                     // sequence 0, keys 32..63
  const DecodeModel model = decode_model(h, true);
  const kernel_check::Verdict v = check_decode(h, model, run_kernel(h), true);
  EXPECT_TRUE(v.ok()) << v.report();
}

// Arguments only the launcher checks.
TEST(GpuDecodeArgs, RefusesMisalignmentAndSmallWorkspace) {
  KERNEL_CHECK_REQUIRE_GPU();
  DecodeCase c = base("args");
  c.batch = 1;
  c.lens = {4096};
  c.max_len = 4096;
  const DecodeHost h = make_decode_host(c);
  spattn_kv_cache host_cache = kv_cache_of(h, h.k.data(), h.v.data(), h.seqlens.data(), h.block_table.data());
  const size_t ws = workspace_for(decode_args_of(h, h.q.data(), nullptr, &host_cache, nullptr, nullptr));
  ASSERT_GT(ws, 0u);
  DeviceDecode d(h, decision_count(h), ws);
  spattn_decode_args a = d.args;
  a.workspace_size = ws - 1;
  EXPECT_EQ(spattn_attention_decode(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.workspace_size is"), std::string::npos) << spattn_last_error();
  a = d.args;
  a.q = static_cast<const uint16_t*>(a.q) + 1;
  EXPECT_EQ(spattn_attention_decode(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.q is not 16-byte aligned"), std::string::npos);
  a = d.args;
  spattn_kv_cache cache = d.cache;
  cache.k_strides[2] += 4;
  a.kv_cache = &cache;
  EXPECT_EQ(spattn_attention_decode(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.kv_cache->k_strides[2]"), std::string::npos);
}

// ---------------------------------------------------------------------------
// spattn_attention_merge on the device against its CPU version.

TEST(GpuMerge, MatchesTheReference) {
  KERNEL_CHECK_REQUIRE_GPU();
  const int parts = 5, batch = 2, seqlen = 3, heads = 4, dim = 96;
  const size_t elems = size_t(batch) * seqlen * heads * dim, rows = size_t(batch) * heads * seqlen;
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<std::vector<float>> outs(parts, std::vector<float>(elems)), lses(parts, std::vector<float>(rows));
  for (int p = 0; p < parts; ++p) {
    for (float& x : outs[size_t(p)]) x = n(rng);
    for (size_t r = 0; r < rows; ++r) lses[size_t(p)][r] = (r + size_t(p)) % 7 == 0 ? -INFINITY : 3.0f * n(rng);
  }
  for (int p = 0; p < parts; ++p) lses[size_t(p)][0] = -INFINITY;  // a row with nothing
  std::vector<std::unique_ptr<DeviceBuffer<float>>> d_outs, d_lses;
  std::vector<const void*> d_out_ptrs, h_out_ptrs;
  std::vector<const float*> d_lse_ptrs, h_lse_ptrs;
  for (int p = 0; p < parts; ++p) {
    d_outs.push_back(std::make_unique<DeviceBuffer<float>>(outs[size_t(p)]));
    d_lses.push_back(std::make_unique<DeviceBuffer<float>>(lses[size_t(p)]));
    d_out_ptrs.push_back(d_outs.back()->get());
    d_lse_ptrs.push_back(d_lses.back()->get());
    h_out_ptrs.push_back(outs[size_t(p)].data());
    h_lse_ptrs.push_back(lses[size_t(p)].data());
  }
  DeviceBuffer<uint16_t> d_out(elems);
  DeviceBuffer<float> d_lse(rows);
  d_out.fill_bytes(0xff);
  d_lse.fill_bytes(0xff);
  std::vector<uint16_t> want(elems, 0xffff);
  std::vector<float> want_lse(rows);
  spattn_merge_args a{};
  a.struct_size = sizeof a;
  a.num_parts = parts;
  a.batch = batch;
  a.seqlen = seqlen;
  a.num_heads = heads;
  a.head_dim = dim;
  a.parts_dtype = SPATTN_DTYPE_FLOAT32;
  const int64_t strides[3] = {int64_t(seqlen) * heads * dim, int64_t(heads) * dim, dim};
  std::memcpy(a.part_strides, strides, sizeof strides);
  std::memcpy(a.out_strides, strides, sizeof strides);
  a.out_dtype = SPATTN_DTYPE_BFLOAT16;
  a.parts = h_out_ptrs.data();
  a.part_lse = h_lse_ptrs.data();
  a.out = want.data();
  a.lse = want_lse.data();
  ASSERT_EQ(spattn_attention_merge_reference(&a), SPATTN_OK) << spattn_last_error();
  a.parts = d_out_ptrs.data();
  a.part_lse = d_lse_ptrs.data();
  a.out = d_out.get();
  a.lse = d_lse.get();
  Stream stream;
  ASSERT_EQ(spattn_attention_merge(&a, stream.get()), SPATTN_OK) << spattn_last_error();
  stream.sync();
  const std::vector<uint16_t> got = d_out.download();
  const std::vector<float> got_lse = d_lse.download();
  // float32 weights and sums against double, then one bf16 rounding each:
  // the results may differ by one bf16 step where the double result lies
  // near a rounding boundary.
  kernel_check::Verdict v("merge");
  for (size_t i = 0; i < elems; ++i) {
    const double w = spattn::attention::bf16_to_float(want[i]);
    v.value(spattn::attention::bf16_to_float(got[i]), w, 2 * kernel_check::kBf16Unit * std::fabs(w) + 1e-6,
            [&] { return "out[" + std::to_string(i) + "]"; });
  }
  for (size_t r = 0; r < rows; ++r) {
    v.value(got_lse[r], want_lse[r], 1e-5 * (1.0 + std::fabs(want_lse[r])), [&] { return "lse[" + std::to_string(r) + "]"; });
  }
  EXPECT_TRUE(v.ok()) << v.report();
}

// ---------------------------------------------------------------------------
// Chunked prefill over a paged 16-bit cache on the mma.sync kernel: the same
// arithmetic as over plain tensors, so equal bit for bit.

TEST(GpuPrefillOverCache, EqualsThePlainTensorsBitForBit) {
  KERNEL_CHECK_REQUIRE_GPU();
  DecodeCase c = base("chunked_prefill");
  c.batch = 1;
  c.lq = 200;
  c.page_size = 64;
  c.lens = {900};
  c.max_len = 960;
  c.peaked = true;
  const DecodeHost h = make_decode_host(c);
  const int len = c.lens[0];
  const int64_t kv_strides[3] = {int64_t(len) * c.kv_heads * c.dim, int64_t(c.kv_heads) * c.dim, c.dim};
  std::vector<uint16_t> k(size_t(len) * c.kv_heads * c.dim), v(k.size());
  for (int j = 0; j < len; ++j)
    for (int g = 0; g < c.kv_heads; ++g)
      for (int d = 0; d < c.dim; ++d) {
        k[size_t(j * kv_strides[1] + g * c.dim + d)] = spattn::attention::float_to_storage(float(h.key(0, j, g, d)), true);
        v[size_t(j * kv_strides[1] + g * c.dim + d)] = spattn::attention::float_to_storage(float(h.value(0, j, g, d)), true);
      }
  DeviceBuffer<uint16_t> dq(h.q), dk(k), dv(v);
  DeviceBuffer<uint8_t> pool_k(h.k), pool_v(h.v);
  DeviceBuffer<int32_t> lens(h.seqlens), table(h.block_table);
  spattn_kv_cache cache = kv_cache_of(h, pool_k.get(), pool_v.get(), lens.get(), table.get());
  std::vector<std::vector<uint16_t>> outs;
  std::vector<std::vector<unsigned long long>> counts;
  Stream stream;
  for (int use_cache = 0; use_cache < 2; ++use_cache) {
    DeviceBuffer<uint16_t> out(out_buffer_elems(h));
    DeviceBuffer<unsigned long long> counters(2);
    out.fill_bytes(0xff);
    counters.fill_bytes(0);
    spattn_attention_args a{};
    a.struct_size = sizeof a;
    a.dtype = c.dtype;
    a.batch = 1;
    a.num_heads = c.heads;
    a.num_kv_heads = c.kv_heads;
    a.head_dim = c.dim;
    a.seqlen_q = c.lq;
    a.seqlen_kv = len;
    a.q = dq.get();
    h.q_layout.strides(a.q_strides);
    a.out = out.get();
    h.o_layout.strides(a.out_strides);
    a.k = dk.get();
    a.v = dv.get();
    std::memcpy(a.k_strides, kv_strides, sizeof kv_strides);
    std::memcpy(a.v_strides, kv_strides, sizeof kv_strides);
    a.causal = 1;
    a.threshold_scale_factor = 40.0f;
    a.tile_counters = counters.get();
    if (use_cache) a.kv_cache = &cache;
    try {
      const spattn::attention::Problem p = spattn::attention::resolve_problem(&a, "test");
      spattn::attention::check_kernel_alignment(p, "test");
      spattn::attention::launch_forward_cuda(p, stream.get(), "test", spattn::attention::KernelPath::kMmaSync);
    } catch (const spattn::Error& e) {
      FAIL() << e.what();
    }
    stream.sync();
    outs.push_back(out.download());
    counts.push_back(counters.download());
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_GT(counts[0][1], 0u) << "the case must skip tiles";
  // Through the public API too (it picks the mma.sync kernel for caches).
  DeviceBuffer<uint16_t> out(out_buffer_elems(h));
  out.fill_bytes(0xff);
  spattn_attention_args a{};
  a.struct_size = sizeof a;
  a.dtype = c.dtype;
  a.batch = 1;
  a.num_heads = c.heads;
  a.head_dim = c.dim;
  a.seqlen_q = c.lq;
  a.q = dq.get();
  h.q_layout.strides(a.q_strides);
  a.out = out.get();
  h.o_layout.strides(a.out_strides);
  a.kv_cache = &cache;
  a.causal = 1;
  a.threshold_scale_factor = 40.0f;
  ASSERT_EQ(spattn_attention_forward(&a, stream.get()), SPATTN_OK) << spattn_last_error();
  stream.sync();
  EXPECT_EQ(out.download(), outs[1]);
}

}  // namespace
