// GPU tests of Video Sparse Attention (spattn_vsa_forward, spattn_vsa_relayout):
//  - the selection equals the CPU reference's bit for bit (same float32
//    means and scores, same tie rule) and is a valid top-k of the float64
//    model's scores;
//  - the output is close to the CPU reference and to the independent float64
//    model (vsa_test_support.hpp) computed with that selection; pad rows are
//    exactly 0 with an LSE of -inf; outputs, LSE and workspace are poisoned
//    before each launch; a guard region after the output and the output's
//    padding must stay untouched (q, k, v, gate and out each have a layout
//    of their own: a kernel using the wrong tensor's strides fails);
//  - a graph-captured launch and two direct launches are bitwise identical;
//  - the deliberately broken kernels (Mutation: ties to the higher index; the
//    last kept cube dropped) make these same checks fail;
//  - the relayout kernels equal the CPU relayout.
// Skipped when no CUDA device exists; the forward pass needs sm_90 and
// answers SPATTN_ERR_UNSUPPORTED elsewhere (checked, then skipped).
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../unit/vsa_test_support.hpp"
#include "attention/vsa_cuda.hpp"
#include "attention/vsa_problem.hpp"
#include "core/error.hpp"
#include "gpu_test_support.hpp"

namespace {

using namespace vsa_test;
using gpu_test::DeviceBuffer;
using spattn::attention::vsa::Mutation;

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;
constexpr size_t kGuard = 256;  // elements after the output that must stay poisoned

struct GpuRun {
  spattn_status status = SPATTN_OK;
  std::vector<uint16_t> out, guard;
  std::vector<float> lse;
  std::vector<int32_t> sel;
};

size_t lse_size(const Host& h) { return size_t(h.c.batch) * h.c.heads * size_t(h.padded()); }
size_t sel_size(const Host& h) { return size_t(h.c.batch) * h.c.heads * h.part.num_cubes() * size_t(h.kept); }

// One forward pass on the device: through spattn_vsa_forward (kNone) or the
// internal launcher with a mutation; optionally captured into a CUDA graph.
GpuRun run_gpu(const Host& h, Mutation mutation = Mutation::kNone, bool graph = false) {
  GpuRun r;
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), gate(h.c.gate ? h.gate : std::vector<uint16_t>(8));
  DeviceBuffer<uint16_t> out(h.os.elems + kGuard);
  DeviceBuffer<float> lse(lse_size(h));
  DeviceBuffer<int32_t> sel(sel_size(h));
  out.fill_bytes(0xff);  // NaN in bf16 and fp16
  lse.fill_bytes(0xff);
  sel.fill_bytes(0xff);
  spattn_vsa_args a = make_args(h, q.ptr, k.ptr, v.ptr, gate.ptr, out.ptr);
  a.lse = lse.ptr;
  a.selected_cubes = sel.ptr;
  size_t ws_bytes = 0;
  EXPECT_EQ(spattn_vsa_workspace_size(&a, &ws_bytes), SPATTN_OK) << spattn_last_error();
  DeviceBuffer<uint8_t> ws(ws_bytes);
  ws.fill_bytes(0xff);  // nothing may rely on a zeroed workspace
  a.workspace = ws.ptr;
  a.workspace_size = ws_bytes;
  cudaStream_t stream;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  auto launch = [&]() -> spattn_status {
    if (mutation == Mutation::kNone) return spattn_vsa_forward(&a, stream);
    try {
      const auto p = spattn::attention::vsa::resolve_problem(&a, "test", true);
      spattn::attention::vsa::launch_forward_cuda(p, stream, "test", mutation);
      return SPATTN_OK;
    } catch (const spattn::Error& e) {
      return e.status();
    }
  };
  if (graph) {
    cudaGraph_t g;
    cudaGraphExec_t exec;
    EXPECT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
    r.status = launch();
    EXPECT_EQ(cudaStreamEndCapture(stream, &g), cudaSuccess);
    if (r.status == SPATTN_OK) {
      EXPECT_EQ(cudaGraphInstantiate(&exec, g, 0), cudaSuccess);
      EXPECT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
      cudaGraphExecDestroy(exec);
    }
    cudaGraphDestroy(g);
  } else {
    r.status = launch();
  }
  const cudaError_t sync = cudaStreamSynchronize(stream);
  EXPECT_EQ(sync, cudaSuccess) << cudaGetErrorString(sync);
  cudaStreamDestroy(stream);
  std::vector<uint16_t> all = out.get(h.os.elems + kGuard);
  r.out.assign(all.begin(), all.begin() + long(h.os.elems));
  r.guard.assign(all.begin() + long(h.os.elems), all.end());
  r.lse = lse.get();
  r.sel = sel.get();
  return r;
}

