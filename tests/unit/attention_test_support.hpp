// Test support for the prefill attention tests (CPU reference and GPU
// kernels), following tests/README.md:
//  - host tensors where Q, K, V and the output each have their own strided
//    layout (kernel_check::LayoutSpec);
//  - input generators, among them skip-sensitive inputs whose skip decisions
//    are far from their boundary and move the output far more than the
//    tolerance;
//  - an INDEPENDENT float64 attention, expected(), with its own re-derivation
//    of the skip rule (as a tile decision map), of N:M sparse softmax and of
//    NVFP4 P rounding (no code shared with src/attention/attention_reference.cpp
//    or src/attention/sparse_softmax.hpp beyond the 16-bit decoders and the
//    decision map's index), and the condition terms of its error bound;
//  - tolerances derived from the arithmetic of the implementation under test
//    (attention_tolerance, lse_tolerance);
//  - the mutations of this family (dense_instead_of_skip, v_with_k_strides,
//    lse_over_all_keys, wrong_softmax_scale), applied by plan_launch();
//  - one check, check_run(), shared by the CPU and the GPU tests and by the
//    tests of the test.
#pragma once

#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "attention/attention_problem.hpp"
#include "attention/attention_reference.hpp"
#include "attention/half_float.hpp"
#include "attention/skip_rule.hpp"
#include "core/error.hpp"
#include "kernel_check.hpp"

namespace attention_test {

using kernel_check::LayoutSpec;
using kernel_check::Order;
using kernel_check::StridedLayout;
using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

// ---------------------------------------------------------------------------
// Shapes and layouts

// The layouts of Q, K, V and the output.
struct Layouts {
  LayoutSpec q, k, v, o;
  const char* name;
};

inline const Layouts kBshd{{Order::BSHD, 0}, {Order::BSHD, 0}, {Order::BSHD, 0}, {Order::BSHD, 0}, "bshd"};
inline const Layouts kBhsd{{Order::BHSD, 0}, {Order::BHSD, 0}, {Order::BHSD, 0}, {Order::BHSD, 0}, "bhsd"};
// Every tensor its own strides: V's differ from K's, and the output's from
// Q's, in every dimension (padding keeps 16-byte rows).
inline const Layouts kMixed{{Order::BSHD, 8}, {Order::BHSD, 16}, {Order::BSHD, 24}, {Order::BHSD, 8}, "mixed"};
inline const Layouts kMixed2{{Order::BHSD, 16}, {Order::BSHD, 8}, {Order::BHSD, 0}, {Order::BSHD, 24}, "mixed2"};

struct Shape {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int batch = 1, heads = 2, kv_heads = 2, dim = 64;
  int lq = 64, lk = 64;
  bool causal = false;
  Layouts layouts = kBshd;
  std::vector<int> q_lens, kv_lens;  // non-empty: packed batch (batch = size)
  bool packed() const { return !q_lens.empty(); }
  bool bf16() const { return dtype == SPATTN_DTYPE_BFLOAT16; }
  int max_lq() const { return packed() ? *std::max_element(q_lens.begin(), q_lens.end()) : lq; }
  int max_lk() const { return packed() ? *std::max_element(kv_lens.begin(), kv_lens.end()) : lk; }
};

// A fixed-length problem.
inline Shape shape(spattn_dtype dt, int dim, int batch, int heads, int kv_heads, int lq, int lk, bool causal,
                   const Layouts& layouts = kBshd) {
  Shape s;
  s.dtype = dt;
  s.dim = dim;
  s.batch = batch;
  s.heads = heads;
  s.kv_heads = kv_heads;
  s.lq = lq;
  s.lk = lk;
  s.causal = causal;
  s.layouts = layouts;
  return s;
}

// A packed batch of q_lens.size() sequences.
inline Shape shape_packed(spattn_dtype dt, int dim, int heads, int kv_heads, std::vector<int> q_lens,
                          std::vector<int> kv_lens, bool causal, const Layouts& layouts = kBshd) {
  Shape s = shape(dt, dim, int(q_lens.size()), heads, kv_heads, 0, 0, causal, layouts);
  s.q_lens = std::move(q_lens);
  s.kv_lens = std::move(kv_lens);
  return s;
}

inline int total(const std::vector<int>& lens) {
  int t = 0;
  for (int l : lens) t += l;
  return t;
}

inline std::vector<int32_t> offsets(const std::vector<int>& lens) {
  std::vector<int32_t> cu(1, 0);
  for (int l : lens) cu.push_back(cu.back() + l);
  return cu;
}

// Inputs in their storage layouts, with the sequence geometry. Packed
// sequences lie along the token axis of batch 0.
struct Host {
  Shape shape;
  int q_batches = 1, q_tokens = 0, kv_tokens = 0;  // storage extents
  StridedLayout ql, kl, vl, ol;
  std::vector<uint16_t> q, k, v;  // v holds at least kl.elems (v_with_k_strides stays in bounds)
  std::vector<int32_t> cu_q, cu_kv;

  size_t out_elems() const { return ol.elems; }

  int seq_lq(int b) const { return shape.packed() ? shape.q_lens[b] : shape.lq; }
  int seq_lk(int b) const { return shape.packed() ? shape.kv_lens[b] : shape.lk; }
  int q_tok0(int b) const { return shape.packed() ? cu_q[b] : 0; }
  int kv_tok0(int b) const { return shape.packed() ? cu_kv[b] : 0; }
  int sb(int b) const { return shape.packed() ? 0 : b; }

