// Test support for the attention tests (CPU and GPU): host tensors in a
// chosen layout, input generators, and an INDEPENDENT float64 attention
// with its own re-derivation of the skip rule, of N:M sparse softmax and of
// NVFP4 P rounding (no code shared with src/attention/attention_reference.cpp
// or src/attention/sparse_softmax.hpp beyond the 16-bit decoders).
#pragma once

#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <ostream>
#include <vector>

#include "attention/half_float.hpp"

namespace attention_test {

using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

enum class Layout { BSHD, BHSD };

struct Shape {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int batch = 1, heads = 2, kv_heads = 2, dim = 64;
  int lq = 64, lk = 64;
  bool causal = false;
  Layout layout = Layout::BSHD;
  std::vector<int> q_lens, kv_lens;  // non-empty: packed batch (batch = size)
  bool packed() const { return !q_lens.empty(); }
  bool bf16() const { return dtype == SPATTN_DTYPE_BFLOAT16; }
};

// A fixed-length problem.
inline Shape shape(spattn_dtype dt, int dim, int batch, int heads, int kv_heads, int lq, int lk, bool causal,
                   Layout layout = Layout::BSHD) {
  Shape s;
  s.dtype = dt;
  s.dim = dim;
  s.batch = batch;
  s.heads = heads;
  s.kv_heads = kv_heads;
  s.lq = lq;
  s.lk = lk;
  s.causal = causal;
  s.layout = layout;
  return s;
}

// A packed batch of q_lens.size() sequences.
inline Shape shape_packed(spattn_dtype dt, int dim, int heads, int kv_heads, std::vector<int> q_lens,
                          std::vector<int> kv_lens, bool causal) {
  Shape s = shape(dt, dim, int(q_lens.size()), heads, kv_heads, 0, 0, causal);
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

// Element strides {batch, token, head} of a [batch][tokens][heads][dim] tensor.
inline void strides(const Shape& s, int tokens, int heads, int64_t out[3]) {
  if (s.layout == Layout::BSHD) {
    out[0] = int64_t(tokens) * heads * s.dim;
    out[1] = int64_t(heads) * s.dim;
    out[2] = s.dim;
  } else {
    out[0] = int64_t(heads) * tokens * s.dim;
    out[1] = s.dim;
    out[2] = int64_t(tokens) * s.dim;
  }
}

// Decoded values of the inputs, [batch][token][head][dim] with packed
// sequences in batch 0 when packed.
struct Host {
  Shape shape;
  int q_batches = 1, q_tokens = 0, kv_tokens = 0;  // storage extents
  std::vector<uint16_t> q, k, v;  // storage in shape.layout
  int64_t q_str[3], k_str[3], o_str[3];
  std::vector<int32_t> cu_q, cu_kv;

  size_t q_elems() const { return size_t(q_batches) * q_tokens * shape.heads * shape.dim; }
  size_t kv_elems() const { return size_t(q_batches) * kv_tokens * shape.kv_heads * shape.dim; }

  // Sequence geometry: first token on the storage axis, lengths, storage batch.
  int seq_lq(int b) const { return shape.packed() ? shape.q_lens[b] : shape.lq; }
  int seq_lk(int b) const { return shape.packed() ? shape.kv_lens[b] : shape.lk; }
  int q_tok0(int b) const { return shape.packed() ? cu_q[b] : 0; }
  int kv_tok0(int b) const { return shape.packed() ? cu_kv[b] : 0; }
  int sb(int b) const { return shape.packed() ? 0 : b; }

  size_t q_index(int b, int tok, int h) const {
    return size_t(sb(b) * q_str[0] + int64_t(q_tok0(b) + tok) * q_str[1] + h * q_str[2]);
  }
  size_t kv_index(int b, int tok, int h) const {
    return size_t(sb(b) * k_str[0] + int64_t(kv_tok0(b) + tok) * k_str[1] + h * k_str[2]);
  }
  float qv(int b, int tok, int h, int d) const {
    return storage_to_float(q[q_index(b, tok, h) + d], shape.bf16());
  }
  float kval(int b, int tok, int h, int d) const {
    return storage_to_float(k[kv_index(b, tok, h) + d], shape.bf16());
  }
  float vval(int b, int tok, int h, int d) const {
    return storage_to_float(v[kv_index(b, tok, h) + d], shape.bf16());
  }
};

// Allocates storage for `shape`. Values are set by a generator below.
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
  strides(s, h.q_tokens, s.heads, h.q_str);
  strides(s, h.kv_tokens, s.kv_heads, h.k_str);
  strides(s, h.q_tokens, s.heads, h.o_str);
  h.q.assign(h.q_elems(), 0);
  h.k.assign(h.kv_elems(), 0);
  h.v.assign(h.kv_elems(), 0);
  return h;
}

// Plain random inputs: N(0, 1) q, k, v.
inline void fill_random(Host& h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& x : h.q) x = float_to_storage(n(rng), h.shape.bf16());
  for (auto& x : h.k) x = float_to_storage(n(rng), h.shape.bf16());
  for (auto& x : h.v) x = float_to_storage(n(rng), h.shape.bf16());
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
  for (auto& x : h.q) x = float_to_storage(0.25f * float(pick(rng)), h.shape.bf16());
  for (auto& x : h.k) x = float_to_storage(0.25f * float(pick(rng)), h.shape.bf16());
  for (auto& x : h.v) x = float_to_storage(n(rng), h.shape.bf16());
}