GpuRun run_cpu(const Host& h) {
  GpuRun r;
  r.out.assign(h.os.elems, 0xffff);
  r.lse.assign(lse_size(h), std::nanf(""));
  r.sel.assign(sel_size(h), -1);
  spattn_vsa_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), h.gate.data(), r.out.data());
  a.lse = r.lse.data();
  a.selected_cubes = r.sel.data();
  r.status = spattn_vsa_reference(&a);
  EXPECT_EQ(r.status, SPATTN_OK) << spattn_last_error();
  return r;
}

// Elements of `got` farther from `want` than the kernel's tolerance: the
// fine stage runs in float32 with P rounded to the dtype before P.V (the
// dense kernels' 2e-2 / 4e-3 band), on top of the dtype's output rounding;
// scaled by the size of the terms (|out| and |coarse * gate| from the model).
struct Compare {
  size_t bad = 0, nonfinite = 0;
  double worst = 0.0, err2 = 0.0, ref2 = 0.0;
  std::string first;
  double rel_norm() const { return ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0; }
};

Compare compare(const Host& h, const std::vector<uint16_t>& got, const Model& m,
                const std::vector<uint16_t>* reference = nullptr) {
  const bool bf = h.c.bf16();
  const double tol = bf ? 2e-2 : 4e-3;
  Compare c;
  for (int b = 0; b < h.c.batch; ++b)
    for (int64_t t = 0; t < h.padded(); ++t)
      for (int hh = 0; hh < h.c.heads; ++hh)
        for (int d = 0; d < h.c.dim; ++d) {
          const size_t i = h.oi(b, t, hh) + size_t(d), o = out_index(h, b, t, hh, d);
          const double g = storage_to_float(got[i], bf);
          const double w = reference ? double(storage_to_float((*reference)[i], bf)) : m.out[o];
          if (!std::isfinite(g)) {
            if (c.nonfinite++ == 0) c.first = "non-finite at token " + std::to_string(t);
            continue;
          }
          const double e = std::fabs(g - w) / (tol * (1.0 + std::fabs(w) + m.cg[o]));
          c.worst = std::max(c.worst, e);
          c.err2 += (g - w) * (g - w);
          c.ref2 += w * w;
          if (e > 1.0 && c.bad++ == 0) {
            c.first = "token " + std::to_string(t) + " head " + std::to_string(hh) + " dim " + std::to_string(d) +
                      ": " + std::to_string(g) + " vs " + std::to_string(w);
          }
        }
  return c;
}

bool forward_unsupported_here(const GpuRun& r) {
  if (gpu_test::sm90_device()) return false;
  EXPECT_EQ(r.status, SPATTN_ERR_UNSUPPORTED) << spattn_last_error();
  return true;
}

// Random inputs (q scaled by 2: peaked attention, so the selection matters);
// `tied`: every key cube holds the same keys, so every score of a row ties
// and the selection is decided by the tie rule alone.
Host make_case_host(const Case& c, bool tied = false) {
  Host h = make_host(c, 101u + unsigned(c.dim + c.grid[2]), 2.0f);
  if (tied) {
    const Partition& part = h.part;
    for (int b = 0; b < c.batch; ++b)
      for (int cube = 1; cube < part.num_cubes(); ++cube)
        for (int64_t s = 0; s < part.volume; ++s)
          for (int hh = 0; hh < c.kv_heads; ++hh)
            for (int d = 0; d < c.dim; ++d)
              h.k[h.ki(b, int64_t(cube) * part.volume + s, hh) + size_t(d)] = h.k[h.ki(b, s, hh) + size_t(d)];
  }
  return h;
}