  size_t q_index(int b, int tok, int h) const { return ql.offset(sb(b), q_tok0(b) + tok, h); }
  size_t k_index(int b, int tok, int h) const { return kl.offset(sb(b), kv_tok0(b) + tok, h); }
  size_t v_index(int b, int tok, int h) const { return vl.offset(sb(b), kv_tok0(b) + tok, h); }
  size_t o_index(int b, int tok, int h) const { return ol.offset(sb(b), q_tok0(b) + tok, h); }
  float qv(int b, int tok, int h, int d) const { return storage_to_float(q[q_index(b, tok, h) + d], shape.bf16()); }
  float kval(int b, int tok, int h, int d) const { return storage_to_float(k[k_index(b, tok, h) + d], shape.bf16()); }
  float vval(int b, int tok, int h, int d) const { return storage_to_float(v[v_index(b, tok, h) + d], shape.bf16()); }
  // Decoded output element of `out` (a buffer in the output layout).
  float out_at(const std::vector<uint16_t>& out, int b, int tok, int h, int d) const {
    return storage_to_float(out[o_index(b, tok, h) + d], shape.bf16());
  }
};

// Allocates storage for `shape`, zero-filled. Values are set by a generator below.
inline Host make_host(const Shape& s) {
  Host h;
  h.shape = s;
  if (s.packed()) {
    h.q_batches = 1;
    h.q_tokens = total(s.q_lens);
    h.kv_tokens = total(s.kv_lens);
    h.cu_q = offsets(s.q_lens);
    h.cu_kv = offsets(s.kv_lens);
  } else {
    h.q_batches = s.batch;
    h.q_tokens = s.lq;
    h.kv_tokens = s.lk;
  }
  h.ql = kernel_check::make_layout(s.layouts.q, h.q_batches, h.q_tokens, s.heads, s.dim);
  h.kl = kernel_check::make_layout(s.layouts.k, h.q_batches, h.kv_tokens, s.kv_heads, s.dim);
  h.vl = kernel_check::make_layout(s.layouts.v, h.q_batches, h.kv_tokens, s.kv_heads, s.dim);
  h.ol = kernel_check::make_layout(s.layouts.o, h.q_batches, h.q_tokens, s.heads, s.dim);
  h.q.assign(h.ql.elems, 0);
  h.k.assign(h.kl.elems, 0);
  h.v.assign(std::max(h.vl.elems, h.kl.elems), 0);
  return h;
}

// Calls f(b, tok, head, index) for every logical element row of a tensor.
template <class F>
void for_each_q_row(const Host& h, F&& f) {
  for (int b = 0; b < h.shape.batch; ++b)
    for (int t = 0; t < h.seq_lq(b); ++t)
      for (int hh = 0; hh < h.shape.heads; ++hh) f(b, t, hh);
}
template <class F>
void for_each_kv_row(const Host& h, F&& f) {
  for (int b = 0; b < h.shape.batch; ++b)
    for (int t = 0; t < h.seq_lk(b); ++t)
      for (int hh = 0; hh < h.shape.kv_heads; ++hh) f(b, t, hh);
}

// ---------------------------------------------------------------------------
// Input generators

// Plain random inputs: N(0, 1) q, k, v.
inline void fill_random(Host& h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const bool bf = h.shape.bf16();
  const int D = h.shape.dim;
  for_each_q_row(h, [&](int b, int t, int hh) {
    for (int d = 0; d < D; ++d) h.q[h.q_index(b, t, hh) + d] = float_to_storage(n(rng), bf);
  });
  for_each_kv_row(h, [&](int b, int t, int hh) {
    for (int d = 0; d < D; ++d) h.k[h.k_index(b, t, hh) + d] = float_to_storage(n(rng), bf);
    for (int d = 0; d < D; ++d) h.v[h.v_index(b, t, hh) + d] = float_to_storage(n(rng), bf);
  });
}

// Inputs whose logits are exact in float32 whatever the summation order:
// q and k are multiples of 1/4 in [-1.5, 1.5] (products are multiples of 1/16,
// sums stay far below 2^24 sixteenths), so the CPU, the GPU and float64 see
// the same scores, and equal scores (frequent here) are equal everywhere:
// N:M tie-breaking is exercised without near-ties. v is N(0, 1).
inline void fill_grid(Host& h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-6, 6);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const bool bf = h.shape.bf16();
  const int D = h.shape.dim;
  for_each_q_row(h, [&](int b, int t, int hh) {
    for (int d = 0; d < D; ++d) h.q[h.q_index(b, t, hh) + d] = float_to_storage(0.25f * float(pick(rng)), bf);
  });
  for_each_kv_row(h, [&](int b, int t, int hh) {
    for (int d = 0; d < D; ++d) h.k[h.k_index(b, t, hh) + d] = float_to_storage(0.25f * float(pick(rng)), bf);
    for (int d = 0; d < D; ++d) h.v[h.v_index(b, t, hh) + d] = float_to_storage(n(rng), bf);
  });
}

// Skip-sensitive inputs: every skip decision far from its boundary, and the
// skipped tiles carrying a large share of the softmax mass with values unlike
// the rest, so that skipping or not moves the output by far more than the
// tolerance.
//
// Logits are exact in float32 (multiples of 1/16: dimension 0 carries an
// integer c in q and a multiple of 1/4 in k, dimensions 1..8 noise from
// {-1/2, -1/4, 0, 1/4, 1/2}, the rest 0), so |noise| <= 8 * 1/4 * scale. Each
// KV head's key tiles (of SPATTN_SKIP_TILE_KEYS keys) are, at random, "kept"
// tiles with one hot key (logit B = c^2 * scale) or "skip" tiles; every other
// key sits at B + log(lambda) - 1.5 (natural log units, lambda = threshold /
// Lk of the sequence): a skip tile's maximum lies below the running maximum
// (>= the hot key of tile 0) by log(1/lambda) + 1.5, less twice the noise and
// the rounding of k to quarters (< 0.7 together), a kept tile's within twice
// the noise of it. expected() measures the margins; the tests assert them.
// V is N(0, 1), plus 1.5 in the skip tiles. With threshold 0 the other keys
// sit at B - 6.
inline void fill_skip_sensitive(Host& h, uint32_t seed, double threshold, float softmax_scale = 0.0f) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-2, 2);
  std::bernoulli_distribution skip_tile(0.5);
  std::uniform_int_distribution<int> position(0, SPATTN_SKIP_TILE_KEYS - 1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const Shape& s = h.shape;
  const bool bf = s.bf16();
  const double scale = softmax_scale > 0 ? softmax_scale : 1.0 / std::sqrt(double(s.dim));
  const float c = float(std::round(std::sqrt(10.0 / scale)));  // hot logit B = c^2 scale ~ 10
  auto quarter = [](double x) { return float(std::round(4.0 * x) / 4.0); };
  for (int b = 0; b < s.batch; ++b) {
    const int lk = h.seq_lk(b);
    const double level = threshold > 0 ? std::log(threshold / lk) - 1.5 : -6.0;  // other keys, below hot
    const float k_hot = c, k_other = quarter((double(c) * c * scale + level) / (double(c) * scale));
    for (int hh = 0; hh < s.heads; ++hh)
      for (int t = 0; t < h.seq_lq(b); ++t) {
        uint16_t* row = &h.q[h.q_index(b, t, hh)];
        row[0] = float_to_storage(c, bf);
        for (int d = 1; d <= 8; ++d) row[d] = float_to_storage(0.25f * float(noise(rng)), bf);
      }
    for (int hh = 0; hh < s.kv_heads; ++hh) {
      bool skip = false;
      int hot = 0;
      for (int t = 0; t < lk; ++t) {
        if (t % SPATTN_SKIP_TILE_KEYS == 0) {
          skip = t > 0 && skip_tile(rng);
          hot = t == 0 ? 0 : position(rng);
        }
        uint16_t* krow = &h.k[h.k_index(b, t, hh)];
        uint16_t* vrow = &h.v[h.v_index(b, t, hh)];
        krow[0] = float_to_storage(!skip && t % SPATTN_SKIP_TILE_KEYS == hot ? k_hot : k_other, bf);
        for (int d = 1; d <= 8; ++d) krow[d] = float_to_storage(0.25f * float(noise(rng)), bf);
        for (int d = 0; d < s.dim; ++d) vrow[d] = float_to_storage(n(rng) + (skip ? 1.5f : 0.0f), bf);
      }
    }
  }
}

