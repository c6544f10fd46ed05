// Test support for Video Sparse Attention (CPU and GPU tests): host tensors
// in cube order, and an INDEPENDENT float64 model of VSA written from the
// definition at spattn_vsa_args (no code shared with src/attention/vsa_*
// beyond the 16-bit decoders): its own cube enumeration (nested loops over
// cubes and their extents, FastVideo's "tile partition" list), means in
// double, scores in double, the attention in double.
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

#include "attention/half_float.hpp"

namespace vsa_test {

using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

struct Case {
  const char* name = "";
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int batch = 1, heads = 2, kv_heads = 2, dim = 64;
  int grid[3] = {1, 1, 1};
  int cube[3] = {1, 1, 1};
  double sparsity = 0.5;
  bool gate = true;
  bool bhsd = false;  // q and gate [batch][heads][tokens][dim] (v then BSHD); else the other way round
  bool bf16() const { return dtype == SPATTN_DTYPE_BFLOAT16; }
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

inline Case make_case(const char* name, spattn_dtype dt, int dim, int batch, int heads, int kv_heads,
                      std::vector<int> grid, std::vector<int> cube, double sparsity, bool gate = true,
                      bool bhsd = false) {
  Case c;
  c.name = name;
  c.dtype = dt;
  c.dim = dim;
  c.batch = batch;
  c.heads = heads;
  c.kv_heads = kv_heads;
  for (int a = 0; a < 3; ++a) {
    c.grid[a] = grid[size_t(a)];
    c.cube[a] = cube[size_t(a)];
  }
  c.sparsity = sparsity;
  c.gate = gate;
  c.bhsd = bhsd;
  return c;
}

// The cube partition of a grid, enumerated directly: for each cube (frame,
// row, column of cubes), the raster tokens of its valid slots in order.
struct Partition {
  int cubes[3] = {0, 0, 0};
  int volume = 0;
  std::vector<std::vector<int64_t>> tokens;  // [cube] -> raster token of each valid slot
  int num_cubes() const { return int(tokens.size()); }
  int64_t padded() const { return int64_t(num_cubes()) * volume; }
};

inline Partition partition(const int grid[3], const int cube[3]) {
  Partition p;
  p.volume = cube[0] * cube[1] * cube[2];
  for (int a = 0; a < 3; ++a) p.cubes[a] = (grid[a] + cube[a] - 1) / cube[a];
  for (int ct = 0; ct < p.cubes[0]; ++ct)
    for (int ch = 0; ch < p.cubes[1]; ++ch)
      for (int cw = 0; cw < p.cubes[2]; ++cw) {
        std::vector<int64_t> list;
        for (int t = ct * cube[0]; t < std::min(grid[0], (ct + 1) * cube[0]); ++t)
          for (int h = ch * cube[1]; h < std::min(grid[1], (ch + 1) * cube[1]); ++h)
            for (int w = cw * cube[2]; w < std::min(grid[2], (cw + 1) * cube[2]); ++w)
              list.push_back((int64_t(t) * grid[1] + h) * grid[2] + w);
        p.tokens.push_back(list);
      }
  return p;
}

// ceil((1 - sparsity) * C) for the decimal sparsities the tests use.
inline int kept_for(double sparsity, int num_cubes) {
  return std::max(1, int(std::ceil((1.0 - sparsity) * num_cubes - 1e-6)));
}

// How a tensor is strided: BSHD, BHSD, or BSHD with padding between tokens
// and between batch elements (8 and 16 elements: strides stay multiples of
// 8, and a kernel that writes with the wrong strides writes into padding).
enum class TensorLayout { BSHD, BHSD, Padded };

struct Strided {
  int64_t s[3] = {0, 0, 0};  // batch, token, head
  size_t elems = 0;          // storage, padding included
  size_t at(int b, int64_t tok, int h) const { return size_t(b * s[0] + tok * s[1] + h * s[2]); }
};

inline Strided strided(TensorLayout layout, int batch, int64_t tokens, int heads, int dim) {
  Strided t;
  if (layout == TensorLayout::BHSD) {
    t.s[0] = int64_t(heads) * tokens * dim;
    t.s[1] = dim;
    t.s[2] = tokens * dim;
  } else {
    const int64_t pad = layout == TensorLayout::Padded ? 8 : 0;
    t.s[1] = int64_t(heads) * dim + pad;
    t.s[2] = dim;
    t.s[0] = tokens * t.s[1] + 2 * pad;
  }
  t.elems = size_t(batch) * size_t(t.s[0]);
  return t;
}

// Inputs in cube order, [batch][padded][heads][dim] (k, v with kv_heads),
// each tensor in a layout of its own (a kernel that reads one tensor with
// another's strides fails): q and gate in the case's layout, k and out
// padded, v in the other one. Pad slots hold `pad` (0 as the gather writes
// it, or a poison).
struct Host {
  Case c;
  Partition part;
  int kept = 0;
  std::vector<uint16_t> q, k, v, gate;
  Strided qs, ks, vs, gs, os;