// Peaked inputs that make skipping happen: q and k share a component along
// dimension 0; the first KV tile of every sequence is "hot" (large shared
// component), later tiles get a random heat in {0 (2/6), 0.25, 0.5, 0.75, 1} per
// 128-key tile and head, so some tiles are skipped at moderate thresholds
// and others are not. `boost` is the hot logit, in softmax-scaled units.
//
// `grid`: the same with the shared component rounded to an integer and the
// noise of q and k to multiples of 1/4 in [-2, 2], so that the logits are
// exact in float32 (see fill_grid).
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
        uint16_t* krow = &h.k[h.kv_index(b, t, hh)];
        uint16_t* vrow = &h.v[h.kv_index(b, t, hh)];
        for (int d = 0; d < s.dim; ++d) {
          krow[d] = float_to_storage(0.5f * n(rng), bf);
          vrow[d] = float_to_storage(n(rng), bf);
        }
        krow[0] = float_to_storage(c * heat, bf);
      }
    }
  }
}

// The Model Optimizer extras (spattn_layer_params fields) for expected().
struct Extras {
  int n = 0, m = 0;        // N:M sparse softmax, 0/0: off
  int sinks = 0, window = 0;
  bool quantize_p = false;  // NVFP4 P
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
enum class Fill { Grid, Random, Peaked, PeakedGrid };

inline void fill(Host& h, Fill f, uint32_t seed) {
  if (f == Fill::Grid) fill_grid(h, seed);
  if (f == Fill::Random) fill_random(h, seed);
  if (f == Fill::Peaked) fill_peaked(h, seed, 7.0f);
  if (f == Fill::PeakedGrid) fill_peaked(h, seed, 7.0f, true);
}

// A random problem with the Model Optimizer extras, for the CPU and GPU tests.
struct ExtrasCase {
  const char* name;
  Shape shape;
  Extras x;
  double threshold;
  Fill fill;
};

// Test names in ctest: the case's name, not its bytes.
inline void PrintTo(const ExtrasCase& c, std::ostream* os) { *os << c.name; }

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
// slightly different inputs, may take the other way).
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

// Result of the independent float64 computation.
struct Expected {
  std::vector<double> out;  // [b][tok][h][dim], packed in batch 0 order (q_index / layout-free)
  std::vector<double> lse;  // [b][h][tok]
  std::vector<double> skipped_mass;  // per (b, h, tok): skipped softmax mass / total mass
  // Per (b, h, tok): how far the output may move because a rounding or N:M
  // decision of that row lies within float32 noise of its boundary (0 for
  // almost every row); compare_out widens that row's tolerance by it.
  std::vector<double> slack;
  size_t rows_with_slack = 0;
  unsigned long long visited = 0, skipped = 0;
  double max_abs_v = 0.0;
  int lq_max = 0;
  size_t index(const Host& h, int b, int tok, int hh) const {
    return ((size_t(b) * lq_max + tok) * h.shape.heads + hh) * h.shape.dim;
  }
  size_t row(const Host& h, int b, int tok, int hh) const {
    return (size_t(b) * h.shape.heads + hh) * lq_max + tok;
  }
};

// Margins within which another implementation's float32 arithmetic may
// decide differently: scaled logits of an N:M pair (absolute, at least; the
// CPU and GPU sum q.k in float32 in different orders: ~1e-6 here), and
// relative distance of an NVFP4 rounding input to a rounding midpoint
// (p differs by ~1e-6 relative: exp2 approximations, logits).
constexpr double kNmLogitMargin = 2e-5;
constexpr double kRoundMargin = 2e-5;

// One output row of expected(): `Li` the row's scaled logits (-inf where
// masked), `kept` its per-key tile decisions.
//  - N:M on the full row: groups of m keys from key 0; in each, a key is kept
//    when fewer than n others beat it (larger, or equal at a lower index), or
//    when it is a sink (j < sinks) or in the window (diag - window < j <= diag,
//    diag = i + Lk - Lq).
//  - out = sum_j w_j v_j / Z, Z = sum_j exp(L_j - mx) over the kept keys; w_j =
//    exp(L_j - mx) dense, or with NVFP4 P, per kept 128-key tile t with the
//    running maximum m_t (max over kept tiles <= t): w_j = Q(exp(L_j - m_t)) *
//    exp(m_t - mx), Q rounding blocks of 16 keys: block scale E4M3(448 *
//    block max) / 2688, values E2M1(p / scale) * scale (round_to_grid).
//  - slack: for each decision within the margins above, the most the output
//    can move if it went the other way.
inline void row_result(const Host& h, Expected& e, const Extras& x, int b, int hh, int i, int lk, int lq,
                       const double* Li, const char* kept, const std::vector<double>& V) {
  const int D = h.shape.dim, T = SPATTN_SKIP_TILE_KEYS;
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
          if (std::isfinite(gap) && gap > 0 && gap < kNmLogitMargin * std::max(1.0, std::fabs(Li[j])))
            near.emplace_back(j, k);
        }
    }
  }
  double mx = -INFINITY;
  for (int j = 0; j < lk; ++j)
    if (use[size_t(j)]) mx = std::max(mx, Li[j]);
  const size_t o = e.index(h, b, i, hh), row = e.row(h, b, i, hh);
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
        const double scale = round_to_grid(e4m3_grid(), 448.0 * amax, kRoundMargin, &tie) / 2688.0;
        if (tie) slack_w += rescale * nonzero * 2.5 * (amax / 6.0 + 1.0 / 512 / 2688);
        for (int j = b0; j < b1; ++j) {
          if (!use[size_t(j)]) continue;
          double q = 0;
          if (scale > 0) {
            q = scale * round_to_grid(e2m1_grid(), std::exp(Li[j] - m_t) / scale, kRoundMargin, &tie, &step);
            if (tie) slack_w += rescale * step * scale;
          }
          w[size_t(j)] = q * rescale;
        }
      }
    }
  }
  std::vector<double> acc(size_t(D), 0.0);
  for (int j = 0; j < lk; ++j) {
    if (w[size_t(j)] == 0) continue;
    const double* vj = &V[size_t(j) * D];
    for (int d = 0; d < D; ++d) acc[d] += w[size_t(j)] * vj[d];
  }
  for (int d = 0; d < D; ++d) e.out[o + d] = acc[d] / z;
  e.lse[row] = mx + std::log(z);
  e.slack[row] = slack_w * 2.0 * e.max_abs_v / z;  // |v_j - out| <= 2 max|v|
  if (e.slack[row] > 0) ++e.rows_with_slack;
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
  e.out.assign(size_t(s.batch) * e.lq_max * s.heads * s.dim, 0.0);
  e.lse.assign(size_t(s.batch) * s.heads * e.lq_max, -std::numeric_limits<double>::infinity());
  e.skipped_mass.assign(e.lse.size(), 0.0);
  e.slack.assign(e.lse.size(), 0.0);
  const double scale = softmax_scale > 0 ? softmax_scale : 1.0 / std::sqrt(double(s.dim));
  const int group = s.heads / s.kv_heads;
  const int T = SPATTN_SKIP_TILE_KEYS, TQ = SPATTN_SKIP_TILE_QUERIES;
  for (auto x : h.v) e.max_abs_v = std::max(e.max_abs_v, std::fabs(double(storage_to_float(x, s.bf16()))));
  for (int b = 0; b < s.batch; ++b) {
    const int lq = h.seq_lq(b), lk = h.seq_lk(b);
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
      // logits[i][j], -inf where masked
      std::vector<double> L(size_t(lq) * lk);
      for (int i = 0; i < lq; ++i) {
        const double* qi = &Q[size_t(i) * D];
        for (int j = 0; j < lk; ++j) {
          const bool masked = s.causal && j > i + lk - lq;
          const double* kj = &K[size_t(j) * D];
          double dot = 0;
          if (!masked)
            for (int d = 0; d < D; ++d) dot += qi[d] * kj[d];
          L[size_t(i) * lk + j] = masked ? -INFINITY : dot * scale;
        }
      }
      std::vector<char> keep(size_t(lq) * lk, 1);  // per (row, key): tile kept for the row's tile
      for (int q0 = 0; q0 < lq; q0 += TQ) {
        const int rows = std::min(TQ, lq - q0);
        std::vector<double> m(size_t(rows), -INFINITY);
        bool first = true;
        for (int k0 = 0; k0 < lk; k0 += T) {
          const int keys = std::min(T, lk - k0);
          bool any = false, all_small = true;
          std::vector<double> tmax(size_t(rows), -INFINITY);
          for (int r = 0; r < rows; ++r) {
            for (int j = 0; j < keys; ++j) tmax[r] = std::max(tmax[r], L[size_t(q0 + r) * lk + k0 + j]);
            if (tmax[r] == -INFINITY) continue;
            any = true;
            if (!(std::exp(tmax[r] - m[r]) < threshold / lk)) all_small = false;
          }
          if (!any) continue;  // fully masked: not visited
          ++e.visited;
          if (!first && all_small) {
            ++e.skipped;
            for (int r = 0; r < rows; ++r)
              for (int j = 0; j < keys; ++j) keep[size_t(q0 + r) * lk + k0 + j] = 0;
            continue;
          }
          first = false;
          for (int r = 0; r < rows; ++r) m[r] = std::max(m[r], tmax[r]);
        }
      }
      for (int i = 0; i < lq; ++i) {
        const double* Li = &L[size_t(i) * lk];
        double mx = -INFINITY, z_all = 0, z_skip = 0;
        for (int j = 0; j < lk; ++j) mx = std::max(mx, Li[j]);
        for (int j = 0; j < lk; ++j) {
          if (Li[j] == -INFINITY) continue;
          z_all += std::exp(Li[j] - mx);
          if (!keep[size_t(i) * lk + j]) z_skip += std::exp(Li[j] - mx);
        }
        e.skipped_mass[e.row(h, b, i, hh)] = z_all > 0 ? z_skip / z_all : 0.0;
        row_result(h, e, x, b, hh, i, lk, lq, Li, &keep[size_t(i) * lk], V);
      }
    }
  }
  return e;
}