// Peaked inputs with a random heat per tile, for the CPU tests of the skip
// rule's invariants (layout, GQA, packing): q and k share a component along
// dimension 0; the first KV tile of every sequence is "hot", later tiles get
// a heat in {0 (2/6), 0.25, 0.5, 0.75, 1} per tile and head. `boost` is the
// hot logit, in softmax-scaled units. `grid`: the shared component rounded to
// an integer and the noise to multiples of 1/4 in [-2, 2] (exact logits).
inline void fill_peaked(Host& h, uint32_t seed, float boost, bool grid = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n_raw(0.0f, 1.0f);
  std::uniform_int_distribution<int> heat_pick(0, 5);
  const Shape& s = h.shape;
  float c = std::sqrt(boost * std::sqrt(float(s.dim)));  // c*c*scale = boost
  if (grid) c = std::round(c);
  auto n = [&](std::mt19937& g) {
    const float x = n_raw(g);
    return grid ? std::min(4.0f, std::max(-4.0f, std::round(2.0f * x))) * 0.5f : x;  // 0.5 n: quarters
  };
  const bool bf = s.bf16();
  for (int b = 0; b < s.batch; ++b) {
    for (int hh = 0; hh < s.heads; ++hh) {
      for (int t = 0; t < h.seq_lq(b); ++t) {
        uint16_t* row = &h.q[h.q_index(b, t, hh)];
        for (int d = 0; d < s.dim; ++d) row[d] = float_to_storage(0.5f * n(rng), bf);
        row[0] = float_to_storage(c, bf);
      }
    }
    for (int hh = 0; hh < s.kv_heads; ++hh) {
      float heat = 1.0f;
      for (int t = 0; t < h.seq_lk(b); ++t) {
        if (t % SPATTN_SKIP_TILE_KEYS == 0) heat = t == 0 ? 1.0f : 0.25f * float(std::max(0, heat_pick(rng) - 1));
        uint16_t* krow = &h.k[h.k_index(b, t, hh)];
        uint16_t* vrow = &h.v[h.v_index(b, t, hh)];
        for (int d = 0; d < s.dim; ++d) {
          krow[d] = float_to_storage(0.5f * n(rng), bf);
          vrow[d] = float_to_storage(n(rng), bf);
        }
        krow[0] = float_to_storage(c * heat, bf);
      }
    }
  }
}

// Copies the logical values of `from` into `to` (same shape, other layouts).
inline void copy_values(const Host& from, Host& to) {
  const int D = from.shape.dim;
  for_each_q_row(from, [&](int b, int t, int hh) {
    std::copy_n(&from.q[from.q_index(b, t, hh)], D, &to.q[to.q_index(b, t, hh)]);
  });
  for_each_kv_row(from, [&](int b, int t, int hh) {
    std::copy_n(&from.k[from.k_index(b, t, hh)], D, &to.k[to.k_index(b, t, hh)]);
    std::copy_n(&from.v[from.v_index(b, t, hh)], D, &to.v[to.v_index(b, t, hh)]);
  });
}

// The Model Optimizer extras (spattn_layer_params fields) for expected().
struct Extras {
  int n = 0, m = 0;        // N:M sparse softmax, 0/0: off
  int sinks = 0, window = 0;
  bool quantize_p = false;  // NVFP4 P
  bool any() const { return m > 0 || quantize_p; }
};

inline Extras make_extras(int n, int m, int sinks = 0, int window = 0, bool quantize_p = false) {
  Extras x;
  x.n = n;
  x.m = m;
  x.sinks = sinks;
  x.window = window;
  x.quantize_p = quantize_p;
  return x;
}

inline Extras quantize_only() { return make_extras(0, 0, 0, 0, true); }

// How a case's inputs are drawn (the fill_* functions above).
enum class Fill { Grid, Random, SkipSensitive };

inline void fill(Host& h, Fill f, uint32_t seed, double threshold = 0.0, float softmax_scale = 0.0f) {
  if (f == Fill::Grid) fill_grid(h, seed);
  if (f == Fill::Random) fill_random(h, seed);
  if (f == Fill::SkipSensitive) fill_skip_sensitive(h, seed, threshold, softmax_scale);
}

// A random problem with the Model Optimizer extras, for the CPU and GPU tests.
struct ExtrasCase {
  const char* name;
  Shape shape;
  Extras x;
  double threshold;
  Fill fill;
};
KERNEL_CHECK_PRINT_BY_NAME(ExtrasCase)

// ---------------------------------------------------------------------------
// FP8 E4M3 and E2M1 grids for the NVFP4 P model

// Every finite non-negative FP8 E4M3 ("fn") value, ascending, with whether
// its 3-bit mantissa is even: subnormals m * 2^-9, then (1 + m/8) * 2^(e-7)
// for e = 1..15, up to 448 (e = 15, m = 7 is NaN).
struct GridValue {
  double value;
  bool even;
};
inline const std::vector<GridValue>& e4m3_grid() {
  static const std::vector<GridValue> grid = [] {
    std::vector<GridValue> g;
    for (int m = 0; m < 8; ++m) g.push_back({m * std::ldexp(1.0, -9), m % 2 == 0});
    for (int e = 1; e <= 15; ++e)
      for (int m = 0; m < 8; ++m)
        if (!(e == 15 && m == 7)) g.push_back({(1.0 + m / 8.0) * std::ldexp(1.0, e - 7), m % 2 == 0});
    return g;
  }();
  return grid;
}
inline const std::vector<GridValue>& e2m1_grid() {
  static const std::vector<GridValue> grid = {{0.0, true}, {0.5, false}, {1.0, true}, {1.5, false},
                                              {2.0, true}, {3.0, false}, {4.0, true}, {6.0, false}};
  return grid;
}

// Round x >= 0 to the nearest grid value, ties to the even one, saturating
// at the largest. `near_tie` is set when x lies within relative `margin` of a
// midpoint between two grid values (a rounding another implementation, with
// slightly different inputs, may take the other way); `near_step` is then
// the distance between those two values.
inline double round_to_grid(const std::vector<GridValue>& grid, double x, double margin = 0.0,
                            bool* near_tie = nullptr, double* near_step = nullptr) {
  if (near_tie) *near_tie = false;
  for (size_t i = 0; near_tie && i + 1 < grid.size(); ++i) {
    const double lo = grid[i].value, hi = grid[i + 1].value, mid = 0.5 * (lo + hi);
    if (std::fabs(x - mid) <= margin * mid) {
      *near_tie = true;
      if (near_step) *near_step = hi - lo;
    }
  }
  if (x >= grid.back().value) return grid.back().value;
  for (size_t i = 0; i + 1 < grid.size(); ++i) {
    const double lo = grid[i].value, hi = grid[i + 1].value, mid = 0.5 * (lo + hi);
    if (x > hi) continue;
    if (x < mid) return lo;
    if (x > mid) return hi;
    return grid[i].even ? lo : hi;
  }
  return grid.back().value;
}

