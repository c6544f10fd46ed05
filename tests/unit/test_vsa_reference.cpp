// CPU tests of Video Sparse Attention: the geometry (kept cubes, padded
// sizes), the relayout between raster and cube order (a hand-computed 5x5
// example and random round trips), the reference forward pass on
// hand-computed grids (two cubes; ties in the selection; ragged cubes with
// poisoned pads) and against the independent float64 model of
// vsa_test_support.hpp on random ragged problems, and the argument checks
// of every VSA entry point.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "vsa_test_support.hpp"

namespace {

using namespace vsa_test;

const auto BF = SPATTN_DTYPE_BFLOAT16;
const auto FP = SPATTN_DTYPE_FLOAT16;

spattn_vsa_args shape_args(std::vector<int> grid, std::vector<int> cube, double sparsity) {
  spattn_vsa_args a{};
  a.struct_size = sizeof(a);
  a.dtype = BF;
  a.batch = 1;
  a.num_heads = 1;
  a.num_kv_heads = 1;
  a.head_dim = 64;
  for (int i = 0; i < 3; ++i) {
    a.grid[i] = grid[size_t(i)];
    a.cube_shape[i] = cube[size_t(i)];
  }
  a.sparsity = sparsity;
  return a;
}

spattn_vsa_geometry geometry(const spattn_vsa_args& a) {
  spattn_vsa_geometry g{};
  g.struct_size = sizeof(g);
  EXPECT_EQ(spattn_vsa_get_geometry(&a, &g), SPATTN_OK) << spattn_last_error();
  return g;
}

TEST(VsaGeometry, WanShape) {
  // 21 x 45 x 80 latent tokens in 4x4x4 cubes: 6 x 12 x 20 cubes (frames and
  // height ragged: 21 = 5*4 + 1, 45 = 11*4 + 1).
  const spattn_vsa_geometry g = geometry(shape_args({21, 45, 80}, {4, 4, 4}, 0.9));
  EXPECT_EQ(g.cubes[0], 6);
  EXPECT_EQ(g.cubes[1], 12);
  EXPECT_EQ(g.cubes[2], 20);
  EXPECT_EQ(g.num_cubes, 1440);
  EXPECT_EQ(g.cube_volume, 64);
  EXPECT_EQ(g.padded_tokens, 1440 * 64);
  EXPECT_EQ(g.kept_cubes, 144);
  EXPECT_EQ(geometry(shape_args({21, 45, 80}, {4, 4, 4}, 0.8)).kept_cubes, 288);
  EXPECT_EQ(geometry(shape_args({21, 45, 80}, {4, 4, 4}, 0.5)).kept_cubes, 720);
  EXPECT_EQ(geometry(shape_args({21, 45, 80}, {4, 4, 4}, 0.0)).kept_cubes, 1440);
}

TEST(VsaGeometry, KeptCubesRoundUp) {
  struct Row {
    int cubes;
    double sparsity;
    int kept;
  };
  // 10 cubes: ceil(0.3 * 10) = 3 although 1 - 0.7 is 0.30000000000000004 in
  // double; ceil(0.05 * 10) = 1; 9 cubes at 0.5: ceil(4.5) = 5; 0.99999: 1.
  const Row rows[] = {{10, 0.7, 3}, {10, 0.95, 1}, {10, 0.0, 10}, {9, 0.5, 5},
                      {10, 0.99999, 1}, {10, 0.9, 1}, {7, 0.3, 5}, {1, 0.9, 1}};
  for (const Row& r : rows) {
    EXPECT_EQ(geometry(shape_args({1, 1, r.cubes}, {1, 1, 1}, r.sparsity)).kept_cubes, r.kept)
        << r.cubes << " cubes at sparsity " << r.sparsity;
  }
}

// ---------------------------------------------------------------------------
// Relayout.

spattn_vsa_layout_args layout_args(spattn_vsa_direction dir, int batch, int heads, int dim, std::vector<int> grid,
                                   std::vector<int> cube, const void* src, void* dst, const int64_t ss[3],
                                   const int64_t ds[3]) {
  spattn_vsa_layout_args a{};
  a.struct_size = sizeof(a);
  a.dtype = BF;
  a.direction = dir;
  a.batch = batch;
  a.num_heads = heads;
  a.head_dim = dim;
  for (int i = 0; i < 3; ++i) {
    a.grid[i] = grid[size_t(i)];
    a.cube_shape[i] = cube[size_t(i)];
    a.src_strides[i] = ss[i];
    a.dst_strides[i] = ds[i];
  }
  a.src = src;
  a.dst = dst;
  return a;
}

// FastVideo's worked example: a 5x5 image (one frame) in 2x2 tiles. Token t
// holds the value t + 1 in every dimension (0 marks a pad slot).
TEST(VsaLayout, FiveByFiveHandComputed) {
  const int dim = 8;
  std::vector<uint16_t> raster(25 * dim), cubes(36 * dim, 0xffff), back(25 * dim, 0xffff);
  for (int t = 0; t < 25; ++t)
    for (int d = 0; d < dim; ++d) raster[size_t(t * dim + d)] = float_to_storage(float(t + 1), true);
  const int64_t rs[3] = {25 * dim, dim, dim}, cs[3] = {36 * dim, dim, dim};
  spattn_vsa_layout_args a =
      layout_args(SPATTN_VSA_TO_CUBES, 1, 1, dim, {1, 5, 5}, {1, 2, 2}, raster.data(), cubes.data(), rs, cs);
  ASSERT_EQ(spattn_vsa_relayout_reference(&a), SPATTN_OK) << spattn_last_error();
  // Tiles in raster order of tiles, tokens in raster order inside each, pads after.
  const int want[36] = {0,  1,  5,  6,  2,  3,  7,  8,  4,  9,  -1, -1, 10, 11, 15, 16, 12, 13,
                        17, 18, 14, 19, -1, -1, 20, 21, -1, -1, 22, 23, -1, -1, 24, -1, -1, -1};
  for (int s = 0; s < 36; ++s)
    for (int d = 0; d < dim; ++d)
      EXPECT_EQ(storage_to_float(cubes[size_t(s * dim + d)], true), float(want[s] + 1)) << "slot " << s;
  spattn_vsa_layout_args b =
      layout_args(SPATTN_VSA_TO_RASTER, 1, 1, dim, {1, 5, 5}, {1, 2, 2}, cubes.data(), back.data(), cs, rs);
  ASSERT_EQ(spattn_vsa_relayout_reference(&b), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(back, raster);
}

// Round trip of a 3-D ragged grid, 2 batches, 3 heads, BHSD source strides and
// BSHD cube-order strides: every raster token lands in the slot the model's
// partition gives it, pads are 0, and the scatter restores the input.
TEST(VsaLayout, RoundTripRagged3d) {
  const int grid[3] = {5, 6, 7}, cube[3] = {2, 4, 3}, batch = 2, heads = 3, dim = 16;
  const Partition part = partition(grid, cube);
  const int64_t T = 5 * 6 * 7, P = part.padded();
  std::vector<uint16_t> raster(size_t(batch * heads * T * dim)), cubes(size_t(batch * P * heads * dim), 0xffff);
  std::mt19937 rng(3);
  for (auto& x : raster) x = uint16_t(rng() % 0x7f00 + 1);  // finite, nonzero
  const int64_t rs[3] = {heads * T * dim, dim, T * dim}, cs[3] = {P * heads * dim, heads * dim, dim};
  spattn_vsa_layout_args a = layout_args(SPATTN_VSA_TO_CUBES, batch, heads, dim, {5, 6, 7}, {2, 4, 3}, raster.data(),
                                         cubes.data(), rs, cs);
  ASSERT_EQ(spattn_vsa_relayout_reference(&a), SPATTN_OK) << spattn_last_error();
  size_t pads = 0;
  for (int b = 0; b < batch; ++b)
    for (int c = 0; c < part.num_cubes(); ++c)
      for (int s = 0; s < part.volume; ++s)
        for (int h = 0; h < heads; ++h)
          for (int d = 0; d < dim; ++d) {
            const uint16_t got = cubes[size_t(b * cs[0] + (int64_t(c) * part.volume + s) * cs[1] + h * cs[2] + d)];
            if (size_t(s) < part.tokens[size_t(c)].size()) {
              const int64_t t = part.tokens[size_t(c)][size_t(s)];
              ASSERT_EQ(got, raster[size_t(b * rs[0] + t * rs[1] + h * rs[2] + d)]) << "cube " << c << " slot " << s;
            } else {
              ASSERT_EQ(got, 0u) << "pad slot " << s << " of cube " << c;
              ++pads;
            }
          }
  EXPECT_GT(pads, 0u);
  std::vector<uint16_t> back(raster.size(), 0xffff);
  spattn_vsa_layout_args b = layout_args(SPATTN_VSA_TO_RASTER, batch, heads, dim, {5, 6, 7}, {2, 4, 3},
                                         cubes.data(), back.data(), cs, rs);
  ASSERT_EQ(spattn_vsa_relayout_reference(&b), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(back, raster);
}

// ---------------------------------------------------------------------------
// Forward pass on hand-computed grids.

struct RefRun {
  std::vector<uint16_t> out;
  std::vector<float> lse;
  std::vector<int32_t> sel;
};

RefRun run_reference(const Host& h, float scale = 0.0f, const spattn_layer_params* lp = nullptr) {
  RefRun r;
  r.out.assign(h.os.elems, 0xffff);  // NaN in both formats: every element must be written
  r.lse.assign(size_t(h.c.batch) * h.c.heads * size_t(h.padded()), std::nanf(""));
  r.sel.assign(size_t(h.c.batch) * h.c.heads * h.part.num_cubes() * size_t(h.kept), -7);
  spattn_vsa_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), h.gate.data(), r.out.data());
  a.softmax_scale = scale;
  a.lse = r.lse.data();
  a.selected_cubes = r.sel.data();
  a.layer_params = lp;
  EXPECT_EQ(spattn_vsa_reference(&a), SPATTN_OK) << spattn_last_error();
  const std::vector<bool> logical = h.out_elements();
  size_t outside = 0;
  for (size_t i = 0; i < r.out.size(); ++i) outside += !logical[i] && r.out[i] != 0xffff;
  EXPECT_EQ(outside, 0u) << "the reference wrote into the output's padding";
  return r;
}

float out_at(const Host& h, const RefRun& r, int b, int64_t tok, int hh, int d) {
  return storage_to_float(r.out[h.oi(b, tok, hh) + size_t(d)], h.c.bf16());
}

void set(Host& h, std::vector<uint16_t>& t, int64_t tok, int d, float x) {
  const size_t i = &t == &h.q ? h.qi(0, tok, 0) : &t == &h.k ? h.ki(0, tok, 0) : h.vi(0, tok, 0);
  t[i + size_t(d)] = float_to_storage(x, h.c.bf16());
}

// One frame of 1 x 4 tokens in 1x1x2 cubes (2 cubes), one head, softmax
// scale 1, sparsity 0.5 (one cube kept). Only dimensions 0 and 1 are nonzero:
//   q: every token of cube 0 is e0, of cube 1 is e1   -> q means e0, e1
//   k: tokens 2 e0, 0 | 3 e1, 1 e1                     -> k means e0, 2 e1
//   v: (1, 0), (3, 0) | (0, 2), (0, 4)                 -> v means (2, 0), (0, 3)
// Scores: cube 0 vs (k0, k1) = (1, 0): keeps 0; cube 1: (0, 2): keeps 1.
// Coarse, cube 0: softmax(1, 0) = (p, 1 - p), p = e / (e + 1), output
// (2p, 3(1 - p)); cube 1: softmax(0, 2) = (r, 1 - r), r = 1 / (1 + e^2),
// output (2r, 3(1 - r)). Fine, token 0 (q = e0) over keys 2 e0, 0: weights
// (w, 1 - w), w = e^2 / (e^2 + 1): (w + 3(1 - w), 0), LSE log(e^2 + 1); token
// 2 (q = e1) over 3 e1, 1 e1: logits 3, 1: (0, 2a + 4(1 - a)), a = e^3 /
// (e^3 + e), LSE log(e^3 + e); tokens 1 and 3 as tokens 0 and 2. gate 1
// (NULL).
TEST(VsaReference, HandComputedTwoCubes) {
  Case c = make_case("two_cubes", FP, 64, 1, 1, 1, {1, 1, 4}, {1, 1, 2}, 0.5, false);
  Host h = make_host(c, 1);
  std::fill(h.q.begin(), h.q.end(), 0);
  std::fill(h.k.begin(), h.k.end(), 0);
  std::fill(h.v.begin(), h.v.end(), 0);
  for (int t = 0; t < 2; ++t) set(h, h.q, t, 0, 1.0f);
  for (int t = 2; t < 4; ++t) set(h, h.q, t, 1, 1.0f);
  set(h, h.k, 0, 0, 2.0f);
  set(h, h.k, 2, 1, 3.0f);
  set(h, h.k, 3, 1, 1.0f);
  set(h, h.v, 0, 0, 1.0f);
  set(h, h.v, 1, 0, 3.0f);
  set(h, h.v, 2, 1, 2.0f);
  set(h, h.v, 3, 1, 4.0f);
  const RefRun r = run_reference(h, 1.0f);
  EXPECT_EQ(r.sel, (std::vector<int32_t>{0, 1}));
  const double e = std::exp(1.0), p = e / (e + 1), rr = 1 / (1 + e * e);
  const double w = e * e / (e * e + 1), a = std::exp(3.0) / (std::exp(3.0) + e);
  // fp16: the coarse output is rounded, then out = coarse + fine rounded.
  auto r16 = [](double x) { return double(storage_to_float(float_to_storage(float(x), false), false)); };
  const double tol = 1.0 / 1024;  // one fp16 ulp at values in [1, 2), half an ulp at [2, 4)
  for (int t = 0; t < 2; ++t) {  // both tokens of cube 0 have q = e0
    EXPECT_NEAR(out_at(h, r, 0, t, 0, 0), r16(2 * p) + w + 3 * (1 - w), 2 * tol) << t;
    EXPECT_NEAR(out_at(h, r, 0, t, 0, 1), r16(3 * (1 - p)), tol) << t;
    EXPECT_NEAR(r.lse[size_t(t)], std::log(e * e + 1), 1e-6) << t;
  }
  for (int t = 2; t < 4; ++t) {  // both tokens of cube 1 have q = e1
    EXPECT_NEAR(out_at(h, r, 0, t, 0, 0), r16(2 * rr), tol) << t;
    EXPECT_NEAR(out_at(h, r, 0, t, 0, 1), r16(3 * (1 - rr)) + 2 * a + 4 * (1 - a), 4 * tol) << t;
    EXPECT_NEAR(r.lse[size_t(t)], std::log(std::exp(3.0) + e), 1e-6) << t;
  }
  for (int t = 0; t < 4; ++t)
    for (int d = 2; d < 64; ++d) EXPECT_EQ(out_at(h, r, 0, t, 0, d), 0.0f);
}

// Ties in the selection go to the lower cube index. One frame of 1 x 8
// tokens, 1x1x2 cubes (4 cubes), sparsity 0.5 (2 kept); q means e0 for every
// cube; key cube j's tokens are s_j e0, so score(i, j) = s_j exactly.
TEST(VsaReference, TiesGoToTheLowerCubeIndex) {
  struct Row {
    float s[4];
    std::vector<int32_t> kept;
  };
  const Row rows[] = {
      {{1, 1, 1, 1}, {0, 1}},  // all equal: the two lowest
      {{1, 3, 3, 2}, {1, 2}},
      {{3, 1, 3, 3}, {0, 2}},  // three tied for first: the two lowest of them
      {{0, -2, 5, 0}, {0, 2}}, // 0 and 0 tied for second
      {{2, 2, 7, 2}, {0, 2}},
  };
  for (const Row& row : rows) {
    Case c = make_case("ties", BF, 64, 1, 1, 1, {1, 1, 8}, {1, 1, 2}, 0.5, false);
    Host h = make_host(c, 2);
    std::fill(h.q.begin(), h.q.end(), 0);
    std::fill(h.k.begin(), h.k.end(), 0);
    for (int t = 0; t < 8; ++t) {
      set(h, h.q, t, 0, 1.0f);
      set(h, h.k, t, 0, row.s[t / 2]);
    }
    const RefRun r = run_reference(h);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(std::vector<int32_t>(r.sel.begin() + 2 * i, r.sel.begin() + 2 * i + 2), row.kept)
          << "query cube " << i << ", scores " << row.s[0] << " " << row.s[1] << " " << row.s[2] << " " << row.s[3];
    }
  }
}