// Arguments for `h` with the given data pointers (host or device).
inline spattn_attention_args make_args(const Host& h, const void* q, const void* k, const void* v,
                                       void* out, const int32_t* cu_q, const int32_t* cu_kv) {
  spattn_attention_args a{};
  a.struct_size = sizeof a;
  a.dtype = h.shape.dtype;
  a.batch = h.shape.batch;
  a.num_heads = h.shape.heads;
  a.num_kv_heads = h.shape.kv_heads;
  a.head_dim = h.shape.dim;
  a.seqlen_q = h.shape.packed() ? *std::max_element(h.shape.q_lens.begin(), h.shape.q_lens.end())
                                : h.shape.lq;
  a.seqlen_kv = h.shape.packed()
                    ? *std::max_element(h.shape.kv_lens.begin(), h.shape.kv_lens.end())
                    : h.shape.lk;
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  for (int i = 0; i < 3; ++i) {
    a.q_strides[i] = h.q_str[i];
    a.k_strides[i] = h.k_str[i];
    a.v_strides[i] = h.k_str[i];
    a.out_strides[i] = h.o_str[i];
  }
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

// LSE index of (b, h, tok) in the library's layout.
inline size_t lse_index(const Host& h, int b, int hh, int tok) {
  if (h.shape.packed()) return size_t(hh) * h.q_tokens + h.cu_q[b] + tok;
  return (size_t(b) * h.shape.heads + hh) * h.shape.lq + tok;
}
inline size_t lse_size(const Host& h) { return size_t(h.q_batches) * h.shape.heads * h.q_tokens; }

// Largest |out - expected| over all rows, each element's error divided by
// (abs_tol + rel_tol * |expected| + the row's slack); <= 1 passes. Also counts unwritten
// (poisoned) or non-finite outputs in `bad`.
struct Compare {
  double worst = 0.0;
  size_t bad = 0;
  double err2 = 0.0, ref2 = 0.0;  // for ||out - ref|| / ||ref||
  double rel_norm() const { return ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2); }
};

inline Compare compare_out(const Host& h, const std::vector<uint16_t>& out, const Expected& e,
                           double abs_tol, double rel_tol) {
  Compare c;
  const Shape& s = h.shape;
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < h.seq_lq(b); ++i)
      for (int hh = 0; hh < s.heads; ++hh)
        for (int d = 0; d < s.dim; ++d) {
          const float got = storage_to_float(out[h.q_index(b, i, hh) + d], s.bf16());
          const double want = e.out[e.index(h, b, i, hh) + d];
          if (!std::isfinite(got)) {
            ++c.bad;
            continue;
          }
          c.err2 += (got - want) * (got - want);
          c.ref2 += want * want;
          const double slack = e.slack[e.row(h, b, i, hh)];
          c.worst = std::max(c.worst, std::fabs(got - want) / (abs_tol + rel_tol * std::fabs(want) + slack));
        }
  return c;
}

}  // namespace attention_test