// ---------------------------------------------------------------------------
// The float64 model

// Result of the independent float64 computation, with the condition terms
// of the error bounds (attention_tolerance, lse_tolerance).
struct Expected {
  int lq_max = 0;
  std::vector<double> out;      // [b][tok][h][dim], layout-free
  std::vector<double> abs_out;  // per element: A = sum_j w_j |v_j| / Z over the kept keys
  std::vector<double> p_round;  // per element: sum_j |v_j| r(w_j) / Z, r = P's rounding to storage
  std::vector<double> lse;      // [b][h][tok], -inf for a row that kept nothing
  // Per row [b][h][tok]:
  std::vector<double> logit_err;  // bound on a logit's error (natural units) in the kernel's fp32 arithmetic
  std::vector<double> dot_abs;    // max_j sum_d |q_d k_jd| (raw), the dot products' condition term
  std::vector<int> kept_keys;     // unmasked keys of kept tiles (N:M survivors)
  std::vector<int> kept_tiles;
  std::vector<double> skipped_mass;  // what the dense softmax put on skipped keys (before N:M)
  std::vector<double> max_skipped_weight;  // max over skipped keys of exp(L_j - row max); < lambda by the rule
  // How far the output may move because a rounding or N:M decision of the
  // row lies within float32 noise of its boundary (0 for almost every row).
  std::vector<double> slack;
  // Tile decisions in the kernels' map layout (tile_decision_index), and
  // the smallest distance of any decision from its boundary divided by the
  // float32 noise of that decision (> 1: every implementation decides alike).
  std::vector<uint8_t> decisions;
  double decision_margin = std::numeric_limits<double>::infinity();
  unsigned long long visited = 0, skipped = 0;
  double max_abs_v = 0.0;

  size_t index(const Host& h, int b, int tok, int hh) const {
    return ((size_t(b) * lq_max + tok) * h.shape.heads + hh) * h.shape.dim;
  }
  size_t row(const Host& h, int b, int tok, int hh) const { return (size_t(b) * h.shape.heads + hh) * lq_max + tok; }
};

inline size_t decision_map_size(const Host& h) {
  const size_t q_tiles = size_t(h.shape.max_lq() + SPATTN_SKIP_TILE_QUERIES - 1) / SPATTN_SKIP_TILE_QUERIES;
  const size_t kv_tiles = size_t(h.shape.max_lk() + SPATTN_SKIP_TILE_KEYS - 1) / SPATTN_SKIP_TILE_KEYS;
  return size_t(h.shape.batch) * h.shape.heads * q_tiles * kv_tiles;
}

inline size_t decision_index(const Host& h, int b, int hh, int q_tile, int kv_tile) {
  return size_t(spattn::attention::tile_decision_index(b, hh, q_tile, kv_tile, h.shape.heads, h.shape.max_lq(),
                                                       h.shape.max_lk()));
}

// One output row of expected(): `Li` the row's scaled logits (-inf where
// masked), `kept` its per-key tile decisions, `err` the row's logit error
// bound (the margins of N:M and rounding decisions follow from it).
//  - N:M on the full row: groups of m keys from key 0; in each, a key is kept
//    when fewer than n others beat it (larger, or equal at a lower index), or
//    when it is a sink (j < sinks) or in the window (diag - window < j <= diag,
//    diag = i + Lk - Lq).
//  - out = sum_j w_j v_j / Z, Z = sum_j exp(L_j - mx) over the kept keys; w_j =
//    exp(L_j - mx) dense, or with NVFP4 P, per kept 128-key tile t with the
//    running maximum m_t (max over kept tiles <= t): w_j = Q(exp(L_j - m_t)) *
//    exp(m_t - mx), Q rounding blocks of 16 keys: block scale E4M3(448 *
//    block max) / 2688, values E2M1(p / scale) * scale (round_to_grid).
//  - slack: for each decision within its margin, the most the output can
//    move if it went the other way. N:M compares raw logits, each off by at
//    most err: a pair closer than 2 err may swap. A rounding input p / scale
//    is off by at most 2 err (p and the block maximum it is relative to) plus
//    the exp2 approximation and a few float32 operations.
inline void row_result(const Host& h, Expected& e, const Extras& x, int b, int hh, int i, int lk, int lq,
                       const double* Li, const char* kept, const std::vector<double>& V, double err) {
  const int D = h.shape.dim, T = SPATTN_SKIP_TILE_KEYS;
  const double nm_margin = 2.0 * err;
  const double round_margin = 2.0 * err + kernel_check::kEx2ApproxRel + 4.0 * kernel_check::kFp32Unit;
  std::vector<char> use(static_cast<size_t>(lk));  // kept tile, not masked, not pruned
  for (int j = 0; j < lk; ++j) use[size_t(j)] = kept[j] && Li[j] != -INFINITY;
  std::vector<std::pair<int, int>> near;  // N:M pairs within the margin
  if (x.m > 0) {
    const long diag = long(i) + lk - lq;
    for (int g0 = 0; g0 < lk; g0 += x.m) {
      const int g1 = std::min(lk, g0 + x.m);
      for (int j = g0; j < g1; ++j) {
        int beaten_by = 0;
        for (int k = g0; k < g1; ++k) beaten_by += Li[k] > Li[j] || (Li[k] == Li[j] && k < j);
        const bool dense = j < x.sinks || (j <= diag && diag - j < x.window);
        if (!dense && beaten_by >= x.n) use[size_t(j)] = 0;
      }
      for (int j = g0; j < g1; ++j)
        for (int k = j + 1; k < g1; ++k) {
          const double gap = std::fabs(Li[j] - Li[k]);
          if (std::isfinite(gap) && gap > 0 && gap <= nm_margin) near.emplace_back(j, k);
        }
    }
  }
  double mx = -INFINITY;
  int n_keys = 0, n_tiles = 0;
  for (int j = 0; j < lk; ++j)
    if (use[size_t(j)]) mx = std::max(mx, Li[j]), ++n_keys;
  for (int k0 = 0; k0 < lk; k0 += T) n_tiles += kept[k0] ? 1 : 0;
  const size_t o = e.index(h, b, i, hh), row = e.row(h, b, i, hh);
  e.kept_keys[row] = n_keys;
  e.kept_tiles[row] = n_tiles;
  if (mx == -INFINITY) return;  // nothing kept: zero output, lse -inf (preset)
  double z = 0;
  std::vector<double> w(static_cast<size_t>(lk), 0.0);
  for (int j = 0; j < lk; ++j)
    if (use[size_t(j)]) z += w[size_t(j)] = std::exp(Li[j] - mx);
  // Slack, in units of w: each near decision may move weights by this much.
  // An N:M swap trades one key of the pair for the other (rounded weights
  // are within ~1.1x of p, hence the factor 2); an E2M1 value near a midpoint
  // may move one step (times the scale); an E4M3 block scale near a midpoint
  // may move one step, which moves each of the block's values by at most
  // about two scales.
  double slack_w = 0;
  for (const auto& pr : near) slack_w += 2.0 * (std::exp(Li[pr.first] - mx) + std::exp(Li[pr.second] - mx));
  if (x.quantize_p) {
    double m_t = -INFINITY;
    for (int k0 = 0; k0 < lk; k0 += T) {
      const int k1 = std::min(lk, k0 + T);
      double tmax = -INFINITY;
      for (int j = k0; j < k1; ++j)
        if (use[size_t(j)]) tmax = std::max(tmax, Li[j]);
      if (tmax == -INFINITY) continue;  // skipped, or nothing kept here: m unchanged
      m_t = std::max(m_t, tmax);
      const double rescale = std::exp(m_t - mx);
      for (int b0 = k0; b0 < k1; b0 += 16) {
        const int b1 = std::min(k1, b0 + 16);
        double amax = 0;
        int nonzero = 0;
        for (int j = b0; j < b1; ++j)
          if (use[size_t(j)]) amax = std::max(amax, std::exp(Li[j] - m_t)), ++nonzero;
        bool tie = false;
        double step = 0;
        const double scale = round_to_grid(e4m3_grid(), 448.0 * amax, round_margin, &tie) / 2688.0;
        if (tie) slack_w += rescale * nonzero * 2.5 * (amax / 6.0 + 1.0 / 512 / 2688);
        for (int j = b0; j < b1; ++j) {
          if (!use[size_t(j)]) continue;
          double q = 0;
          if (scale > 0) {
            q = scale * round_to_grid(e2m1_grid(), std::exp(Li[j] - m_t) / scale, round_margin, &tie, &step);
            if (tie) slack_w += rescale * step * scale;
          }
          w[size_t(j)] = q * rescale;
        }
      }
    }
  }
  // P's rounding to the storage format before P.V: relative u, or, in fp16's
  // subnormal range (w < 2^-14; the kernel's p, relative to a running maximum
  // <= mx, is >= w), an absolute half step.
  const kernel_check::StorageFormat fmt = kernel_check::storage_format(h.shape.dtype);
  auto round_err = [&](double wj) {
    return std::max(fmt.unit * wj, wj < 0x1p-14 && wj > 0 ? fmt.abs_floor : 0.0);
  };
  std::vector<double> acc(size_t(D), 0.0), acc_abs(size_t(D), 0.0), acc_round(size_t(D), 0.0);
  for (int j = 0; j < lk; ++j) {
    if (w[size_t(j)] == 0) continue;
    const double* vj = &V[size_t(j) * D];
    const double r = round_err(w[size_t(j)]);
    for (int d = 0; d < D; ++d) {
      acc[d] += w[size_t(j)] * vj[d];
      acc_abs[d] += w[size_t(j)] * std::fabs(vj[d]);
      acc_round[d] += r * std::fabs(vj[d]);
    }
  }
  for (int d = 0; d < D; ++d) {
    e.out[o + d] = acc[d] / z;
    e.abs_out[o + d] = acc_abs[d] / z;
    e.p_round[o + d] = acc_round[d] / z;
  }
  e.lse[row] = mx + std::log(z);
  e.slack[row] = slack_w * 2.0 * e.max_abs_v / z;  // |v_j - out| <= 2 max|v|
}