struct GpuCase {
  Case c;
  bool tied = false;
};

void PrintTo(const GpuCase& g, std::ostream* os) { *os << g.c.name; }

class GpuVsa : public ::testing::TestWithParam<GpuCase> {};

TEST_P(GpuVsa, MatchesReferenceAndFloat64) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const GpuCase& gc = GetParam();
  const Host h = make_case_host(gc.c, gc.tied);
  const GpuRun g = run_gpu(h);
  if (forward_unsupported_here(g)) GTEST_SKIP() << "not an sm_90 device: spattn_vsa_forward does not run here";
  ASSERT_EQ(g.status, SPATTN_OK) << spattn_last_error();
  const GpuRun cpu = run_cpu(h);

  // Selection: bit for bit the reference's, and a valid top-k in float64.
  EXPECT_EQ(g.sel, cpu.sel) << "GPU and CPU selections differ";
  Model m = model_scores(h);
  std::string why;
  EXPECT_EQ(check_selection(h, m, g.sel, &why), 0u) << why;
  model_output(h, m, g.sel);

  const Compare vs_model = compare(h, g.out, m);
  EXPECT_EQ(vs_model.nonfinite, 0u) << vs_model.first;
  EXPECT_EQ(vs_model.bad, 0u) << "vs float64: " << vs_model.first << " (worst " << vs_model.worst << ")";
  EXPECT_LT(vs_model.rel_norm(), h.c.bf16() ? 1e-2 : 2e-3);
  const Compare vs_cpu = compare(h, g.out, m, &cpu.out);
  EXPECT_EQ(vs_cpu.bad, 0u) << "vs the CPU reference: " << vs_cpu.first;
  for (uint16_t x : g.guard) ASSERT_EQ(x, 0xffff) << "kernel wrote past the output";
  const std::vector<bool> logical = h.out_elements();
  size_t outside = 0;
  for (size_t i = 0; i < g.out.size(); ++i) outside += !logical[i] && g.out[i] != 0xffff;
  EXPECT_EQ(outside, 0u) << "the kernel wrote into the output's padding (wrong strides?)";

  // Pad rows: exactly 0 and LSE -inf; valid rows: LSE of the fine stage.
  size_t lse_bad = 0, pad_rows = 0;
  for (int b = 0; b < h.c.batch; ++b)
    for (int hh = 0; hh < h.c.heads; ++hh)
      for (int64_t t = 0; t < h.padded(); ++t) {
        const size_t li = (size_t(b) * h.c.heads + hh) * size_t(h.padded()) + size_t(t);
        const float got = g.lse[li];
        if (!h.valid_slot(t)) {
          ++pad_rows;
          EXPECT_TRUE(std::isinf(got) && got < 0) << "pad row " << t << " lse " << got;
          for (int d = 0; d < h.c.dim; ++d) ASSERT_EQ(g.out[h.oi(b, t, hh) + size_t(d)], 0u) << "pad row " << t;
          continue;
        }
        const double want = m.lse[li];
        if (!(std::fabs(got - want) <= 2e-3 * (1.0 + std::fabs(want))) && lse_bad++ < 5) {
          ADD_FAILURE() << "lse b " << b << " h " << hh << " token " << t << ": " << got << " vs " << want;
        }
      }
  EXPECT_EQ(lse_bad, 0u);
  const int64_t raster = int64_t(gc.c.grid[0]) * gc.c.grid[1] * gc.c.grid[2];
  EXPECT_EQ(pad_rows, size_t(h.c.batch) * h.c.heads * size_t(h.padded() - raster));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GpuVsa,
    ::testing::Values(
        // 5 x 9 x 16 in 4x4x4 cubes: frames and height ragged (24 cubes, 12 kept).
        GpuCase{make_case("wan_like_bf16_d128", BF, 128, 1, 4, 4, {5, 9, 16}, {4, 4, 4}, 0.5)},
        // 2x4x8 cubes, GQA, sparsity 0.9 (12 cubes, 2 kept).
        GpuCase{make_case("gqa_fp16_d64_s09", FP, 64, 1, 4, 2, {6, 9, 12}, {2, 4, 8}, 0.9)},
        // One-frame cubes of 8x8, height and width ragged, no gate, BHSD strides.
        GpuCase{make_case("bhsd_nogate_bf16_d64", BF, 64, 1, 2, 2, {3, 10, 10}, {1, 8, 8}, 0.75, false, true)},
        // Sparsity 0: every cube kept, the fine stage is dense attention over the valid tokens.
        GpuCase{make_case("dense_fp16_d128", FP, 128, 1, 2, 1, {4, 5, 12}, {4, 4, 4}, 0.0)},
        // Two batch elements, an odd kept count (12 cubes, 5 kept).
        GpuCase{make_case("batch2_bf16_d128", BF, 128, 2, 2, 2, {9, 7, 5}, {4, 4, 4}, 0.6)},
        // All key cubes identical (and ragged ones truncated copies): ties decide.
        GpuCase{make_case("ties_bf16_d64", BF, 64, 1, 2, 2, {2, 8, 40}, {1, 8, 8}, 0.5), true}),
    [](const ::testing::TestParamInfo<GpuCase>& info) { return std::string(info.param.c.name); });

