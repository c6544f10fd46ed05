// GPU tests of RocketKV (spattn_rocket_context, spattn_rocket_decode and their
// pieces) against the float64 model of tests/unit/rocket_test_support.hpp:
// the decisions (kept positions, selected tokens) and the moved cache rows
// and KT entries exactly, the attention output within the tolerance derived
// from the kernels' arithmetic. Every output is poisoned before a launch and
// checked whole (guards and padding included); each phase also runs
// captured in a CUDA graph, the decode graph replayed after the lengths and
// the data changed; the mutations of the family must make the checks fail.
// Skipped without a GPU; SPATTN_TEST_REQUIRE_GPU=1 turns skips into failures.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <string>
#include <vector>

#include "../unit/rocket_test_support.hpp"
#include "cuda_check.hpp"

namespace {

using kernel_check::DeviceBuffer;
using kernel_check::Stream;
using rocket_test::Case;
using rocket_test::Host;

constexpr int32_t kPoisonIndex = 0x7eadbeef;

// A problem's buffers on the device, poisoned where the calls write.
struct Device {
  explicit Device(const Host& h)
      : q(h.q),
        k(h.k),
        v(h.v),
        kt(h.kt),
        block_table(h.block_table.empty() ? std::vector<int32_t>{0} : h.block_table),
        kt_block_table(h.kt_block_table.empty() ? std::vector<int32_t>{0} : h.kt_block_table),
        seqlens(h.seqlens),
        seqlens_out(std::vector<int32_t>(size_t(h.batch()), kPoisonIndex)),
        // twice the room: a mutated config (page_size doubled) writes longer lists
        kept(std::vector<int32_t>(size_t(h.batch()) * h.c.kv_heads * h.c.budget, kPoisonIndex)),
        selected(std::vector<int32_t>(2 * size_t(h.batch()) * h.c.kv_heads * h.c.topk * h.c.page, kPoisonIndex)),
        out(std::vector<uint16_t>(rocket_test::out_layout(h).elems + rocket_test::kGuard, kernel_check::kPoison16)),
        lse(std::vector<float>(size_t(h.batch()) * h.heads(), kernel_check::poison_f32())) {}

  // Uploads another problem of the same layout (a decode graph's next step).
  void upload(const Host& h) {
    q.upload(h.q);
    k.upload(h.k);
    v.upload(h.v);
    kt.upload(h.kt);
    seqlens.upload(h.seqlens);
    if (!h.block_table.empty()) block_table.upload(h.block_table);
    if (!h.kt_block_table.empty()) kt_block_table.upload(h.kt_block_table);
    selected.upload(std::vector<int32_t>(selected.size(), kPoisonIndex));
    out.upload(std::vector<uint16_t>(out.size(), kernel_check::kPoison16));
    lse.fill_bytes(0xff);
  }

  rocket_test::Pointers pointers(const Host& h) {
    rocket_test::Pointers p;
    p.q = q.get();
    p.k = k.get();
    p.v = v.get();
    p.block_table = h.c.paged_kv ? block_table.get() : nullptr;
    p.seqlens = seqlens.get();
    p.kt = kt.get();
    p.kt_block_table = h.c.paged_kt ? kt_block_table.get() : nullptr;
    p.seqlens_out = seqlens_out.get();
    p.kept = kept.get();
    p.out = out.get();
    p.lse = lse.get();
    p.selected = selected.get();
    return p;
  }