// Float64 attention of `h`. With threshold > 0 the skip rule is re-derived
// here in float64 (exp(rowmax - m_running) < threshold / Lk on 128 x 128
// tiles, first KV tile never skipped) and `out` holds the attention over the
// kept tiles only; `skipped_mass` is what the dense softmax put on skipped
// keys (without N:M pruning). `x`: N:M sparse softmax and NVFP4 P (row_result).
inline Expected expected(const Host& h, float softmax_scale, double threshold, const Extras& x = {}) {
  const Shape& s = h.shape;
  Expected e;
  for (int b = 0; b < s.batch; ++b) e.lq_max = std::max(e.lq_max, h.seq_lq(b));
  const size_t rows = size_t(s.batch) * s.heads * e.lq_max;
  e.out.assign(rows * s.dim, 0.0);
  e.abs_out.assign(rows * s.dim, 0.0);
  e.p_round.assign(rows * s.dim, 0.0);
  e.lse.assign(rows, -std::numeric_limits<double>::infinity());
  e.logit_err.assign(rows, 0.0);
  e.dot_abs.assign(rows, 0.0);
  e.kept_keys.assign(rows, 0);
  e.kept_tiles.assign(rows, 0);
  e.skipped_mass.assign(rows, 0.0);
  e.max_skipped_weight.assign(rows, 0.0);
  e.slack.assign(rows, 0.0);
  e.decisions.assign(decision_map_size(h), spattn::attention::kTileNotVisited);
  const double scale = softmax_scale > 0 ? softmax_scale : 1.0 / std::sqrt(double(s.dim));
  const int group = s.heads / s.kv_heads;
  const int T = SPATTN_SKIP_TILE_KEYS, TQ = SPATTN_SKIP_TILE_QUERIES;
  const double u32 = kernel_check::kFp32Unit;
  for_each_kv_row(h, [&](int b, int t, int hh) {
    for (int d = 0; d < s.dim; ++d) e.max_abs_v = std::max(e.max_abs_v, std::fabs(double(h.vval(b, t, hh, d))));
  });
  for (int b = 0; b < s.batch; ++b) {
    const int lq = h.seq_lq(b), lk = h.seq_lk(b);
    const double log_lambda = threshold > 0 ? std::log(threshold / lk) : -INFINITY;
    for (int hh = 0; hh < s.heads; ++hh) {
      const int kh = hh / group;
      const int D = s.dim;
      std::vector<double> Q(size_t(lq) * D), K(size_t(lk) * D), V(size_t(lk) * D);
      for (int i = 0; i < lq; ++i)
        for (int d = 0; d < D; ++d) Q[size_t(i) * D + d] = h.qv(b, i, hh, d);
      for (int j = 0; j < lk; ++j)
        for (int d = 0; d < D; ++d) {
          K[size_t(j) * D + d] = h.kval(b, j, kh, d);
          V[size_t(j) * D + d] = h.vval(b, j, kh, d);
        }
      // logits[i][j], -inf where masked; per row the error bound of a logit
      // in the kernels' fp32 arithmetic (natural units): the dot product
      // (tensor-core accumulation over D terms), then the float32 scale
      // factor softmax_scale * log2(e) (three roundings: the scale, log2(e),
      // their product) and the fma that subtracts the running maximum (one
      // rounding of |s c - m| <= |s c| + |m|): 4 u32 (|s * scale| + |max|).
      std::vector<double> L(size_t(lq) * lk), err(size_t(lq), 0.0);
      for (int i = 0; i < lq; ++i) {
        const double* qi = &Q[size_t(i) * D];
        double dot_abs = 0, logit_abs = 0, mx = -INFINITY;
        for (int j = 0; j < lk; ++j) {
          const bool masked = s.causal && j > i + lk - lq;
          if (masked) {
            L[size_t(i) * lk + j] = -INFINITY;
            continue;
          }
          const kernel_check::Dot dot = kernel_check::dot64(qi, &K[size_t(j) * D], D);
          L[size_t(i) * lk + j] = dot.value * scale;
          dot_abs = std::max(dot_abs, dot.abs);
          logit_abs = std::max(logit_abs, std::fabs(dot.value * scale));
          mx = std::max(mx, dot.value * scale);
        }
        err[size_t(i)] = scale * kernel_check::gamma(D, kernel_check::kTensorCoreAccumUnit) * dot_abs +
                         4.0 * u32 * (logit_abs + (std::isfinite(mx) ? std::fabs(mx) : 0.0));
        e.dot_abs[e.row(h, b, i, hh)] = dot_abs;
        e.logit_err[e.row(h, b, i, hh)] = err[size_t(i)];
      }
      std::vector<char> keep(size_t(lq) * lk, 1);  // per (row, key): tile kept for the row's tile
      for (int q0 = 0; q0 < lq; q0 += TQ) {
        const int nrows = std::min(TQ, lq - q0);
        std::vector<double> m(size_t(nrows), -INFINITY);
        bool first = true;
        for (int k0 = 0; k0 < lk; k0 += T) {
          const int keys = std::min(T, lk - k0);
          bool any = false, all_small = true;
          double keep_margin = -INFINITY, skip_margin = INFINITY, noise = 0;  // of the decision
          std::vector<double> tmax(size_t(nrows), -INFINITY);
          for (int r = 0; r < nrows; ++r) {
            for (int j = 0; j < keys; ++j) tmax[r] = std::max(tmax[r], L[size_t(q0 + r) * lk + k0 + j]);
            if (tmax[r] == -INFINITY) continue;
            any = true;
            const double gap = tmax[r] - m[r] - log_lambda;  // < 0: this row allows the skip
            if (!(gap < 0)) all_small = false;
            if (std::isfinite(gap)) {
              keep_margin = std::max(keep_margin, gap);
              skip_margin = std::min(skip_margin, -gap);
              noise = std::max(noise, 2.0 * err[size_t(q0 + r)] +
                                          4.0 * u32 * (std::fabs(tmax[r]) + std::fabs(m[r]) + std::fabs(log_lambda)));
            } else if (gap > 0) {
              keep_margin = INFINITY;
            }
          }
          if (!any) continue;  // fully masked: not visited
          ++e.visited;
          const size_t map = decision_index(h, b, hh, q0 / TQ, k0 / T);
          if (!first && all_small) {
            ++e.skipped;
            e.decisions[map] = spattn::attention::kTileSkipped;
            if (noise > 0) e.decision_margin = std::min(e.decision_margin, skip_margin / noise);
            for (int r = 0; r < nrows; ++r)
              for (int j = 0; j < keys; ++j) keep[size_t(q0 + r) * lk + k0 + j] = 0;
            continue;
          }
          e.decisions[map] = spattn::attention::kTileKept;
          if (!first && noise > 0) e.decision_margin = std::min(e.decision_margin, keep_margin / noise);
          first = false;
          for (int r = 0; r < nrows; ++r) m[r] = std::max(m[r], tmax[r]);
        }
      }
      for (int i = 0; i < lq; ++i) {
        const double* Li = &L[size_t(i) * lk];
        double mx = -INFINITY, z_all = 0, z_skip = 0, w_skip = 0;
        for (int j = 0; j < lk; ++j) mx = std::max(mx, Li[j]);
        for (int j = 0; j < lk; ++j) {
          if (Li[j] == -INFINITY) continue;
          z_all += std::exp(Li[j] - mx);
          if (!keep[size_t(i) * lk + j]) {
            z_skip += std::exp(Li[j] - mx);
            w_skip = std::max(w_skip, std::exp(Li[j] - mx));
          }
        }
        e.skipped_mass[e.row(h, b, i, hh)] = z_all > 0 ? z_skip / z_all : 0.0;
        e.max_skipped_weight[e.row(h, b, i, hh)] = w_skip;
        row_result(h, e, x, b, hh, i, lk, lq, Li, &keep[size_t(i) * lk], V, err[size_t(i)]);
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------
// Tolerances

// The arithmetic of an implementation, as the error bounds need it.
struct Arithmetic {
  const char* name;
  double dot_unit;    // per-operation error of the q.k accumulation (over head_dim terms)
  double exp_rel;     // relative error of one exp2
  double accum_unit;  // per-operation error of the P.V and row-sum accumulations (over the keys)
  bool p_rounded;     // P rounded to the storage format before P.V
};

// The kernels: tensor-core fp32 accumulation (products exact, additions
// possibly truncating: 2^-23) for Q.K^T and P.V, MUFU.EX2 (2.5 * 2^-23),
// fp32 row sums (counted at 2^-23 too), P rounded to bf16/fp16 for the P.V mma.
constexpr Arithmetic kKernelArithmetic{"kernel", kernel_check::kTensorCoreAccumUnit, kernel_check::kEx2ApproxRel,
                                       kernel_check::kTensorCoreAccumUnit, true};
// The CPU reference: fp32 dot products summed in order (2^-24), then double
// exp2, double accumulation (2^-53), P unrounded.
constexpr Arithmetic kReferenceArithmetic{"CPU reference", kernel_check::kFp32Unit, 0x1p-52, 0x1p-53, false};

// Tolerance of one output element against the float64 model, derived from
// the implementation's arithmetic (O = sum_j p_j v_j / sum_j p_j over the
// kept keys, A = sum_j p_j |v_j| / Z, n kept keys in t kept tiles):
//  - each p_j is off by a factor within [1 - eps, 1 + eps]: eps = exp(delta) *
//    (1 + exp_rel) - 1, delta the row's logit error. p_j appears in the
//    numerator and the denominator: |dO| <= 2 eps A. (The running-maximum
//    rescales exp2(m_old - m_new) multiply numerator and denominator alike:
//    their error cancels.)
//  - the numerator and the row sum accumulate n products/terms and t
//    rescales in fp32: gamma(n + 2t + 4, accum_unit) each, 2 gamma A in all;
//  - P rounded to storage before P.V (kernels): p_round, from the model;
//  - normalization 1/l and o * (1/l): 2 u32 |O|; the output's rounding to
//    storage: u |O'| (+ half a subnormal step in fp16).
// First-order terms; the second-order ones are covered by the (1 + u) and
// 1 / (1 - eps - gamma) factors.
inline double attention_tolerance(const Arithmetic& a, spattn_dtype dtype, double want, double abs_out,
                                  double p_round, double logit_err, int keys, int tiles, double slack) {
  const kernel_check::StorageFormat fmt = kernel_check::storage_format(dtype);
  const double eps = std::exp(logit_err) * (1.0 + a.exp_rel) - 1.0;
  const double g = kernel_check::gamma(keys + 2.0 * tiles + 4.0, a.accum_unit);
  const double before_output =
      ((2.0 * eps + 2.0 * g) * abs_out + (a.p_rounded ? p_round * (1.0 + eps) : 0.0)) / (1.0 - eps - g) +
      2.0 * kernel_check::kFp32Unit * std::fabs(want);
  return before_output + fmt.unit * (std::fabs(want) + before_output) + fmt.abs_floor + slack;
}

// The logit error of a row for arithmetic `a`: Expected::logit_err is for
// the kernels' dot-product unit; rescale its dot-product part for another.
inline double row_logit_err(const Arithmetic& a, const Expected& e, size_t row, int dim, double scale) {
  const double kernel_dot = scale * kernel_check::gamma(dim, kernel_check::kTensorCoreAccumUnit) * e.dot_abs[row];
  const double own_dot = scale * kernel_check::gamma(dim, a.dot_unit) * e.dot_abs[row];
  return e.logit_err[row] - kernel_dot + own_dot;
}

// Tolerance of a row's log-sum-exp, lse = (m + log2 l) ln 2 with l the
// row sum in units of 2^m: the logits' error (delta; the maximum m moves with
// them), l's relative error (each term's exp, the accumulation, and one
// exp2 per kept tile rescaling l, which, unlike the output, nothing
// cancels), then log2, the addition and the product by ln 2 in fp32 (an ulp
// of log2 l, and u32 relative of each sum and product, counted at |lse| +
// |log l| + |m| + 1).
inline double lse_tolerance(const Arithmetic& a, double want, double logit_err, int keys, int tiles) {
  const double l_rel = a.exp_rel + kernel_check::gamma(keys + 2.0 * tiles + 4.0, a.accum_unit) + tiles * a.exp_rel;
  const double log_keys = std::log(std::max(1, keys));
  return logit_err + l_rel + 4.0 * kernel_check::kFp32Unit * (2.0 * std::fabs(want) + log_keys + 1.0);
}

// ---------------------------------------------------------------------------
// Launch arguments, mutations, runs and the check

// What a run asks for.
struct Params {
  double threshold = 0.0;
  float softmax_scale = 0.0f;  // 0: 1/sqrt(head_dim)
  const Extras* extras = nullptr;  // given: threshold and extras travel in layer_params
  bool totals = true;              // packed: pass total_q / total_kv
};

// Arguments for `h` with the given data pointers (host or device).
inline spattn_attention_args make_args(const Host& h, const void* q, const void* k, const void* v, void* out,
                                       const int32_t* cu_q, const int32_t* cu_kv) {
  spattn_attention_args a{};
  a.struct_size = sizeof a;
  a.dtype = h.shape.dtype;
  a.batch = h.shape.batch;
  a.num_heads = h.shape.heads;
  a.num_kv_heads = h.shape.kv_heads;
  a.head_dim = h.shape.dim;
  a.seqlen_q = h.shape.max_lq();
  a.seqlen_kv = h.shape.max_lk();
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  h.ql.strides(a.q_strides);
  h.kl.strides(a.k_strides);
  h.vl.strides(a.v_strides);
  h.ol.strides(a.out_strides);
  a.cu_seqlens_q = h.shape.packed() ? cu_q : nullptr;
  a.cu_seqlens_kv = h.shape.packed() ? cu_kv : nullptr;
  a.causal = h.shape.causal ? 1 : 0;
  return a;
}

// layer_params carrying `x` and a skip threshold (enabled when > 0).
inline spattn_layer_params make_layer_params(const Extras& x, double threshold) {
  spattn_layer_params lp{};
  lp.struct_size = sizeof lp;
  lp.algorithm = SPATTN_ALGORITHM_SKIP_SOFTMAX;
  lp.enabled = threshold > 0 ? 1 : 0;
  lp.threshold_scale_factor = threshold;
  lp.sparsity_n = x.n;
  lp.sparsity_m = x.m;
  lp.num_sink_tokens = x.sinks;
  lp.dense_window_size = x.window;
  lp.quantize_p = x.quantize_p ? 1 : 0;
  return lp;
}

// The mutations of this family (kernel_check's switches): each corrupts a
// launch the way a plausible kernel bug would.
inline constexpr const char* kDenseInsteadOfSkip = "dense_instead_of_skip";  // the skip rule never fires
inline constexpr const char* kVWithKStrides = "v_with_k_strides";            // V read with K's strides
inline constexpr const char* kLseOverAllKeys = "lse_over_all_keys";          // LSE includes skipped tiles
inline constexpr const char* kWrongSoftmaxScale = "wrong_softmax_scale";     // args.softmax_scale ignored
inline const bool kMutationsRegistered =
    kernel_check::register_mutation(kDenseInsteadOfSkip) && kernel_check::register_mutation(kVWithKStrides) &&
    kernel_check::register_mutation(kLseOverAllKeys) && kernel_check::register_mutation(kWrongSoftmaxScale);

// Each mutation and the verdicts of check_run it must fail (the decision
// map only where the run records one), for the tests of the test.
struct MutationCase {
  const char* name;
  bool out, lse, decisions;
};
KERNEL_CHECK_PRINT_BY_NAME(MutationCase)

inline const MutationCase kMutationCases[] = {
    {kDenseInsteadOfSkip, true, true, true},
    {kVWithKStrides, true, false, false},
    {kLseOverAllKeys, false, true, false},
    {kWrongSoftmaxScale, true, true, false},
};

// One launch's arguments after the active mutation. `lse_from_dense`: the
// runner replaces the LSE by that of a dense run (lse_over_all_keys).
struct Launch {
  spattn_attention_args args;
  spattn_layer_params layer_params;
  bool lse_from_dense = false;

  // lse_over_all_keys: the same launch with the skip rule off, writing its
  // output to `scratch_out` (no counters) and its LSE over the kept run's.
  spattn_attention_args dense_rerun(void* scratch_out) {
    dense_layer_params_ = layer_params;
    dense_layer_params_.enabled = 0;
    spattn_attention_args dense = args;
    dense.threshold_scale_factor = 0.0f;
    if (dense.layer_params) dense.layer_params = &dense_layer_params_;
    dense.out = scratch_out;
    dense.tile_counters = nullptr;
    return dense;
  }

 private:
  spattn_layer_params dense_layer_params_{};
};

// Fills `launch` (it must not move afterwards: args point into it).
inline void plan_launch(Launch& launch, const Host& h, const Params& p, const void* q, const void* k, const void* v,
                        void* out, const int32_t* cu_q, const int32_t* cu_kv, float* lse,
                        unsigned long long* counters) {
  (void)kMutationsRegistered;
  spattn_attention_args& a = launch.args;
  a = make_args(h, q, k, v, out, cu_q, cu_kv);
  a.threshold_scale_factor = float(p.threshold);
  a.softmax_scale = p.softmax_scale;
  a.lse = lse;
  a.tile_counters = counters;
  launch.layer_params = make_layer_params(p.extras ? *p.extras : Extras{}, p.threshold);
  if (p.extras) a.layer_params = &launch.layer_params;
  if (h.shape.packed() && p.totals) {
    a.total_q = h.q_tokens;  // cu_seqlens_q[batch], known here on the host
    a.total_kv = h.kv_tokens;
  }
  if (kernel_check::mutation_active(kDenseInsteadOfSkip)) {
    a.threshold_scale_factor = 0.0f;
    launch.layer_params.enabled = 0;
    launch.layer_params.threshold_scale_factor = 0.0;
  }
  if (kernel_check::mutation_active(kVWithKStrides)) h.kl.strides(a.v_strides);
  if (kernel_check::mutation_active(kWrongSoftmaxScale)) a.softmax_scale = 0.0f;
  launch.lse_from_dense = kernel_check::mutation_active(kLseOverAllKeys);
}

// What a run produced (CPU reference or kernel).
struct RunOutput {
  spattn_status status = SPATTN_OK;
  std::string error;
  std::vector<uint16_t> out;        // the whole output buffer, padding and guard included
  std::vector<float> lse;
  std::vector<uint8_t> decisions;   // empty: not recorded (the public API has no hook)
  unsigned long long counters[2] = {0, 0};
};

constexpr size_t kGuard = 64;  // elements after the output that must stay poisoned

// LSE index of (b, h, tok) in the library's layout.
inline size_t lse_index(const Host& h, int b, int hh, int tok) {
  if (h.shape.packed()) return size_t(hh) * h.q_tokens + h.cu_q[b] + tok;
  return (size_t(b) * h.shape.heads + hh) * h.shape.lq + tok;
}
inline size_t lse_size(const Host& h) { return size_t(h.q_batches) * h.shape.heads * h.q_tokens; }

// The CPU reference through the internal entry (so that the decision hook can
// be set): outputs poisoned, the active mutation applied.
inline RunOutput run_reference(const Host& h, const Params& p) {
  RunOutput r;
  r.out.assign(h.out_elems() + kGuard, kernel_check::kPoison16);
  r.lse.assign(lse_size(h), kernel_check::poison_f32());
  r.decisions.assign(decision_map_size(h), spattn::attention::kTileNotVisited);
  Launch launch;
  plan_launch(launch, h, p, h.q.data(), h.k.data(), h.v.data(), r.out.data(), h.cu_q.data(), h.cu_kv.data(),
              r.lse.data(), r.counters);
  try {
    spattn::attention::Problem problem = spattn::attention::resolve_problem(&launch.args, "test");
    problem.tile_decisions = r.decisions.data();
    spattn::attention::reference_forward(problem, "test");
    if (launch.lse_from_dense) {
      std::vector<uint16_t> scratch(r.out.size());
      const spattn_attention_args dense = launch.dense_rerun(scratch.data());
      spattn::attention::reference_forward(spattn::attention::resolve_problem(&dense, "test"), "test");
    }
  } catch (const spattn::Error& e) {
    r.status = e.status();
    r.error = e.what();
  }
  return r;
}

// The verdicts of one run against the float64 model.
struct Checks {
  kernel_check::Verdict out{"output vs float64"};
  kernel_check::Verdict lse{"LSE vs float64"};
  kernel_check::Verdict decisions{"tile decisions vs float64"};
  kernel_check::Verdict counters{"tile counters vs float64"};
  kernel_check::Verdict writes{"writes outside the output"};
  bool ok() const { return out.ok() && lse.ok() && decisions.ok() && counters.ok() && writes.ok(); }
  std::string report() const {
    std::string s;
    for (const kernel_check::Verdict* v : {&out, &lse, &decisions, &counters, &writes})
      if (!v->ok()) s += v->report() + "\n";
    return s;
  }
};

// Checks run `r` of `h` against the model `e` (computed with the run's
// threshold, scale and extras), with the tolerances of arithmetic `a`.
inline Checks check_run(const Host& h, const Expected& e, const RunOutput& r, const Arithmetic& a, float softmax_scale) {
  Checks c;
  const Shape& s = h.shape;
  const double scale = softmax_scale > 0 ? softmax_scale : 1.0 / std::sqrt(double(s.dim));
  for (int b = 0; b < s.batch; ++b)
    for (int hh = 0; hh < s.heads; ++hh)
      for (int i = 0; i < h.seq_lq(b); ++i) {
        const size_t row = e.row(h, b, i, hh);
        const double err = row_logit_err(a, e, row, s.dim, scale);
        for (int d = 0; d < s.dim; ++d) {
          const size_t x = e.index(h, b, i, hh) + size_t(d);
          const double want = e.out[x];
          const double tol = attention_tolerance(a, s.dtype, want, e.abs_out[x], e.p_round[x], err, e.kept_keys[row],
                                                 e.kept_tiles[row], e.slack[row]);
          c.out.value(h.out_at(r.out, b, i, hh, d), want, tol, [&] {
            return "b " + std::to_string(b) + " token " + std::to_string(i) + " head " + std::to_string(hh) +
                   " dim " + std::to_string(d);
          });
        }
        if (!r.lse.empty()) {
          const double want = e.lse[row];
          c.lse.value(r.lse[lse_index(h, b, hh, i)], want,
                      lse_tolerance(a, want, err, e.kept_keys[row], e.kept_tiles[row]), [&] {
                        return "b " + std::to_string(b) + " head " + std::to_string(hh) + " row " + std::to_string(i);
                      });
        }
      }
  if (!r.decisions.empty()) {
    kernel_check::same_map(c.decisions, r.decisions, e.decisions, [&](size_t i) { return "tile " + std::to_string(i); });
  }
  if (r.counters[0] != e.visited || r.counters[1] != e.skipped) {
    c.counters.fail("visited " + std::to_string(r.counters[0]) + ", skipped " + std::to_string(r.counters[1]) +
                    "; want " + std::to_string(e.visited) + " and " + std::to_string(e.skipped));
  }
  const std::vector<char> mask =
      kernel_check::element_mask(h.ol, h.q_batches, h.q_tokens, s.heads, s.dim, r.out.size());
  kernel_check::untouched_outside(c.writes, r.out, mask, kernel_check::kPoison16);
  return c;
}

}  // namespace attention_test