// Ragged cubes: the means divide by the valid count (a cube of 1 token has
// that token as its mean), pad slots are never read (NaN poison changes
// nothing), pad rows of out are 0 and their LSE -inf.
TEST(VsaReference, RaggedCubesNeverReadPads) {
  Case c = make_case("ragged", BF, 64, 1, 2, 1, {3, 5, 3}, {2, 2, 2}, 0.5);
  const Host clean = make_host(c, 7);
  const Host poisoned = make_host(c, 7, 1.0f, 0x7fc0);  // NaN pads
  const RefRun a = run_reference(clean), b = run_reference(poisoned);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.sel, b.sel);
  size_t pads = 0;
  for (int64_t t = 0; t < clean.padded(); ++t)
    for (int hh = 0; hh < c.heads; ++hh) {
      const bool valid = clean.valid_slot(t);
      const float lse = b.lse[size_t(hh) * size_t(clean.padded()) + size_t(t)];
      if (valid) {
        EXPECT_TRUE(std::isfinite(lse)) << t;
      } else {
        ++pads;
        EXPECT_TRUE(std::isinf(lse) && lse < 0) << t;
      }
      for (int d = 0; d < c.dim; ++d) {
        const float x = out_at(poisoned, b, 0, t, hh, d);
        if (valid) EXPECT_TRUE(std::isfinite(x)) << t;
        else EXPECT_EQ(x, 0.0f) << "pad slot " << t;
      }
    }
  EXPECT_GT(pads, 0u);
  // Cube 11 (the last: frame cube 1, row cube 2, column cube 1) holds the one
  // token (2, 4, 2); its query mean is that token's q, so its coarse logits
  // are those of that q.
  const Model m = model_scores(clean);
  const int last = clean.part.num_cubes() - 1;
  ASSERT_EQ(clean.part.tokens[size_t(last)].size(), 1u);
  for (int d = 0; d < c.dim; ++d)
    EXPECT_EQ(m.qm[m.qmi(0, 0, last) + size_t(d)], storage_to_float(clean.q[clean.qi(0, int64_t(last) * 8, 0) + size_t(d)], true));
}