  int64_t padded() const { return part.padded(); }
  size_t qi(int b, int64_t tok, int h) const { return qs.at(b, tok, h); }
  size_t ki(int b, int64_t tok, int h) const { return ks.at(b, tok, h); }
  size_t vi(int b, int64_t tok, int h) const { return vs.at(b, tok, h); }
  size_t gi(int b, int64_t tok, int h) const { return gs.at(b, tok, h); }
  size_t oi(int b, int64_t tok, int h) const { return os.at(b, tok, h); }
  bool valid_slot(int64_t tok) const {
    return tok % part.volume < int64_t(part.tokens[size_t(tok / part.volume)].size());
  }
  // Which elements of an output buffer (os.elems) are logical elements; the
  // rest is padding that nothing may write.
  std::vector<bool> out_elements() const {
    std::vector<bool> is(os.elems, false);
    for (int b = 0; b < c.batch; ++b)
      for (int64_t t = 0; t < padded(); ++t)
        for (int hh = 0; hh < c.heads; ++hh)
          for (int d = 0; d < c.dim; ++d) is[oi(b, t, hh) + size_t(d)] = true;
    return is;
  }
};

// Random N(0, 1) values in valid slots (q scaled by `q_scale`, which sharpens
// the attention), `pad` in pad slots; gate uniform in [0, 2).
inline Host make_host(const Case& c, uint32_t seed, float q_scale = 1.0f, uint16_t pad = 0) {
  Host h;
  h.c = c;
  h.part = partition(c.grid, c.cube);
  h.kept = kept_for(c.sparsity, h.part.num_cubes());
  const TensorLayout mine = c.bhsd ? TensorLayout::BHSD : TensorLayout::BSHD;
  const TensorLayout other = c.bhsd ? TensorLayout::BSHD : TensorLayout::BHSD;
  h.qs = strided(mine, c.batch, h.padded(), c.heads, c.dim);
  h.gs = strided(mine, c.batch, h.padded(), c.heads, c.dim);
  h.os = strided(TensorLayout::Padded, c.batch, h.padded(), c.heads, c.dim);
  h.ks = strided(TensorLayout::Padded, c.batch, h.padded(), c.kv_heads, c.dim);
  h.vs = strided(other, c.batch, h.padded(), c.kv_heads, c.dim);
  h.q.assign(h.qs.elems, pad);
  h.gate.assign(c.gate ? h.gs.elems : 0, pad);
  h.k.assign(h.ks.elems, pad);
  h.v.assign(h.vs.elems, pad);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 2.0f);
  const bool bf = c.bf16();
  for (int b = 0; b < c.batch; ++b)
    for (int64_t t = 0; t < h.padded(); ++t) {
      if (!h.valid_slot(t)) continue;
      for (int hh = 0; hh < c.heads; ++hh)
        for (int d = 0; d < c.dim; ++d) {
          h.q[h.qi(b, t, hh) + size_t(d)] = float_to_storage(q_scale * n(rng), bf);
          if (c.gate) h.gate[h.gi(b, t, hh) + size_t(d)] = float_to_storage(u(rng), bf);
        }
      for (int hh = 0; hh < c.kv_heads; ++hh)
        for (int d = 0; d < c.dim; ++d) {
          h.k[h.ki(b, t, hh) + size_t(d)] = float_to_storage(n(rng), bf);
          h.v[h.vi(b, t, hh) + size_t(d)] = float_to_storage(n(rng), bf);
        }
    }
  return h;
}

// Arguments over the given pointers (host or device), strides of `h`.
inline spattn_vsa_args make_args(const Host& h, const void* q, const void* k, const void* v, const void* gate,
                                 void* out) {
  spattn_vsa_args a{};
  a.struct_size = sizeof(a);
  a.dtype = h.c.dtype;
  a.batch = h.c.batch;
  a.num_heads = h.c.heads;
  a.num_kv_heads = h.c.kv_heads;
  a.head_dim = h.c.dim;
  for (int i = 0; i < 3; ++i) {
    a.grid[i] = h.c.grid[i];
    a.cube_shape[i] = h.c.cube[i];
    a.q_strides[i] = h.qs.s[i];
    a.k_strides[i] = h.ks.s[i];
    a.v_strides[i] = h.vs.s[i];
    a.gate_strides[i] = h.gs.s[i];
    a.out_strides[i] = h.os.s[i];
  }
  a.sparsity = h.c.sparsity;
  a.q = q;
  a.k = k;
  a.v = v;
  a.gate = h.c.gate ? gate : nullptr;
  a.out = out;
  return a;
}

// ---------------------------------------------------------------------------
// The float64 model.

struct Model {
  // [b][h][cube][dim]: query means, coarse output (rounded to the dtype as
  // the definition says); [b][kvh][cube][dim] key and value means.
  std::vector<double> qm, km, vm, coarse;
  std::vector<double> scores;  // [b][h][i][j]
  std::vector<double> out;     // [b][padded][h][dim], coarse * gate + fine, unrounded
  std::vector<double> cg;      // |coarse * gate| of each element (tolerance scale)
  std::vector<double> lse;     // [b][h][padded]; -inf on pad rows
  int C = 0, dim = 0, heads = 0, kv_heads = 0;
  size_t qmi(int b, int h, int c) const { return ((size_t(b) * heads + h) * C + c) * dim; }
  size_t kmi(int b, int h, int c) const { return ((size_t(b) * kv_heads + h) * C + c) * dim; }
  size_t si(int b, int h, int i, int j) const { return ((size_t(b) * heads + h) * C + i) * C + j; }
};

inline double rounded(double x, bool bf16) {
  return double(storage_to_float(float_to_storage(float(x), bf16), bf16));
}

// The model's means and scores (everything that does not need a selection).
inline Model model_scores(const Host& h) {
  const Case& c = h.c;
  const bool bf = c.bf16();
  Model m;
  m.C = h.part.num_cubes();
  m.dim = c.dim;
  m.heads = c.heads;
  m.kv_heads = c.kv_heads;
  m.qm.assign(size_t(c.batch) * c.heads * m.C * c.dim, 0.0);
  m.coarse = m.qm;
  m.km.assign(size_t(c.batch) * c.kv_heads * m.C * c.dim, 0.0);
  m.vm = m.km;
  for (int b = 0; b < c.batch; ++b)
    for (int cube = 0; cube < m.C; ++cube) {
      const double n = double(h.part.tokens[size_t(cube)].size());
      for (int hh = 0; hh < c.heads; ++hh)
        for (int d = 0; d < c.dim; ++d) {
          double s = 0.0;
          for (size_t slot = 0; slot < h.part.tokens[size_t(cube)].size(); ++slot)
            s += storage_to_float(h.q[h.qi(b, int64_t(cube) * h.part.volume + int64_t(slot), hh) + size_t(d)], bf);
          m.qm[m.qmi(b, hh, cube) + size_t(d)] = rounded(s / n, bf);
        }
      for (int hh = 0; hh < c.kv_heads; ++hh)
        for (int d = 0; d < c.dim; ++d) {
          double sk = 0.0, sv = 0.0;
          for (size_t slot = 0; slot < h.part.tokens[size_t(cube)].size(); ++slot) {
            const int64_t t = int64_t(cube) * h.part.volume + int64_t(slot);
            sk += storage_to_float(h.k[h.ki(b, t, hh) + size_t(d)], bf);
            sv += storage_to_float(h.v[h.vi(b, t, hh) + size_t(d)], bf);
          }
          m.km[m.kmi(b, hh, cube) + size_t(d)] = rounded(sk / n, bf);
          m.vm[m.kmi(b, hh, cube) + size_t(d)] = rounded(sv / n, bf);
        }
    }
  m.scores.assign(size_t(c.batch) * c.heads * m.C * m.C, 0.0);
  const int group = c.heads / c.kv_heads;
  for (int b = 0; b < c.batch; ++b)
    for (int hh = 0; hh < c.heads; ++hh)
      for (int i = 0; i < m.C; ++i)
        for (int j = 0; j < m.C; ++j) {
          double s = 0.0;
          for (int d = 0; d < c.dim; ++d)
            s += m.qm[m.qmi(b, hh, i) + size_t(d)] * m.km[m.kmi(b, hh / group, j) + size_t(d)];
          m.scores[m.si(b, hh, i, j)] = s;
        }
  return m;
}

// Checks that `sel` ([b][h][i][kept], increasing) is a top-kept selection of
// the model's scores: sorted, distinct, in range, and no unselected cube
// scores more than `slack(b, h, i)` above a selected one. The slack covers
// the float32 scoring and means rounded from float32 rather than double
// sums: a mean may differ by one rounding step (2 u relative, u = 2^-8
// bf16, 2^-11 fp16), so a score by 2 u sum_d |q_d k_d| each side, plus
// float32 accumulation (dim * 2^-24 of the same sum). Returns the number of
// violations (0: valid).
inline size_t check_selection(const Host& h, const Model& m, const std::vector<int32_t>& sel,
                              std::string* first = nullptr) {
  const Case& c = h.c;
  const double u = c.bf16() ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
  const int group = c.heads / c.kv_heads;
  size_t bad = 0;
  auto report = [&](const std::string& what) {
    if (bad++ == 0 && first != nullptr) *first = what;
  };
  for (int b = 0; b < c.batch; ++b)
    for (int hh = 0; hh < c.heads; ++hh)
      for (int i = 0; i < m.C; ++i) {
        const int32_t* row = &sel[((size_t(b) * c.heads + hh) * m.C + i) * size_t(h.kept)];
        std::vector<bool> in(size_t(m.C), false);
        for (int r = 0; r < h.kept; ++r) {
          if (row[r] < 0 || row[r] >= m.C || (r > 0 && row[r] <= row[r - 1])) {
            report("row " + std::to_string(i) + " head " + std::to_string(hh) + ": entry " + std::to_string(r) +
                   " is " + std::to_string(row[r]) + " (not increasing / out of range)");
            continue;
          }
          in[size_t(row[r])] = true;
        }
        double mag = 0.0;
        for (int j = 0; j < m.C; ++j) {
          double s = 0.0;
          for (int d = 0; d < c.dim; ++d)
            s += std::fabs(m.qm[m.qmi(b, hh, i) + size_t(d)] * m.km[m.kmi(b, hh / group, j) + size_t(d)]);
          mag = std::max(mag, s);
        }
        const double slack = 2.0 * (4.0 * u + c.dim * std::ldexp(1.0, -24)) * mag;
        double min_in = std::numeric_limits<double>::infinity(), max_out = -min_in;
        for (int j = 0; j < m.C; ++j) {
          const double s = m.scores[m.si(b, hh, i, j)];
          if (in[size_t(j)]) min_in = std::min(min_in, s);
          else max_out = std::max(max_out, s);
        }
        if (max_out > min_in + slack) {
          report("row " + std::to_string(i) + " head " + std::to_string(hh) + ": an unselected cube scores " +
                 std::to_string(max_out) + " > selected " + std::to_string(min_in) + " + slack " + std::to_string(slack));
        }
      }
  return bad;
}

// The model's output and LSE for the selection `sel` (checked with
// check_selection first).
inline void model_output(const Host& h, Model& m, const std::vector<int32_t>& sel, float softmax_scale = 0.0f) {
  const Case& c = h.c;
  const bool bf = c.bf16();
  const double scale = softmax_scale != 0.0f ? double(softmax_scale) : 1.0 / std::sqrt(double(c.dim));
  const int group = c.heads / c.kv_heads;
  const int64_t P = h.padded();
  m.out.assign(size_t(c.batch) * size_t(P) * c.heads * c.dim, 0.0);
  m.cg = m.out;
  m.lse.assign(size_t(c.batch) * c.heads * size_t(P), -std::numeric_limits<double>::infinity());
  std::vector<double> acc(size_t(c.dim));
  for (int b = 0; b < c.batch; ++b)
    for (int hh = 0; hh < c.heads; ++hh) {
      const int kvh = hh / group;
      for (int i = 0; i < m.C; ++i) {
        // Coarse: softmax over all key cubes of the means.
        std::vector<double> w(size_t(m.C));
        double mx = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < m.C; ++j) mx = std::max(mx, scale * m.scores[m.si(b, hh, i, j)]);
        double sum = 0.0;
        for (int j = 0; j < m.C; ++j) sum += (w[size_t(j)] = std::exp(scale * m.scores[m.si(b, hh, i, j)] - mx));
        for (int d = 0; d < c.dim; ++d) {
          double o = 0.0;
          for (int j = 0; j < m.C; ++j) o += w[size_t(j)] * m.vm[m.kmi(b, kvh, j) + size_t(d)];
          m.coarse[m.qmi(b, hh, i) + size_t(d)] = rounded(o / sum, bf);
        }
        // Fine: every valid query slot over the selected cubes' valid keys.
        const int32_t* row = &sel[((size_t(b) * c.heads + hh) * m.C + i) * size_t(h.kept)];
        for (size_t slot = 0; slot < h.part.tokens[size_t(i)].size(); ++slot) {
          const int64_t qt = int64_t(i) * h.part.volume + int64_t(slot);
          std::vector<double> logits;
          std::vector<int64_t> keys;
          for (int r = 0; r < h.kept; ++r) {
            const int j = row[r];
            for (size_t ks = 0; ks < h.part.tokens[size_t(j)].size(); ++ks) {
              const int64_t kt = int64_t(j) * h.part.volume + int64_t(ks);
              double s = 0.0;
              for (int d = 0; d < c.dim; ++d)
                s += double(storage_to_float(h.q[h.qi(b, qt, hh) + size_t(d)], bf)) *
                     double(storage_to_float(h.k[h.ki(b, kt, kvh) + size_t(d)], bf));
              logits.push_back(scale * s);
              keys.push_back(kt);
            }
          }
          const double lmx = *std::max_element(logits.begin(), logits.end());
          double l = 0.0;
          std::fill(acc.begin(), acc.end(), 0.0);
          for (size_t j = 0; j < logits.size(); ++j) {
            const double e = std::exp(logits[j] - lmx);
            l += e;
            for (int d = 0; d < c.dim; ++d) acc[size_t(d)] += e * storage_to_float(h.v[h.vi(b, keys[j], kvh) + size_t(d)], bf);
          }
          m.lse[(size_t(b) * c.heads + hh) * size_t(P) + size_t(qt)] = lmx + std::log(l);
          for (int d = 0; d < c.dim; ++d) {
            const double g = c.gate ? double(storage_to_float(h.gate[h.gi(b, qt, hh) + size_t(d)], bf)) : 1.0;
            const size_t o = ((size_t(b) * size_t(P) + size_t(qt)) * c.heads + hh) * c.dim + size_t(d);
            const double cgd = m.coarse[m.qmi(b, hh, i) + size_t(d)] * g;
            m.out[o] = cgd + acc[size_t(d)] / l;
            m.cg[o] = std::fabs(cgd);
          }
        }
      }
    }
}

// Index of element (b, token, h, d) in Model::out (dense BSHD).
inline size_t out_index(const Host& h, int b, int64_t tok, int hh, int d) {
  return ((size_t(b) * size_t(h.padded()) + size_t(tok)) * h.c.heads + hh) * h.c.dim + size_t(d);
}

}  // namespace vsa_test
