// GPU tests of spattn_attention_forward: the kernel against an independent
// float64 attention (with its own re-derivation of the skip rule) and against
// the CPU reference's skip counters, on random and peaked inputs. Outputs and
// LSE are poisoned before each launch and fully checked; a guard region
// after the output must stay untouched. Skipped when no CUDA device exists.
// Every case runs three ways: through the public API (the dispatcher's
// choice) and through each kernel forced (mma.sync; sm_90a wgmma/TMA, which
// skips with a message on devices other than sm_90). Packed cases pass their
// token totals (total_q/total_kv), so the sm_90a kernel runs them; one packed
// case leaves them 0, and the forced sm_90a path must then refuse it (the
// public API runs it on the mma.sync kernel). N:M sparse softmax and NVFP4 P
// (GpuAttentionExtras) run on the mma.sync kernel only.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../unit/attention_test_support.hpp"
#include "attention/attention_cuda.hpp"
#include "attention/attention_problem.hpp"
#include "core/error.hpp"

namespace {

using namespace attention_test;
using spattn::attention::KernelPath;

// How a test launches: kAuto goes through spattn_attention_forward, the
// forced paths through the internal launcher.
const char* path_name(KernelPath path) {
  switch (path) {
    case KernelPath::kAuto: return "api";
    case KernelPath::kMmaSync: return "mma";
    case KernelPath::kSm90: return "sm90";
  }
  return "?";
}

spattn_status launch(const spattn_attention_args& a, cudaStream_t stream, KernelPath path) {
  if (path == KernelPath::kAuto) return spattn_attention_forward(&a, stream);
  try {
    const spattn::attention::Problem problem = spattn::attention::resolve_problem(&a, "test");
    spattn::attention::check_kernel_alignment(problem, "test");
    spattn::attention::launch_forward_cuda(problem, stream, "test", path);
    return SPATTN_OK;
  } catch (const spattn::Error& e) {
    return e.status();
  }
}

bool have_device() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

// Compute capability 9.0: the device the sm_90a kernel runs on (the tests
// are built with the library's architectures, 90a by default).
bool sm90_device() {
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return major == 9 && minor == 0;
}

#define SKIP_WITHOUT_DEVICE()                                                        \
  do {                                                                               \
    if (!have_device()) GTEST_SKIP() << "no CUDA device: GPU attention tests skipped"; \
  } while (0)

#define CUDA_OK(expr) ASSERT_EQ(cudaSuccess, (expr)) << #expr

template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceBuffer(size_t count) : n(count) {
    if (cudaMalloc(&ptr, count * sizeof(T) + 16) != cudaSuccess) ptr = nullptr;
  }
  DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    if (ptr) cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  std::vector<T> get(size_t count) const {
    std::vector<T> h(count);
    cudaMemcpy(h.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

constexpr size_t kGuard = 256;  // elements after the output that must stay poisoned

struct GpuRun {
  std::vector<uint16_t> out;
  std::vector<uint16_t> guard;
  std::vector<float> lse;
  unsigned long long counters[2] = {0, 0};
  spattn_status status = SPATTN_OK;
};

// Runs the kernel on `h` (optionally captured into a CUDA graph and replayed).
// Packed batches get their token totals unless `totals` is false (0: unknown).
// With `x`, the threshold and the N:M / NVFP4 P extras travel in layer_params.
GpuRun run_gpu(const Host& h, double threshold, bool with_graph = false,
               KernelPath path = KernelPath::kAuto, bool totals = true, const Extras* x = nullptr) {
  GpuRun r;
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), out(h.q_elems() + kGuard);
  DeviceBuffer<float> lse(lse_size(h));
  DeviceBuffer<int32_t> cu_q(h.cu_q.empty() ? std::vector<int32_t>{0} : h.cu_q);
  DeviceBuffer<int32_t> cu_kv(h.cu_kv.empty() ? std::vector<int32_t>{0} : h.cu_kv);
  DeviceBuffer<unsigned long long> counters(2);
  cudaMemset(out.ptr, 0xff, (h.q_elems() + kGuard) * 2);  // NaN in bf16 and fp16
  cudaMemset(lse.ptr, 0xff, lse_size(h) * 4);              // NaN
  cudaMemset(counters.ptr, 0, 16);
  spattn_attention_args a = make_args(h, q.ptr, k.ptr, v.ptr, out.ptr, cu_q.ptr, cu_kv.ptr);
  a.threshold_scale_factor = float(threshold);
  a.lse = lse.ptr;
  a.tile_counters = counters.ptr;
  const spattn_layer_params lp = make_layer_params(x ? *x : Extras{}, threshold);
  if (x) a.layer_params = &lp;
  if (h.shape.packed() && totals) {
    a.total_q = h.q_tokens;  // cu_seqlens_q[batch], known here on the host
    a.total_kv = h.kv_tokens;
  }
  cudaStream_t stream;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (with_graph) {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal);
    r.status = launch(a, stream, path);
    cudaStreamEndCapture(stream, &graph);
    if (r.status == SPATTN_OK) {
      cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphLaunch(exec, stream);
      cudaGraphExecDestroy(exec);
    }
    cudaGraphDestroy(graph);
  } else {
    r.status = launch(a, stream, path);
  }
  const cudaError_t sync = cudaStreamSynchronize(stream);
  EXPECT_EQ(sync, cudaSuccess) << cudaGetErrorString(sync);
  cudaStreamDestroy(stream);
  std::vector<uint16_t> all = out.get(h.q_elems() + kGuard);
  r.out.assign(all.begin(), all.begin() + long(h.q_elems()));
  r.guard.assign(all.begin() + long(h.q_elems()), all.end());
  r.lse = lse.get(lse_size(h));
  std::vector<unsigned long long> c = counters.get(2);
  r.counters[0] = c[0];
  r.counters[1] = c[1];
  return r;
}

struct CpuRun {
  std::vector<uint16_t> out;
  unsigned long long counters[2] = {0, 0};
};

CpuRun run_cpu(const Host& h, double threshold, const Extras* x = nullptr) {
  CpuRun r;
  r.out.assign(h.q_elems(), 0xffff);
  spattn_attention_args a =
      make_args(h, h.q.data(), h.k.data(), h.v.data(), r.out.data(), h.cu_q.data(), h.cu_kv.data());
  a.threshold_scale_factor = float(threshold);
  a.tile_counters = r.counters;
  const spattn_layer_params lp = make_layer_params(x ? *x : Extras{}, threshold);
  if (x) a.layer_params = &lp;
  EXPECT_EQ(spattn_attention_reference(&a), SPATTN_OK) << spattn_last_error();
  return r;
}

struct Case {
  const char* name;
  Shape shape;
  bool peaked;
  double threshold;
  bool totals = true;  // packed: pass total_q/total_kv (false: 0, the mma.sync fallback)
};

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;

class GpuAttention : public ::testing::TestWithParam<std::tuple<Case, KernelPath>> {};

TEST_P(GpuAttention, MatchesFloat64AndReferenceDecisions) {
  SKIP_WITHOUT_DEVICE();
  const Case& c = std::get<0>(GetParam());
  const KernelPath path = std::get<1>(GetParam());
  Host h = make_host(c.shape);
  if (c.peaked) {
    fill_peaked(h, 77u + unsigned(c.shape.dim), 7.0f);
  } else {
    fill_random(h, 99u + unsigned(c.shape.lq));
  }
  const GpuRun g = run_gpu(h, c.threshold, false, path, c.totals);
  if (path == KernelPath::kSm90) {
    if (!sm90_device()) {
      ASSERT_EQ(g.status, SPATTN_ERR_UNSUPPORTED) << spattn_last_error();
      GTEST_SKIP() << "not an sm_90 device: the sm_90a kernel does not run here";
    }
    if (c.shape.packed() && !c.totals) {
      // Without the token totals the sm_90a kernel must refuse (the public
      // API then runs the mma.sync kernel: the _api variant of this case).
      EXPECT_EQ(g.status, SPATTN_ERR_UNSUPPORTED) << "packed batch without totals ran on sm_90a";
      return;
    }
  }
  ASSERT_EQ(g.status, SPATTN_OK) << spattn_last_error();
  const Expected e = expected(h, 0.0f, c.threshold);
  const CpuRun cpu = run_cpu(h, c.threshold);

  // Counters: equal to the CPU reference and to the float64 re-derivation.
  EXPECT_EQ(g.counters[0], cpu.counters[0]);
  EXPECT_EQ(g.counters[0], e.visited);
  EXPECT_EQ(g.counters[1], cpu.counters[1]) << "skip decisions differ from the CPU reference";
  EXPECT_EQ(g.counters[1], e.skipped);
  if (c.threshold > 0) {
    EXPECT_GT(g.counters[1], 0u) << "this case is meant to skip tiles";
  }

  // Output: every element written, close to float64 attention (bf16/fp16 P
  // in the P.V product and output rounding: METHOD.md's 1e-3..1e-2 band).
  const bool bf = c.shape.bf16();
  const Compare cmp = compare_out(h, g.out, e, bf ? 2e-2 : 4e-3, bf ? 2e-2 : 4e-3);
  EXPECT_EQ(cmp.bad, 0u) << "unwritten or non-finite outputs";
  EXPECT_LE(cmp.worst, 1.0);
  EXPECT_LT(cmp.rel_norm(), bf ? 1e-2 : 2e-3);
  for (uint16_t x : g.guard) ASSERT_EQ(x, 0xffff) << "kernel wrote past the output";

  // LSE against float64 logsumexp over the kept keys.
  size_t lse_bad = 0;
  for (int b = 0; b < h.shape.batch; ++b)
    for (int hh = 0; hh < h.shape.heads; ++hh)
      for (int i = 0; i < h.seq_lq(b); ++i) {
        const double want = e.lse[e.row(h, b, i, hh)];
        const float got = g.lse[lse_index(h, b, hh, i)];
        const bool ok = std::isinf(want) ? (std::isinf(got) && got < 0)
                                         : std::fabs(got - want) <= 2e-3 * (1.0 + std::fabs(want));
        if (!ok && lse_bad++ < 5) ADD_FAILURE() << "lse b " << b << " h " << hh << " row " << i
                                               << ": " << got << " vs " << want;
      }
  EXPECT_EQ(lse_bad, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GpuAttention,
    ::testing::Combine(::testing::Values(
        Case{"gqa_77", shape(BF, 128, 2, 4, 2, 77, 77, false), false, 0.0},
        Case{"mqa_1x1000_bhsd", shape(FP, 64, 1, 2, 1, 1, 1000, false, Layout::BHSD), false, 0.0},
        Case{"causal_1000", shape(BF, 64, 1, 2, 2, 1000, 1000, true), true, 5.0},
        Case{"causal_300x1000_bhsd", shape(FP, 128, 1, 2, 2, 300, 1000, true, Layout::BHSD), true,
             2.0},
        Case{"causal_1000x300", shape(BF, 128, 1, 2, 1, 1000, 300, true), false, 0.0},
        Case{"varlen_causal", shape_packed(BF, 128, 2, 1, {1, 77, 1000, 256}, {1, 77, 1000, 256}, true), true,
             3.0},
        Case{"varlen_cross", shape_packed(FP, 64, 2, 1, {77, 5, 300}, {1000, 129, 1}, false), true, 4.0},
        Case{"varlen_gqa_empty", shape_packed(BF, 128, 2, 1, {300, 1300, 0, 513}, {700, 1300, 5, 513}, false),
             true, 10.0},
        Case{"varlen_causal_qgtk", shape_packed(FP, 128, 2, 1, {200, 50, 700}, {100, 300, 700}, true), false,
             0.0},
        Case{"varlen_no_totals", shape_packed(BF, 64, 2, 1, {130, 7, 400}, {200, 129, 400}, true), true, 3.0,
             false},
        Case{"dense_random_1024", shape(BF, 128, 1, 4, 2, 1024, 1024, false), false, 0.0},
        Case{"skip_1024_bhsd", shape(BF, 128, 1, 4, 2, 1024, 1024, false, Layout::BHSD), true,
             10.0},
        Case{"dense_fp16_d64_600x700", shape(FP, 64, 2, 4, 4, 600, 700, false), false, 0.0},
        Case{"skip_fp16_d128_causal_gqa", shape(FP, 128, 2, 8, 2, 900, 1300, true), true, 6.0}),
                       ::testing::Values(KernelPath::kAuto, KernelPath::kMmaSync, KernelPath::kSm90)),
    [](const ::testing::TestParamInfo<std::tuple<Case, KernelPath>>& info) {
      return std::string(std::get<0>(info.param).name) + "_" + path_name(std::get<1>(info.param));
    });

class GpuAttentionLaunch : public ::testing::TestWithParam<KernelPath> {};

TEST_P(GpuAttentionLaunch, GraphCaptureAndRepeatsAreBitwiseIdentical) {
  SKIP_WITHOUT_DEVICE();
  const KernelPath path = GetParam();
  Host h = make_host(shape(BF, 128, 1, 4, 2, 700, 900, true));
  fill_peaked(h, 5, 7.0f);
  const GpuRun a = run_gpu(h, 3.0, false, path), b = run_gpu(h, 3.0, false, path),
               g = run_gpu(h, 3.0, true, path);
  if (path == KernelPath::kSm90 && a.status == SPATTN_ERR_UNSUPPORTED) {
    GTEST_SKIP() << "no sm_90a device";
  }
  ASSERT_EQ(a.status, SPATTN_OK) << spattn_last_error();
  ASSERT_EQ(g.status, SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(a.out, b.out) << "two launches differ: a race?";
  EXPECT_EQ(a.out, g.out) << "graph replay differs from a direct launch";
  EXPECT_EQ(a.lse, g.lse);
  EXPECT_EQ(a.counters[1], g.counters[1]);
  EXPECT_GT(a.counters[1], 0u);
}

INSTANTIATE_TEST_SUITE_P(Paths, GpuAttentionLaunch,
                         ::testing::Values(KernelPath::kAuto, KernelPath::kMmaSync,
                                           KernelPath::kSm90),
                         [](const ::testing::TestParamInfo<KernelPath>& info) {
                           return std::string(path_name(info.param));
                         });

// The two kernels compute the same function: dense outputs agree closely
// and skip decisions (counters) are identical on peaked inputs.
TEST(GpuAttentionKernels, Sm90MatchesMmaSync) {
  SKIP_WITHOUT_DEVICE();
  Host h = make_host(shape(BF, 128, 2, 4, 2, 1000, 1500, false));
  fill_peaked(h, 11, 7.0f);
  const GpuRun m = run_gpu(h, 8.0, false, KernelPath::kMmaSync);
  const GpuRun s = run_gpu(h, 8.0, false, KernelPath::kSm90);
  if (s.status == SPATTN_ERR_UNSUPPORTED) GTEST_SKIP() << "no sm_90a device";
  ASSERT_EQ(m.status, SPATTN_OK);
  ASSERT_EQ(s.status, SPATTN_OK);
  EXPECT_EQ(m.counters[0], s.counters[0]);
  EXPECT_EQ(m.counters[1], s.counters[1]);
  EXPECT_GT(s.counters[1], 0u);
}

// ---------------------------------------------------------------------------
// N:M sparse softmax and NVFP4 P quantization (layer_params extras): both
// kernels' extras instantiations (through the API, forced mma.sync, forced
// sm_90a) against the CPU reference (same rules, shared code) and the
// independent float64 model, on the same data. Grid inputs make the logits
// exact everywhere (N:M ties resolve the same way on every side); random
// inputs rely on expected()'s slack for the rare decisions within float32
// noise of a boundary.

class GpuAttentionExtras : public ::testing::TestWithParam<std::tuple<ExtrasCase, KernelPath>> {};

TEST_P(GpuAttentionExtras, MatchesReferenceAndFloat64) {
  SKIP_WITHOUT_DEVICE();
  const ExtrasCase& c = std::get<0>(GetParam());
  const KernelPath path = std::get<1>(GetParam());
  Host h = make_host(c.shape);
  const uint32_t seed = 515u + unsigned(c.shape.dim + c.shape.lk);
  fill(h, c.fill, seed);
  const GpuRun g = run_gpu(h, c.threshold, false, path, true, &c.x);
  if (path == KernelPath::kSm90 && !sm90_device()) {
    ASSERT_EQ(g.status, SPATTN_ERR_UNSUPPORTED) << spattn_last_error();
    GTEST_SKIP() << "not an sm_90 device: the sm_90a kernel does not run here";
  }
  ASSERT_EQ(g.status, SPATTN_OK) << spattn_last_error();
  const Expected e = expected(h, 0.0f, c.threshold, c.x);
  const CpuRun cpu = run_cpu(h, c.threshold, &c.x);

  // Counters: the extras do not change the skip decisions.
  EXPECT_EQ(g.counters[0], cpu.counters[0]);
  EXPECT_EQ(g.counters[0], e.visited);
  EXPECT_EQ(g.counters[1], cpu.counters[1]) << "skip decisions differ from the CPU reference";
  EXPECT_EQ(g.counters[1], e.skipped);
  if (c.threshold > 0) EXPECT_GT(g.counters[1], 0u) << "this case is meant to skip tiles";

  // Output against float64 and against the CPU reference, with the same
  // tolerance as the dense cases (bf16/fp16 P in P.V, output rounding) plus
  // each row's slack.
  const bool bf = c.shape.bf16();
  const double tol = bf ? 2e-2 : 4e-3;
  const Compare cmp = compare_out(h, g.out, e, tol, tol);
  EXPECT_EQ(cmp.bad, 0u) << "unwritten or non-finite outputs";
  EXPECT_LE(cmp.worst, 1.0) << "vs float64";
  EXPECT_LT(cmp.rel_norm(), bf ? 1e-2 : 2e-3);
  Expected ref = e;  // the CPU reference's output in place of float64's
  for (int b = 0; b < h.shape.batch; ++b)
    for (int i = 0; i < h.seq_lq(b); ++i)
      for (int hh = 0; hh < h.shape.heads; ++hh)
        for (int d = 0; d < h.shape.dim; ++d)
          ref.out[ref.index(h, b, i, hh) + size_t(d)] = storage_to_float(cpu.out[h.q_index(b, i, hh) + size_t(d)], bf);
  const Compare vs_cpu = compare_out(h, g.out, ref, tol, tol);
  EXPECT_LE(vs_cpu.worst, 1.0) << "vs the CPU reference";
  EXPECT_LT(vs_cpu.rel_norm(), bf ? 1e-2 : 2e-3);
  for (uint16_t v : g.guard) ASSERT_EQ(v, 0xffff) << "kernel wrote past the output";

  // LSE: over the surviving keys, P unrounded.
  size_t lse_bad = 0;
  for (int b = 0; b < h.shape.batch; ++b)
    for (int hh = 0; hh < h.shape.heads; ++hh)
      for (int i = 0; i < h.seq_lq(b); ++i) {
        const double want = e.lse[e.row(h, b, i, hh)];
        const float got = g.lse[lse_index(h, b, hh, i)];
        const bool ok = std::isinf(want) ? (std::isinf(got) && got < 0)
                                         : std::fabs(got - want) <= 2e-3 * (1.0 + std::fabs(want));
        if (!ok && lse_bad++ < 5) ADD_FAILURE() << "lse b " << b << " h " << hh << " row " << i
                                               << ": " << got << " vs " << want;
      }
  EXPECT_EQ(lse_bad, 0u);

  // Not vacuous: without the extras, outputs would be off by more than the
  // tolerance.
  const Expected plain = expected(h, 0.0f, c.threshold);
  size_t moved = 0;
  for (size_t i = 0; i < e.out.size(); ++i)
    moved += std::fabs(e.out[i] - plain.out[i]) > tol * (1.0 + std::fabs(e.out[i]));
  EXPECT_GT(moved, e.out.size() / 1000) << "N:M / NVFP4 P hardly changed the output";
}

INSTANTIATE_TEST_SUITE_P(
    Extras, GpuAttentionExtras,
    ::testing::Combine(
        ::testing::Values(
            // Small, both extras: also the case the device script's memcheck and
            // racecheck filters (*gqa_77*, *gqa_77_mma) pick up.
            ExtrasCase{"extras_gqa_77", shape(BF, 128, 2, 4, 2, 77, 77, false), make_extras(2, 4, 0, 0, true), 0.0,
                       Fill::Grid},
            ExtrasCase{"nm24_fp16_d64_causal_sinks_window", shape(FP, 64, 1, 2, 2, 600, 700, true),
                       make_extras(2, 4, 4, 64, false), 0.0, Fill::Grid},
            ExtrasCase{"nm38_bf16_d128_random", shape(BF, 128, 1, 2, 1, 300, 1000, false),
                       make_extras(3, 8, 0, 0, false), 0.0, Fill::Random},
            ExtrasCase{"nm14_varlen_causal", shape_packed(BF, 64, 2, 1, {1, 77, 500, 256}, {1, 77, 600, 256}, true),
                       make_extras(1, 4, 2, 16, false), 0.0, Fill::Grid},
            ExtrasCase{"quant_fp16_d128_causal_gqa", shape(FP, 128, 1, 4, 2, 400, 700, true),
                       quantize_only(), 0.0, Fill::Random},
            ExtrasCase{"quant_fp16_d64_varlen", shape_packed(FP, 64, 2, 1, {77, 5, 300}, {1000, 129, 1}, false),
                       quantize_only(), 0.0, Fill::Random},
            ExtrasCase{"nm48_quant_skip_fp16_d128", shape(FP, 128, 1, 2, 2, 256, 1024, false),
                       make_extras(4, 8, 0, 0, true), 10.0, Fill::PeakedGrid},
            ExtrasCase{"nm78_quant_skip_varlen_causal",
                       shape_packed(BF, 64, 2, 1, {200, 700}, {300, 700}, true), make_extras(7, 8, 3, 32, true), 3.0,
                       Fill::PeakedGrid},
            ExtrasCase{"nm14_skip_bf16_d128_bhsd", shape(BF, 128, 1, 2, 1, 256, 900, false, Layout::BHSD),
                       make_extras(1, 4, 0, 0, false), 10.0, Fill::PeakedGrid}),
        ::testing::Values(KernelPath::kAuto, KernelPath::kMmaSync, KernelPath::kSm90)),
    [](const ::testing::TestParamInfo<std::tuple<ExtrasCase, KernelPath>>& info) {
      return std::string(std::get<0>(info.param).name) + "_" + path_name(std::get<1>(info.param));
    });

TEST(GpuAttentionArgs, RejectsMisalignedRowsAndUnsupportedHeadDim) {
  SKIP_WITHOUT_DEVICE();
  Host h = make_host(shape(BF, 64, 1, 2, 2, 64, 64, false));
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), out(h.q_elems());
  spattn_attention_args a = make_args(h, q.ptr, k.ptr, v.ptr, out.ptr, nullptr, nullptr);
  spattn_attention_args bad = a;
  bad.q = q.ptr + 1;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.q is not 16-byte aligned"),
            std::string::npos);
  bad = a;
  bad.k_strides[1] = 68;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.k_strides[1] is 68"), std::string::npos);
  bad = a;
  bad.head_dim = 256;
  EXPECT_EQ(spattn_attention_forward(&bad, nullptr), SPATTN_ERR_UNSUPPORTED);
  EXPECT_EQ(spattn_attention_forward(&a, nullptr), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

}  // namespace