// ---------------------------------------------------------------------------
// Against the float64 model on random problems.

class VsaReferenceModel : public ::testing::TestWithParam<Case> {};

// Tolerance of the reference against the model, per element: the output is
// rounded once (half an ulp, u = 2^-8 bf16 / 2^-11 fp16, relative), the
// coarse output is rounded to the dtype on both sides from doubles that
// may straddle a rounding boundary (one ulp, 2u, of coarse * gate), and a
// cube mean may round to the other neighbour (float32 sums; it moves the
// coarse output by about 2u of its size): 4u (|out| + |coarse * gate|).
TEST_P(VsaReferenceModel, MatchesFloat64) {
  const Case& c = GetParam();
  const Host h = make_host(c, 11u + unsigned(c.dim), 2.0f);
  const RefRun r = run_reference(h);
  Model m = model_scores(h);
  std::string why;
  EXPECT_EQ(check_selection(h, m, r.sel, &why), 0u) << why;
  model_output(h, m, r.sel);
  const double u = c.bf16() ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
  size_t bad = 0;
  double worst = 0.0;
  for (int b = 0; b < c.batch; ++b)
    for (int64_t t = 0; t < h.padded(); ++t)
      for (int hh = 0; hh < c.heads; ++hh)
        for (int d = 0; d < c.dim; ++d) {
          const float got = out_at(h, r, b, t, hh, d);
          const size_t o = out_index(h, b, t, hh, d);
          const double tol = 4 * u * (std::fabs(m.out[o]) + m.cg[o]) + 1e-30;
          const double err = std::fabs(double(got) - m.out[o]) / tol;
          worst = std::max(worst, err);
          if (!(err <= 1.0) && bad++ < 5) ADD_FAILURE() << "b " << b << " token " << t << " head " << hh << " dim " << d
                                                        << ": " << got << " vs " << m.out[o];
        }
  EXPECT_EQ(bad, 0u) << "worst error / tolerance " << worst;
  for (size_t i = 0; i < m.lse.size(); ++i) {
    if (std::isinf(m.lse[i])) {
      EXPECT_TRUE(std::isinf(r.lse[i]) && r.lse[i] < 0) << i;
    } else {
      EXPECT_NEAR(r.lse[i], m.lse[i], 1e-5 * (1 + std::fabs(m.lse[i]))) << i;
    }
  }
  // Not vacuous: with sparsity > 0 some query cube drops a key cube that
  // dense attention would use.
  if (c.sparsity > 0) EXPECT_LT(h.kept, h.part.num_cubes());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, VsaReferenceModel,
    ::testing::Values(make_case("cubes444_bf16_d64", BF, 64, 1, 2, 2, {5, 6, 7}, {4, 4, 4}, 0.5),
                      make_case("cubes222_fp16_d128_gqa", FP, 128, 2, 4, 2, {3, 5, 4}, {2, 2, 2}, 0.75),
                      make_case("dense_sparsity0_bf16", BF, 64, 1, 2, 1, {2, 3, 5}, {1, 2, 2}, 0.0, false),
                      make_case("sparsity09_fp16_bhsd", FP, 64, 1, 3, 3, {4, 4, 9}, {2, 2, 2}, 0.9, true, true),
                      make_case("one_frame_bf16_d128", BF, 128, 1, 2, 2, {1, 7, 9}, {1, 4, 4}, 0.6)),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// Sparsity and cube shape from layer_params replace the args' fields.
TEST(VsaReference, LayerParamsSupplySparsityAndCubes) {
  Case c = make_case("lp", BF, 64, 1, 2, 2, {3, 4, 5}, {2, 2, 2}, 0.75);
  const Host h = make_host(c, 5);
  const RefRun direct = run_reference(h);
  Host other = h;  // same data, wrong args fields that layer_params overrides
  other.c.cube[0] = 1;
  other.c.sparsity = 0.1;
  spattn_layer_params lp{};
  lp.struct_size = sizeof(lp);
  lp.vsa_sparsity = 0.75;
  lp.vsa_cube_shape[0] = lp.vsa_cube_shape[1] = lp.vsa_cube_shape[2] = 2;
  const RefRun via = run_reference(other, 0.0f, &lp);
  EXPECT_EQ(via.out, direct.out);
  EXPECT_EQ(via.sel, direct.sel);
}

// ---------------------------------------------------------------------------
// Argument checks.

struct Bad {
  Case c = make_case("bad", BF, 64, 1, 2, 2, {2, 4, 4}, {2, 2, 2}, 0.5);
  Host h = make_host(c, 1);
  std::vector<uint16_t> out = std::vector<uint16_t>(h.os.elems);
  spattn_layer_params lp{};
  spattn_vsa_args args = make_args(h, h.q.data(), h.k.data(), h.v.data(), h.gate.data(), out.data());
};

struct BadCase {
  const char* name;
  void (*mutate)(Bad&);
  spattn_status status;
  const char* message;
};

const BadCase kBadCases[] = {
    {"struct_size", [](Bad& b) { b.args.struct_size = 16; }, SPATTN_ERR_INVALID_ARGUMENT,
     "spattn_vsa_args.struct_size is 16"},
    {"dtype", [](Bad& b) { b.args.dtype = spattn_dtype(9); }, SPATTN_ERR_INVALID_ARGUMENT, "args.dtype is 9"},
    {"batch", [](Bad& b) { b.args.batch = 0; }, SPATTN_ERR_INVALID_ARGUMENT, "args.batch is 0; must be > 0"},
    {"heads", [](Bad& b) { b.args.num_heads = -2; }, SPATTN_ERR_INVALID_ARGUMENT, "args.num_heads is -2"},
    {"kv heads", [](Bad& b) { b.args.num_kv_heads = 0; }, SPATTN_ERR_INVALID_ARGUMENT, "args.num_kv_heads is 0"},
    {"gqa", [](Bad& b) { b.args.num_kv_heads = 3; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.num_heads (2) is not a multiple of args.num_kv_heads (3)"},
    {"head_dim", [](Bad& b) { b.args.head_dim = 96; }, SPATTN_ERR_UNSUPPORTED, "args.head_dim is 96; supported: 64, 128"},
    {"grid", [](Bad& b) { b.args.grid[1] = 0; }, SPATTN_ERR_INVALID_ARGUMENT, "args.grid[1] (height) is 0; must be > 0"},
    {"cube", [](Bad& b) { b.args.cube_shape[2] = -4; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.cube_shape[2] (width) is -4; must be > 0"},
    {"too many tokens", [](Bad& b) { b.args.grid[0] = b.args.grid[1] = b.args.grid[2] = 2000; },
     SPATTN_ERR_INVALID_ARGUMENT, "has more than 2^31 - 1 tokens"},
    {"sparsity 1", [](Bad& b) { b.args.sparsity = 1.0; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.sparsity is 1.000000; must be in [0, 1)"},
    {"sparsity nan", [](Bad& b) { b.args.sparsity = std::nan(""); }, SPATTN_ERR_INVALID_ARGUMENT, "args.sparsity is"},
    {"sparsity negative", [](Bad& b) { b.args.sparsity = -0.1; }, SPATTN_ERR_INVALID_ARGUMENT, "args.sparsity is -0.1"},
    {"layer_params size",  // the 0.1 layout: valid, but without the VSA fields
     [](Bad& b) {
       b.lp.struct_size = 88;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->struct_size is 88; a VSA layer needs at least"},
    {"layer_params too small",
     [](Bad& b) {
       b.lp.struct_size = 40;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "spattn_layer_params.struct_size is 40, expected at least 88"},
    {"layer_params not vsa",
     [](Bad& b) {
       b.lp.struct_size = sizeof(b.lp);
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params has no VSA parameters"},
    {"layer_params cube",
     [](Bad& b) {
       b.lp.struct_size = sizeof(b.lp);
       b.lp.vsa_cube_shape[0] = 4;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->vsa_cube_shape[1] (height) is 0"},
    {"layer_params sparsity",
     [](Bad& b) {
       b.lp.struct_size = sizeof(b.lp);
       b.lp.vsa_cube_shape[0] = b.lp.vsa_cube_shape[1] = b.lp.vsa_cube_shape[2] = 4;
       b.lp.vsa_sparsity = 2.0;
       b.args.layer_params = &b.lp;
     },
     SPATTN_ERR_INVALID_ARGUMENT, "args.layer_params->vsa_sparsity is 2.000000"},
    {"q", [](Bad& b) { b.args.q = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.q is NULL"},
    {"k", [](Bad& b) { b.args.k = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.k is NULL"},
    {"v", [](Bad& b) { b.args.v = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.v is NULL"},
    {"out", [](Bad& b) { b.args.out = nullptr; }, SPATTN_ERR_INVALID_ARGUMENT, "args.out is NULL"},
    {"stride", [](Bad& b) { b.args.v_strides[2] = -1; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.v_strides[2] (head stride) is -1"},
    {"gate stride", [](Bad& b) { b.args.gate_strides[0] = -8; }, SPATTN_ERR_INVALID_ARGUMENT,
     "args.gate_strides[0] (batch stride) is -8"},
    {"scale", [](Bad& b) { b.args.softmax_scale = -1.0f; }, SPATTN_ERR_INVALID_ARGUMENT, "args.softmax_scale is -1"},
};

class VsaArgs : public ::testing::TestWithParam<BadCase> {};

TEST_P(VsaArgs, RejectedByReferenceAndForward) {
  const BadCase& c = GetParam();
  for (int api = 0; api < 2; ++api) {
    Bad b;
    c.mutate(b);
    const char* function = api == 0 ? "spattn_vsa_reference" : "spattn_vsa_forward";
    const spattn_status st = api == 0 ? spattn_vsa_reference(&b.args) : spattn_vsa_forward(&b.args, nullptr);
    EXPECT_EQ(st, c.status) << function << ": " << spattn_last_error();
    const std::string msg = spattn_last_error();
    EXPECT_NE(msg.find(c.message), std::string::npos) << function << ": " << msg;
    EXPECT_NE(msg.find(function), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, VsaArgs, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           std::string n = info.param.name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(VsaArgs, NullPointersAndOutputStructs) {
  EXPECT_EQ(spattn_vsa_reference(nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_vsa_reference: args is NULL"), std::string::npos);
  EXPECT_EQ(spattn_vsa_forward(nullptr, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_vsa_relayout(nullptr, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(spattn_vsa_relayout_reference(nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  spattn_vsa_args a = shape_args({4, 4, 4}, {4, 4, 4}, 0.5);
  EXPECT_EQ(spattn_vsa_workspace_size(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_vsa_workspace_size: out_size is NULL"), std::string::npos);
  EXPECT_EQ(spattn_vsa_get_geometry(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  spattn_vsa_geometry g{};
  g.struct_size = 4;
  EXPECT_EQ(spattn_vsa_get_geometry(&a, &g), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_vsa_geometry.struct_size is 4"), std::string::npos);
  EXPECT_EQ(g.num_cubes, 0) << "output written on failure";
}

// The workspace: means, coarse output, scores, selection, each piece
// 256-byte aligned; the shape checks apply, the pointers are not read.
TEST(VsaArgs, WorkspaceSize) {
  spattn_vsa_args a = shape_args({21, 45, 80}, {4, 4, 4}, 0.9);
  a.num_heads = 40;
  a.num_kv_heads = 40;
  a.head_dim = 128;
  size_t n = 0;
  ASSERT_EQ(spattn_vsa_workspace_size(&a, &n), SPATTN_OK) << spattn_last_error();
  const size_t means = 1440ull * 40 * 128 * 2, scores = 40ull * 1440 * 1440 * 4, sel = 40ull * 1440 * 144 * 4;
  EXPECT_EQ(n, 4 * means + scores + sel);  // every piece already a multiple of 256
  a.sparsity = 3.0;
  EXPECT_EQ(spattn_vsa_workspace_size(&a, &n), SPATTN_ERR_INVALID_ARGUMENT);
}

// What only the GPU entry point requires: checked before anything runs, so
// also in a build without CUDA.
TEST(VsaArgs, ForwardOnlyRequirements) {
  Bad b;
  b.args.cube_shape[0] = 4;  // 4 x 2 x 2 = 16 tokens per cube
  EXPECT_EQ(spattn_vsa_forward(&b.args, nullptr), SPATTN_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(spattn_last_error()).find("has 16 tokens; the GPU kernels need 64"), std::string::npos)
      << spattn_last_error();

  Case c = make_case("gpu", BF, 64, 1, 2, 2, {4, 4, 8}, {4, 4, 4}, 0.5);
  Host h = make_host(c, 1);
  std::vector<uint16_t> out(h.os.elems + 8);
  spattn_vsa_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), h.gate.data(), out.data());
  spattn_vsa_args x = a;
  x.out = reinterpret_cast<uint16_t*>(out.data()) + 1;
  EXPECT_EQ(spattn_vsa_forward(&x, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.out is not 16-byte aligned"), std::string::npos);
  x = a;
  x.q_strides[1] = 132;
  EXPECT_EQ(spattn_vsa_forward(&x, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.q_strides[1] is 132"), std::string::npos);
  size_t need = 0;
  ASSERT_EQ(spattn_vsa_workspace_size(&a, &need), SPATTN_OK);
  x = a;
  x.workspace_size = need - 1;
  EXPECT_EQ(spattn_vsa_forward(&x, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.workspace_size is " + std::to_string(need - 1)),
            std::string::npos)
      << spattn_last_error();
  x = a;
  x.workspace_size = need;
  EXPECT_EQ(spattn_vsa_forward(&x, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.workspace is NULL"), std::string::npos);
  // The reference needs none of this.
  EXPECT_EQ(spattn_vsa_reference(&a), SPATTN_OK) << spattn_last_error();
}

TEST(VsaLayout, RejectsBadArguments) {
  std::vector<uint16_t> src(64 * 8), dst(64 * 8);
  const int64_t s[3] = {512, 8, 8};
  const spattn_vsa_layout_args ok =
      layout_args(SPATTN_VSA_TO_CUBES, 1, 1, 8, {4, 4, 4}, {4, 4, 4}, src.data(), dst.data(), s, s);
  struct Row {
    void (*mutate)(spattn_vsa_layout_args&);
    const char* message;
  };
  const Row rows[] = {
      {[](spattn_vsa_layout_args& a) { a.struct_size = 3; }, "spattn_vsa_layout_args.struct_size is 3"},
      {[](spattn_vsa_layout_args& a) { a.direction = spattn_vsa_direction(5); }, "args.direction is 5"},
      {[](spattn_vsa_layout_args& a) { a.dtype = spattn_dtype(0); }, "args.dtype is 0"},
      {[](spattn_vsa_layout_args& a) { a.head_dim = 0; }, "args.head_dim is 0"},
      {[](spattn_vsa_layout_args& a) { a.grid[2] = 0; }, "args.grid[2] (width) is 0"},
      {[](spattn_vsa_layout_args& a) { a.cube_shape[0] = 0; }, "args.cube_shape[0] (frames) is 0"},
      {[](spattn_vsa_layout_args& a) { a.src = nullptr; }, "args.src is NULL"},
      {[](spattn_vsa_layout_args& a) { a.dst_strides[1] = -8; }, "args.dst_strides[1] (token stride) is -8"},
  };
  for (const Row& r : rows) {
    spattn_vsa_layout_args a = ok;
    r.mutate(a);
    EXPECT_EQ(spattn_vsa_relayout_reference(&a), SPATTN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(spattn_last_error()).find(r.message), std::string::npos) << spattn_last_error();
    EXPECT_EQ(spattn_vsa_relayout(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(spattn_last_error()).find(r.message), std::string::npos) << spattn_last_error();
  }
  // The kernel's extra requirements.
  std::vector<uint16_t> src12(64 * 12), dst12(64 * 12);
  const int64_t s12[3] = {64 * 12, 12, 12};
  spattn_vsa_layout_args a =
      layout_args(SPATTN_VSA_TO_CUBES, 1, 1, 12, {4, 4, 4}, {4, 4, 4}, src12.data(), dst12.data(), s12, s12);
  EXPECT_EQ(spattn_vsa_relayout(&a, nullptr), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.head_dim is 12; the kernel moves 16-byte pieces"),
            std::string::npos);
  EXPECT_EQ(spattn_vsa_relayout_reference(&a), SPATTN_OK) << "the reference takes any head_dim";
}

}  // namespace