  DeviceBuffer<uint16_t> q;
  DeviceBuffer<uint8_t> k, v, kt;
  DeviceBuffer<int32_t> block_table, kt_block_table, seqlens, seqlens_out, kept, selected;
  DeviceBuffer<uint16_t> out;
  DeviceBuffer<float> lse;
};

// Args with device pointers and a workspace of the queried size (poisoned,
// so nothing may rely on its contents).
struct Launch {
  Launch(const Host& h, Device& d) {
    rocket_test::fill_args(h, d.pointers(h), args);
    size_t context_bytes = 0, decode_bytes = 0;
    status = spattn_rocket_context_workspace_size(&args.context, &context_bytes);
    if (status == SPATTN_OK) status = spattn_rocket_decode_workspace_size(&args.decode, &decode_bytes);
    if (status != SPATTN_OK) {
      error = spattn_last_error();
      return;
    }
    workspace = std::make_unique<DeviceBuffer<uint8_t>>(std::max(context_bytes, decode_bytes));
    workspace->fill_bytes(0xff);
    args.context.workspace = args.decode.workspace = workspace->get();
    args.context.workspace_size = args.decode.workspace_size = workspace->size();
  }
  rocket_test::Args args;
  std::unique_ptr<DeviceBuffer<uint8_t>> workspace;
  spattn_status status = SPATTN_OK;
  std::string error;
};

rocket_test::ContextResult download_context(Device& d) {
  rocket_test::ContextResult r;
  r.kept = d.kept.download();
  r.seqlens_out = d.seqlens_out.download();
  r.k = d.k.download();
  r.v = d.v.download();
  r.kt = d.kt.download();
  return r;
}

rocket_test::DecodeResult download_decode(const Host& h, Device& d) {
  rocket_test::DecodeResult r;
  r.kt = d.kt.download();
  r.selected = d.selected.download();
  r.selected.resize(size_t(h.batch()) * h.c.kv_heads * h.c.topk * h.c.page);
  r.out = d.out.download();
  r.lse = d.lse.download();
  return r;
}

// Skips (or, with SPATTN_TEST_REQUIRE_GPU, fails) a test whose launch was
// refused as unsupported; any other failure fails it.
#define ASSERT_LAUNCHED(status, what)                                                        \
  do {                                                                                       \
    const spattn_status s_ = (status);                                                       \
    if (s_ == SPATTN_ERR_UNSUPPORTED) KERNEL_CHECK_SKIP_OR_FAIL(std::string(what) + ": " + spattn_last_error()); \
    ASSERT_EQ(s_, SPATTN_OK) << what << ": " << spattn_last_error();                          \
  } while (0)

// ---------------------------------------------------------------------------
// Context phase

class RocketContextGpu : public ::testing::TestWithParam<Case> {};

TEST_P(RocketContextGpu, WholePhaseMatchesTheModelExactly) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = rocket_test::layout(GetParam(), GetParam().window);
  rocket_test::generate_context(h);
  const rocket_test::ContextExpected e = rocket_test::model_context(h);
  ASSERT_GE(e.margin, 1.0) << "the inputs put a decision within the kernels' error bound";
  Device d(h);
  Launch l(h, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  Stream stream;
  ASSERT_LAUNCHED(spattn_rocket_context(&l.args.context, stream.get()), "spattn_rocket_context");
  stream.sync();
  const kernel_check::Verdict v = rocket_test::check_context(h, e, download_context(d));
  EXPECT_TRUE(v.ok()) << v.report();
}

TEST_P(RocketContextGpu, PiecesOneByOneInAGraph) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = rocket_test::layout(GetParam(), GetParam().window);
  rocket_test::generate_context(h);
  const rocket_test::ContextExpected e = rocket_test::model_context(h);
  ASSERT_GE(e.margin, 1.0);
  Device d(h);
  Launch l(h, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  Stream stream;
  // select alone: the kept lists, nothing moved yet
  ASSERT_LAUNCHED(spattn_rocket_context_select(&l.args.context, stream.get()), "select");
  stream.sync();
  rocket_test::ContextResult r = download_context(d);
  kernel_check::Verdict v("select");
  kernel_check::same_map(v, r.kept, e.kept, [](size_t i) { return "kept_indices[" + std::to_string(i) + "]"; });
  rocket_test::same_bytes(v, r.k, h.k, "K pool (select must not move it)");
  EXPECT_TRUE(v.ok()) << v.report();
  // compact and build the KT cache, captured together and replayed once
  const spattn_status s = kernel_check::capture_and_replay(
      stream,
      [&](cudaStream_t cs) {
        spattn_status st = spattn_rocket_context_compact(&l.args.context, cs);
        return st == SPATTN_OK ? spattn_rocket_context_build_kt(&l.args.context, cs) : st;
      },
      SPATTN_OK);
  ASSERT_LAUNCHED(s, "compact + build_kt in a graph");
  stream.sync();
  const kernel_check::Verdict all = rocket_test::check_context(h, e, download_context(d));
  EXPECT_TRUE(all.ok()) << all.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, RocketContextGpu, ::testing::ValuesIn(rocket_test::context_cases()), kernel_check::CaseName());

// ---------------------------------------------------------------------------
// Decode step

class RocketDecodeGpu : public ::testing::TestWithParam<Case> {};

TEST_P(RocketDecodeGpu, WholeStepMatchesTheModel) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = rocket_test::layout(GetParam(), 1);
  rocket_test::generate_decode(h);
  const rocket_test::DecodeExpected e = rocket_test::model_decode(h);
  ASSERT_GE(e.margin, 1.0) << "the inputs put a decision within the kernels' error bound";
  Device d(h);
  Launch l(h, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  Stream stream;
  ASSERT_LAUNCHED(spattn_rocket_decode(&l.args.decode, stream.get()), "spattn_rocket_decode");
  stream.sync();
  const kernel_check::Verdict v =
      rocket_test::check_decode(h, e, rocket_test::kernel_arithmetic(h.c.dtype), download_decode(h, d));
  EXPECT_TRUE(v.ok()) << v.report();
}

TEST_P(RocketDecodeGpu, PiecesOneByOne) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = rocket_test::layout(GetParam(), 1);
  rocket_test::generate_decode(h);
  const rocket_test::DecodeExpected e = rocket_test::model_decode(h);
  ASSERT_GE(e.margin, 1.0);
  Device d(h);
  Launch l(h, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  Stream stream;
  ASSERT_LAUNCHED(spattn_rocket_decode_update_kt(&l.args.decode, stream.get()), "update_kt");
  stream.sync();
  kernel_check::Verdict v("update_kt");
  rocket_test::same_bytes(v, d.kt.download(), e.kt, "KT cache");
  EXPECT_TRUE(v.ok()) << v.report();
  ASSERT_LAUNCHED(spattn_rocket_decode_select(&l.args.decode, stream.get()), "select");
  ASSERT_LAUNCHED(spattn_rocket_decode_attend(&l.args.decode, stream.get()), "attend");
  stream.sync();
  const kernel_check::Verdict all =
      rocket_test::check_decode(h, e, rocket_test::kernel_arithmetic(h.c.dtype), download_decode(h, d));
  EXPECT_TRUE(all.ok()) << all.report();
}

INSTANTIATE_TEST_SUITE_P(Cases, RocketDecodeGpu, ::testing::ValuesIn(rocket_test::decode_cases()), kernel_check::CaseName());

TEST(RocketDecodeGpuGraph, ReplayedAfterTheLengthsAndDataChange) {
  KERNEL_CHECK_REQUIRE_GPU();
  // Two steps of one layout: the second has other lengths (one sequence
  // grew by a token, one emptied: an idle slot of a captured batch) and other
  // data; the graph captured on the first must give the second's results.
  Case a = rocket_test::decode_cases()[1];
  a.capacity = 160;
  Case b = a;
  b.lens = {131, 0};
  b.seed = 7;
  Host ha = rocket_test::layout(a, 1), hb = rocket_test::layout(b, 1);
  rocket_test::generate_decode(ha);
  rocket_test::generate_decode(hb);
  const rocket_test::DecodeExpected ea = rocket_test::model_decode(ha), eb = rocket_test::model_decode(hb);
  ASSERT_GE(ea.margin, 1.0);
  ASSERT_GE(eb.margin, 1.0);
  Device d(ha);
  Launch l(ha, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  Stream stream;
  cudaGraph_t graph = nullptr;
  KERNEL_CHECK_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
  const spattn_status s = spattn_rocket_decode(&l.args.decode, stream.get());
  KERNEL_CHECK_CUDA(cudaStreamEndCapture(stream.get(), &graph));
  ASSERT_LAUNCHED(s, "capture");
  cudaGraphExec_t exec = nullptr;
  KERNEL_CHECK_CUDA(cudaGraphInstantiate(&exec, graph, 0));
  KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
  stream.sync();
  const auto arith = rocket_test::kernel_arithmetic(a.dtype);
  kernel_check::Verdict va = rocket_test::check_decode(ha, ea, arith, download_decode(ha, d));
  EXPECT_TRUE(va.ok()) << va.report();
  d.upload(hb);
  KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
  stream.sync();
  kernel_check::Verdict vb = rocket_test::check_decode(hb, eb, arith, download_decode(hb, d));
  EXPECT_TRUE(vb.ok()) << vb.report();
  KERNEL_CHECK_CUDA(cudaGraphExecDestroy(exec));
  KERNEL_CHECK_CUDA(cudaGraphDestroy(graph));
}

// ---------------------------------------------------------------------------
// Tests of the test on the kernels: each mutation fails the check.

TEST(RocketGpuMutations, EachMutationFailsTheCheck) {
  KERNEL_CHECK_REQUIRE_GPU();
  for (const char* name : {"rocket_pool_wider", "rocket_v_with_k_strides", "rocket_kt_page_doubled"}) {
    Host h = rocket_test::layout(rocket_test::context_cases()[0], rocket_test::context_cases()[0].window);
    rocket_test::generate_context(h);
    const rocket_test::ContextExpected e = rocket_test::model_context(h);
    kernel_check::ScopedMutation m(name);
    Device d(h);
    Launch l(h, d);
    ASSERT_EQ(l.status, SPATTN_OK) << name << ": " << l.error;
    Stream stream;
    ASSERT_LAUNCHED(spattn_rocket_context(&l.args.context, stream.get()), name);
    stream.sync();
    EXPECT_FALSE(rocket_test::check_context(h, e, download_context(d)).ok()) << name << " went unnoticed";
  }
  for (const char* name : {"rocket_topk_minus_one", "rocket_wrong_softmax_scale", "rocket_v_with_k_strides",
                           "rocket_kt_page_doubled"}) {
    Host h = rocket_test::layout(rocket_test::decode_cases()[0], 1);
    rocket_test::generate_decode(h);
    const rocket_test::DecodeExpected e = rocket_test::model_decode(h);
    kernel_check::ScopedMutation m(name);
    Device d(h);
    Launch l(h, d);
    ASSERT_EQ(l.status, SPATTN_OK) << name << ": " << l.error;
    Stream stream;
    ASSERT_LAUNCHED(spattn_rocket_decode(&l.args.decode, stream.get()), name);
    stream.sync();
    EXPECT_FALSE(
        rocket_test::check_decode(h, e, rocket_test::kernel_arithmetic(h.c.dtype), download_decode(h, d)).ok())
        << name << " went unnoticed";
  }
}

TEST(RocketGpuRefusals, MisalignedKtCacheAndTooLongLists) {
  KERNEL_CHECK_REQUIRE_GPU();
  Host h = rocket_test::layout(rocket_test::decode_cases()[0], 1);
  Device d(h);
  Launch l(h, d);
  ASSERT_EQ(l.status, SPATTN_OK) << l.error;
  l.args.kt.strides[1] += 1;  // rows no longer 16-byte aligned
  EXPECT_EQ(spattn_rocket_decode(&l.args.decode, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.kt_cache->strides[1]"), std::string::npos)
      << spattn_last_error();
  l.args.kt.strides[1] -= 1;
  l.args.config.topk = 2048;  // 2048 * 4 keys per list: more than the sparse attention takes
  EXPECT_EQ(spattn_rocket_decode(&l.args.decode, nullptr), SPATTN_ERR_UNSUPPORTED);
}

}  // namespace