TEST(GpuVsaLaunch, GraphCaptureAndRepeatsAreBitwiseIdentical) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const Host h = make_case_host(make_case("graph", BF, 128, 1, 4, 2, {5, 9, 16}, {4, 4, 4}, 0.75));
  const GpuRun a = run_gpu(h), b = run_gpu(h), g = run_gpu(h, Mutation::kNone, true);
  if (forward_unsupported_here(a)) GTEST_SKIP() << "not an sm_90 device";
  ASSERT_EQ(a.status, SPATTN_OK) << spattn_last_error();
  ASSERT_EQ(g.status, SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(a.out, b.out) << "two launches differ: a race?";
  EXPECT_EQ(a.out, g.out) << "graph replay differs from a direct launch";
  EXPECT_EQ(a.lse, g.lse);
  EXPECT_EQ(a.sel, g.sel);
}

// The checks above are not vacuous: each broken kernel fails them.
TEST(GpuVsaMutations, TiesToTheHigherIndexBreakTheSelectionCheck) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const Host h = make_case_host(make_case("ties", BF, 64, 1, 2, 2, {2, 8, 40}, {1, 8, 8}, 0.5), true);
  const GpuRun broken = run_gpu(h, Mutation::kTiesToHigherIndex);
  if (forward_unsupported_here(broken)) GTEST_SKIP() << "not an sm_90 device";
  ASSERT_EQ(broken.status, SPATTN_OK);
  const GpuRun cpu = run_cpu(h);
  EXPECT_NE(broken.sel, cpu.sel) << "the mutated selection went unnoticed";
  ASSERT_EQ(run_gpu(h).sel, cpu.sel);
}

TEST(GpuVsaMutations, DroppingTheLastKeptCubeBreaksTheOutputCheck) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const Host h = make_case_host(make_case("drop", BF, 128, 1, 4, 4, {5, 9, 16}, {4, 4, 4}, 0.5));
  const GpuRun broken = run_gpu(h, Mutation::kDropLastCube);
  if (forward_unsupported_here(broken)) GTEST_SKIP() << "not an sm_90 device";
  ASSERT_EQ(broken.status, SPATTN_OK);
  Model m = model_scores(h);
  model_output(h, m, broken.sel);
  EXPECT_EQ(check_selection(h, m, broken.sel), 0u) << "the selection itself is intact";
  EXPECT_GT(compare(h, broken.out, m).bad, 0u) << "the mutated fine stage went unnoticed";
  EXPECT_EQ(compare(h, run_gpu(h).out, m).bad, 0u);
}

TEST(GpuVsaLayout, GatherAndScatterMatchTheReference) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const int grid[3] = {5, 6, 7}, cube[3] = {2, 4, 3}, batch = 2, heads = 3, dim = 64;
  const Partition part = partition(grid, cube);
  const int64_t T = 5 * 6 * 7, P = part.padded();
  std::vector<uint16_t> raster(size_t(batch * heads * T * dim));
  std::mt19937 rng(9);
  for (auto& x : raster) x = uint16_t(rng() % 0x7f00 + 1);
  const int64_t rs[3] = {T * heads * dim, heads * dim, dim}, cs[3] = {heads * P * dim, dim, P * dim};
  auto args = [&](spattn_vsa_direction dir, const void* src, void* dst) {
    spattn_vsa_layout_args a{};
    a.struct_size = sizeof(a);
    a.dtype = BF;
    a.direction = dir;
    a.batch = batch;
    a.num_heads = heads;
    a.head_dim = dim;
    for (int i = 0; i < 3; ++i) {
      a.grid[i] = grid[i];
      a.cube_shape[i] = cube[i];
      a.src_strides[i] = dir == SPATTN_VSA_TO_CUBES ? rs[i] : cs[i];
      a.dst_strides[i] = dir == SPATTN_VSA_TO_CUBES ? cs[i] : rs[i];
    }
    a.src = src;
    a.dst = dst;
    return a;
  };
  std::vector<uint16_t> want(size_t(batch * heads * P * dim), 0xffff);
  spattn_vsa_layout_args ha = args(SPATTN_VSA_TO_CUBES, raster.data(), want.data());
  ASSERT_EQ(spattn_vsa_relayout_reference(&ha), SPATTN_OK) << spattn_last_error();
  DeviceBuffer<uint16_t> d_raster(raster), d_cubes(want.size()), d_back(raster.size());
  d_cubes.fill_bytes(0xff);
  d_back.fill_bytes(0xff);
  spattn_vsa_layout_args da = args(SPATTN_VSA_TO_CUBES, d_raster.ptr, d_cubes.ptr);
  ASSERT_EQ(spattn_vsa_relayout(&da, nullptr), SPATTN_OK) << spattn_last_error();
  spattn_vsa_layout_args db = args(SPATTN_VSA_TO_RASTER, d_cubes.ptr, d_back.ptr);
  ASSERT_EQ(spattn_vsa_relayout(&db, nullptr), SPATTN_OK) << spattn_last_error();
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(d_cubes.get(), want) << "gather differs from the CPU relayout (pads must be 0)";
  EXPECT_EQ(d_back.get(), raster) << "scatter did not restore the raster tensor";
}

TEST(GpuVsaArgs, ForwardChecksBeforeLaunching) {
  GPU_TEST_SKIP_WITHOUT_DEVICE();
  const Host h = make_case_host(make_case("args", BF, 64, 1, 2, 2, {4, 4, 8}, {4, 4, 4}, 0.5));
  DeviceBuffer<uint16_t> q(h.q), k(h.k), v(h.v), gate(h.gate), out(h.os.elems);
  spattn_vsa_args a = make_args(h, q.ptr, k.ptr, v.ptr, gate.ptr, out.ptr);
  size_t need = 0;
  ASSERT_EQ(spattn_vsa_workspace_size(&a, &need), SPATTN_OK);
  DeviceBuffer<uint8_t> ws(need + 256);
  a.workspace = ws.ptr + 16;  // not 256-byte aligned
  a.workspace_size = need;
  EXPECT_EQ(spattn_vsa_forward(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.workspace is not 256-byte aligned"), std::string::npos)
      << spattn_last_error();
  a.workspace = ws.ptr;
  const spattn_status st = spattn_vsa_forward(&a, nullptr);
  if (gpu_test::sm90_device()) EXPECT_EQ(st, SPATTN_OK) << spattn_last_error();
  else EXPECT_EQ(st, SPATTN_ERR_UNSUPPORTED);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

}  // namespace
