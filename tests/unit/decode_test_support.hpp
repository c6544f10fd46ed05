// Test support for the decode step (CPU reference tests and GPU tests):
// host problems with every tensor in its own layout (padded BSHD/BHSD
// queries and outputs, K and V pools with different strides, shuffled
// pages), inputs (random, or peaked so that skipping happens), and an
// INDEPENDENT float64 model of spattn_attention_decode (it shares no code
// with src/attention/decode_reference.cpp: the split rule, the row tiles,
// the skip decisions and the LSE merge are re-derived from spattn.h), with
// the error terms its tolerances need. The pattern is tests/README.md's.
#pragma once

#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "attention/fp8.hpp"
#include "attention/half_float.hpp"
#include "kernel_check.hpp"

namespace decode_test {

using kernel_check::LayoutSpec;
using kernel_check::Order;
using kernel_check::StridedLayout;
using spattn::attention::e4m3_to_float;
using spattn::attention::float_to_e4m3;
using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The mutations the decode tests know (tests/README.md, point 7).
inline const bool kMutationsRegistered = kernel_check::register_mutation("decode_dense_instead_of_skip") &&
                                         kernel_check::register_mutation("decode_v_with_k_strides") &&
                                         kernel_check::register_mutation("decode_wrong_softmax_scale") &&
                                         kernel_check::register_mutation("decode_lse_over_all_keys") &&
                                         kernel_check::register_mutation("decode_pages_swapped");

struct DecodeCase {
  const char* name = "case";
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  bool fp8 = false;
  int dim = 128;
  int batch = 2, heads = 8, kv_heads = 2, lq = 1;
  std::vector<int> lens = {300, 1000};  // key count of each sequence
  int max_len = 1024;                   // max_seqlen_kv, >= every length
  int page_size = 0;                    // 0: contiguous cache
  bool causal = true;
  double threshold = 0.0;               // skip threshold_scale_factor
  int splits = 0;                       // 0: automatic
  int skip_len = 0;                     // skip_seqlen_kv
  float softmax_scale = 0.0f;           // 0: 1/sqrt(dim)
  bool peaked = false;                  // inputs that make skipping happen
  uint32_t seed = 1;
};
KERNEL_CHECK_PRINT_BY_NAME(DecodeCase)

// A decode problem in host memory.
struct DecodeHost {
  DecodeCase c;
  StridedLayout q_layout, o_layout, k_layout, v_layout;
  std::vector<uint16_t> q;
  std::vector<uint8_t> k, v;  // pool bytes (16-bit elements little-endian, or E4M3)
  std::vector<int32_t> seqlens, block_table;
  int num_pages = 0, max_pages = 0;
  float k_scale = 0.0f, v_scale = 0.0f;  // as passed (0: 1)
  int elem_bytes = 2;

  bool bf16() const { return c.dtype == SPATTN_DTYPE_BFLOAT16; }
  int group() const { return c.heads / c.kv_heads; }
  double softmax_scale() const { return c.softmax_scale != 0.0f ? c.softmax_scale : 1.0 / std::sqrt(double(c.dim)); }
  double k_scale_value() const { return k_scale == 0.0f ? 1.0 : k_scale; }
  double v_scale_value() const { return v_scale == 0.0f ? 1.0 : v_scale; }

  // Element offset of key j of sequence b, KV head g, in a pool.
  size_t kv_offset(const StridedLayout& l, int b, int j, int g) const {
    if (c.page_size == 0) return l.offset(b, j, g);
    const int page = block_table[size_t(b) * max_pages + j / c.page_size];
    return l.offset(page, j % c.page_size, g);
  }
  double stored(const std::vector<uint8_t>& pool, size_t element) const {
    if (elem_bytes == 1) return e4m3_to_float(pool[element]);
    const uint16_t bits = uint16_t(pool[2 * element] | (pool[2 * element + 1] << 8));
    return storage_to_float(bits, bf16());
  }
  void store(std::vector<uint8_t>& pool, size_t element, float x) {
    if (elem_bytes == 1) {
      pool[element] = float_to_e4m3(x);
      return;
    }
    const uint16_t bits = float_to_storage(x, bf16());
    pool[2 * element] = uint8_t(bits & 0xff);
    pool[2 * element + 1] = uint8_t(bits >> 8);
  }
  // Whether key j of sequence b lives on a page in [0, num_pages) (the
  // kernels mask keys on other pages; tests plant such pages on purpose).
  bool key_valid(int b, int j) const {
    if (c.page_size == 0) return true;
    const int page = block_table[size_t(b) * max_pages + j / c.page_size];
    return page >= 0 && page < num_pages;
  }
  // Stored values (FP8 unscaled), as the model reads them.
  double key(int b, int j, int g, int d) const { return stored(k, kv_offset(k_layout, b, j, g) + d); }
  double value(int b, int j, int g, int d) const { return stored(v, kv_offset(v_layout, b, j, g) + d); }
  double query(int b, int i, int h, int d) const { return storage_to_float(q[q_layout.offset(b, i, h) + d], bf16()); }
};

// Pools with their own layouts: K as BSHD with padding, V as BHSD with other
// padding (paged: the same orders over [page][slot]); a few spare pages, and
// the pages of every sequence in a shuffled order.
inline DecodeHost make_decode_host(const DecodeCase& c) {
  DecodeHost h;
  h.c = c;
  h.elem_bytes = c.fp8 ? 1 : 2;
  const int pad = c.fp8 ? 16 : 8;  // keeps 16-byte rows
  h.q_layout = kernel_check::make_layout(LayoutSpec{Order::BSHD, 8}, c.batch, c.lq, c.heads, c.dim);
  h.o_layout = kernel_check::make_layout(LayoutSpec{Order::BHSD, 16}, c.batch, c.lq, c.heads, c.dim);
  h.seqlens.assign(c.lens.begin(), c.lens.end());
  std::mt19937 rng(c.seed * 7919u + 17u);
  if (c.page_size == 0) {
    h.k_layout = kernel_check::make_layout(LayoutSpec{Order::BSHD, pad}, c.batch, c.max_len, c.kv_heads, c.dim);
    h.v_layout = kernel_check::make_layout(LayoutSpec{Order::BHSD, 2 * pad}, c.batch, c.max_len, c.kv_heads, c.dim);
  } else {
    h.max_pages = (c.max_len + c.page_size - 1) / c.page_size;
    int used = 0;
    for (int len : c.lens) used += (len + c.page_size - 1) / c.page_size;
    h.num_pages = used + 3;
    std::vector<int32_t> ids(size_t(h.num_pages));
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    h.block_table.assign(size_t(c.batch) * h.max_pages, -1);  // unused entries: never read
    int next = 0;
    for (int b = 0; b < c.batch; ++b) {
      for (int i = 0; i < (c.lens[size_t(b)] + c.page_size - 1) / c.page_size; ++i) {
        h.block_table[size_t(b) * h.max_pages + i] = ids[size_t(next++)];
      }
    }
    h.k_layout = kernel_check::make_layout(LayoutSpec{Order::BSHD, pad}, h.num_pages, c.page_size, c.kv_heads, c.dim);
    h.v_layout = kernel_check::make_layout(LayoutSpec{Order::BHSD, 2 * pad}, h.num_pages, c.page_size, c.kv_heads, c.dim);
  }
  h.q.assign(h.q_layout.elems, kernel_check::kPoison16);
  h.k.assign(h.k_layout.elems * h.elem_bytes, 0x7f);  // E4M3 NaN / bf16 garbage where no key lives
  h.v.assign(h.v_layout.elems * h.elem_bytes, 0x7f);
  if (c.fp8) {
    h.k_scale = 0.05f;
    h.v_scale = 0.02f;
  }

  // Values: q ~ N(0, 1) (or peaked), k and v ~ N(0, 1) in real units, stored
  // divided by their scale (FP8).
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::uniform_int_distribution<int> heat_pick(0, 5);
  const float boost = 8.0f;                                          // hot logit, softmax-scaled units
  const float shared = std::sqrt(boost / float(h.softmax_scale()));  // shared component of hot q and k
  const float ks = float(h.k_scale_value()), vs = float(h.v_scale_value());
  for (int b = 0; b < c.batch; ++b) {
    for (int i = 0; i < c.lq; ++i) {
      for (int hh = 0; hh < c.heads; ++hh) {
        uint16_t* row = &h.q[h.q_layout.offset(b, i, hh)];
        for (int d = 0; d < c.dim; ++d) row[d] = float_to_storage(c.peaked ? 0.3f * n(rng) : n(rng), h.bf16());
        if (c.peaked) row[0] = float_to_storage(shared, h.bf16());
      }
    }
    for (int g = 0; g < c.kv_heads; ++g) {
      float heat = 1.0f;
      for (int j = 0; j < c.lens[size_t(b)]; ++j) {
        // Per 128-key tile: the first of every 8 tiles is hot, the others get
        // a random heat in {0 (twice), 0.25, 0.5, 0.75, 1}. Values carry a
        // mean of 4 (1 - heat): skipping a warm tile moves every output
        // element the same way, far beyond the rounding noise.
        if (j % 128 == 0) heat = (j / 128) % 8 == 0 ? 1.0f : 0.25f * float(std::max(0, heat_pick(rng) - 1));
        const size_t ko = h.kv_offset(h.k_layout, b, j, g), vo = h.kv_offset(h.v_layout, b, j, g);
        for (int d = 0; d < c.dim; ++d) {
          h.store(h.k, ko + d, (c.peaked ? 0.3f * n(rng) : n(rng)) / ks);
          h.store(h.v, vo + d, (n(rng) + (c.peaked ? 4.0f * (1.0f - heat) : 0.0f)) / vs);
        }
        if (c.peaked) h.store(h.k, ko, heat * shared / ks);
      }
    }
  }
  return h;
}

// spattn_kv_cache of a host problem whose pools, lengths and block table
// live at the given pointers (host or device).
inline spattn_kv_cache kv_cache_of(const DecodeHost& h, const void* k, const void* v, const int32_t* seqlens,
                                   const int32_t* block_table) {
  spattn_kv_cache c{};
  c.struct_size = sizeof c;
  c.layout = h.c.page_size ? SPATTN_KV_LAYOUT_PAGED : SPATTN_KV_LAYOUT_CONTIGUOUS;
  c.dtype = h.c.fp8 ? SPATTN_DTYPE_FLOAT8_E4M3 : h.c.dtype;
  c.num_kv_heads = h.c.kv_heads;
  c.head_dim = h.c.dim;
  c.k = k;
  c.v = v;
  h.k_layout.strides(c.k_strides);
  h.v_layout.strides(c.v_strides);
  c.k_scale = h.k_scale;
  c.v_scale = h.v_scale;
  c.seqlens_kv = seqlens;
  c.max_seqlen_kv = h.c.max_len;
  if (h.c.page_size) {
    c.page_size = h.c.page_size;
    c.num_pages = h.num_pages;
    c.block_table = block_table;
    c.max_pages_per_seq = h.max_pages;
  }
  return c;
}

inline spattn_decode_args decode_args_of(const DecodeHost& h, const void* q, void* out, const spattn_kv_cache* cache,
                                         float* lse, unsigned long long* counters) {
  spattn_decode_args a{};
  a.struct_size = sizeof a;
  a.dtype = h.c.dtype;
  a.batch = h.c.batch;
  a.num_heads = h.c.heads;
  a.seqlen_q = h.c.lq;
  a.q = q;
  h.q_layout.strides(a.q_strides);
  a.out = out;
  h.o_layout.strides(a.out_strides);
  a.kv_cache = cache;
  a.softmax_scale = h.c.softmax_scale;
  a.causal = h.c.causal ? 1 : 0;
  a.threshold_scale_factor = float(h.c.threshold);
  a.skip_seqlen_kv = h.c.skip_len;
  a.lse = lse;
  a.tile_counters = counters;
  a.num_splits = h.c.splits;
  return a;
}

// The mutations at the launch site: args and the cache as the kernel sees
// them (the LSE one is handled by run_decode_checked's caller).
inline void apply_input_mutations(spattn_decode_args& a, spattn_kv_cache& cache) {
  if (kernel_check::mutation_active("decode_dense_instead_of_skip")) a.threshold_scale_factor = 0.0f;
  if (kernel_check::mutation_active("decode_v_with_k_strides")) {
    for (int i = 0; i < 3; ++i) cache.v_strides[i] = cache.k_strides[i];
  }
  if (kernel_check::mutation_active("decode_wrong_softmax_scale")) {
    const double base = a.softmax_scale != 0.0f ? a.softmax_scale : 1.0 / std::sqrt(double(cache.head_dim));
    a.softmax_scale = float(base * 1.05);
  }
}

// ---------------------------------------------------------------------------
// The cases of the CPU reference tests and of the GPU tests.

inline DecodeCase base(const char* name) {
  DecodeCase c;
  c.name = name;
  return c;
}

inline std::vector<DecodeCase> decode_cases() {
  std::vector<DecodeCase> cases;
  {
    DecodeCase c = base("dense_contiguous_bf16");
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_paged16_fp16_empty_sequence");
    c.dtype = SPATTN_DTYPE_FLOAT16;
    c.batch = 3;
    c.lens = {1, 777, 0};
    c.max_len = 800;
    c.page_size = 16;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_paged64_group8_four_queries_d64");
    c.dim = 64;
    c.heads = 32;
    c.kv_heads = 4;
    c.lq = 4;
    c.lens = {500, 129};
    c.max_len = 512;
    c.page_size = 64;
    c.softmax_scale = 0.07f;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_rows_over_128_mqa");
    c.batch = 1;
    c.heads = 32;
    c.kv_heads = 1;
    c.lq = 8;
    c.lens = {400};
    c.max_len = 400;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_more_queries_than_keys");
    c.batch = 2;
    c.lq = 8;
    c.lens = {3, 130};
    c.max_len = 130;
    c.page_size = 32;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_fp8_paged32_not_causal");
    c.fp8 = true;
    c.causal = false;
    c.lens = {1500, 2048};
    c.max_len = 2048;
    c.page_size = 32;
    c.lq = 2;
    cases.push_back(c);
  }
  {
    // FP8 with head dim 64: 64-byte rows, the 64-byte TMA swizzle.
    DecodeCase c = base("dense_fp8_contiguous_d64");
    c.fp8 = true;
    c.dim = 64;
    c.lens = {77, 1000};
    cases.push_back(c);
  }
  {
    // FP8 with more than 16 rows per KV head (32 here): the kernel's tile of
    // 128 rows, which converts each FP8 tile once in shared memory.
    DecodeCase c = base("dense_fp8_paged64_rows_over_16");
    c.fp8 = true;
    c.heads = 32;
    c.kv_heads = 2;
    c.lq = 2;
    c.lens = {700, 1000};
    c.page_size = 64;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("dense_fp8_paged16_rows_over_16_d64");
    c.fp8 = true;
    c.dim = 64;
    c.heads = 16;
    c.kv_heads = 1;
    c.lq = 3;
    c.lens = {260, 129};
    c.max_len = 272;
    c.page_size = 16;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("skip_contiguous_auto_splits");
    c.peaked = true;
    c.lens = {2048, 1500};
    c.max_len = 2048;
    c.threshold = 753.0;  // ln(lambda) from -1 to -0.7: between the heats 1 and 0.75 of the peaked inputs
    cases.push_back(c);
  }
  {
    DecodeCase c = base("skip_paged16_three_splits_lq2");
    c.peaked = true;
    c.lq = 2;
    c.lens = {1900, 2048};
    c.max_len = 2048;
    c.page_size = 16;
    c.splits = 3;
    c.threshold = 753.0;
    c.seed = 2;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("skip_fp8_paged128_fp16");
    c.dtype = SPATTN_DTYPE_FLOAT16;
    c.fp8 = true;
    c.peaked = true;
    c.lens = {2048, 1600};
    c.max_len = 2048;
    c.page_size = 128;
    c.threshold = 753.0;
    c.seed = 3;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("skip_global_length");
    c.peaked = true;
    c.lens = {2048, 1024};
    c.max_len = 2048;
    c.threshold = 5500.0;
    c.skip_len = 15000;  // lambda from the global length (ln -1), the same for both sequences
    c.seed = 4;
    cases.push_back(c);
  }
  {
    DecodeCase c = base("skip_off_when_lambda_at_least_one");
    c.peaked = true;
    c.lens = {1024, 900};
    c.max_len = 1024;
    c.threshold = 1024.0;  // lambda >= 1 for both sequences: nothing is skipped
    cases.push_back(c);
  }
  return cases;
}

// ---------------------------------------------------------------------------
// The float64 model, re-derived from spattn.h.

struct DecodePlanModel {
  int rows = 0, row_tiles = 0, max_tiles = 0, splits = 1, tiles_per_split = 0;
};

inline DecodePlanModel plan_model(const DecodeCase& c) {
  DecodePlanModel p;
  p.rows = c.lq * (c.heads / c.kv_heads);
  p.row_tiles = (p.rows + 127) / 128;
  p.max_tiles = (c.max_len + 127) / 128;
  int s = c.splits;
  if (s == 0) {
    const long ctas = long(c.batch) * c.kv_heads * p.row_tiles;
    const long target = c.fp8 && p.rows <= 16 ? 256 : 128;  // spattn.h: W
    s = int(std::min<long>((p.max_tiles + 3) / 4, (target + ctas - 1) / ctas));
  }
  s = std::max(1, std::min(s, std::max(p.max_tiles, 1)));
  p.tiles_per_split = (p.max_tiles + s - 1) / s;
  p.splits = p.tiles_per_split > 0 ? (p.max_tiles + p.tiles_per_split - 1) / p.tiles_per_split : 1;
  return p;
}

struct DecodeModel {
  DecodePlanModel plan;
  std::vector<double> out;       // [b][i][h][d]
  std::vector<double> lse;       // [b][h][i]
  std::vector<double> sum_pv;    // [b][i][h][d]: sum_j p_j |v_jd| / Z (scaled values)
  std::vector<double> logit_abs; // [b][i][h]: largest sum_d |q_d k_d| * c over the row's keys (log2 units)
  std::vector<uint8_t> decisions;  // [b][g][row tile][tile]: 1 kept, 2 skipped, 0 not visited
  unsigned long long visited = 0, skipped = 0;
  double min_margin = kInf;      // smallest |tile_max - m - log2(lambda)| of a decision taken
  size_t out_index(const DecodeCase& c, int b, int i, int h) const { return ((size_t(b) * c.lq + i) * c.heads + h) * c.dim; }
  size_t row_index(const DecodeCase& c, int b, int i, int h) const { return (size_t(b) * c.lq + i) * c.heads + h; }
};

// `with_skip` false: the same computation with every tile kept (dense).
inline DecodeModel decode_model(const DecodeHost& hst, bool with_skip) {
  const DecodeCase& c = hst.c;
  DecodeModel m;
  m.plan = plan_model(c);
  const int group = hst.group();
  m.out.assign(size_t(c.batch) * c.lq * c.heads * c.dim, 0.0);
  m.lse.assign(size_t(c.batch) * c.heads * c.lq, -kInf);
  m.sum_pv.assign(size_t(c.batch) * c.lq * c.heads * c.dim, 0.0);
  m.logit_abs.assign(size_t(c.batch) * c.lq * c.heads, 0.0);
  m.decisions.assign(size_t(c.batch) * c.kv_heads * m.plan.row_tiles * m.plan.max_tiles, 0);
  const double c_log2 = hst.softmax_scale() * hst.k_scale_value() / std::log(2.0);
  const double vsc = hst.v_scale_value();
  for (int b = 0; b < c.batch; ++b) {
    const int len = c.lens[size_t(b)];
    const int tiles = (len + 127) / 128;
    const int lambda_len = c.skip_len > 0 ? c.skip_len : len;
    const double lambda = lambda_len > 0 ? c.threshold / lambda_len : kInf;
    const bool skipping = with_skip && c.threshold > 0.0 && lambda < 1.0;
    const double log2_lambda = skipping ? std::log2(lambda) : -kInf;
    for (int g = 0; g < c.kv_heads; ++g) {
      for (int rt = 0; rt < m.plan.row_tiles; ++rt) {
        const int r0 = rt * 128, r1 = std::min(m.plan.rows, r0 + 128);
        const int nrows = r1 - r0;
        // Logits (log2 units) of each row over all keys; -inf where causal-masked.
        std::vector<std::vector<double>> logit(static_cast<size_t>(nrows), std::vector<double>(size_t(len), -kInf));
        for (int r = 0; r < nrows; ++r) {
          const int i = (r0 + r) / group, h = g * group + (r0 + r) % group;
          const int last = c.causal ? std::min(len - 1, i + len - c.lq) : len - 1;
          double amax = 0.0;
          for (int j = 0; j <= last; ++j) {
            if (!hst.key_valid(b, j)) continue;  // masked: -inf
            double dot = 0.0, dabs = 0.0;
            for (int d = 0; d < c.dim; ++d) {
              const double x = hst.query(b, i, h, d) * hst.key(b, j, g, d);
              dot += x;
              dabs += std::fabs(x);
            }
            logit[size_t(r)][size_t(j)] = dot * c_log2;
            amax = std::max(amax, dabs * c_log2);
          }
          m.logit_abs[m.row_index(c, b, i, h)] = amax;
        }
        // Per split: decisions with the running maximum, kept keys, partials.
        std::vector<std::vector<double>> part_lse(static_cast<size_t>(nrows));
        std::vector<std::vector<std::vector<double>>> part_out(static_cast<size_t>(nrows)),
            part_sum_pv(static_cast<size_t>(nrows));
        for (int s = 0; s < m.plan.splits; ++s) {
          const int t0 = s * m.plan.tiles_per_split, t1 = std::min(tiles, t0 + m.plan.tiles_per_split);
          std::vector<double> run_max(static_cast<size_t>(nrows), -kInf);
          std::vector<std::vector<int>> kept(static_cast<size_t>(nrows));
          for (int t = t0; t < t1; ++t) {
            std::vector<double> tmax(static_cast<size_t>(nrows), -kInf);
            for (int r = 0; r < nrows; ++r) {
              for (int j = t * 128; j < std::min(len, t * 128 + 128); ++j) tmax[size_t(r)] = std::max(tmax[size_t(r)], logit[size_t(r)][size_t(j)]);
            }
            bool skip = t > t0 && skipping;
            for (int r = 0; r < nrows && t > t0 && skipping; ++r) {
              if (tmax[size_t(r)] == -kInf) continue;  // nothing visible: allows the skip
              if (run_max[size_t(r)] == -kInf) {       // its first keys: never skipped
                skip = false;
                continue;
              }
              const double margin = tmax[size_t(r)] - run_max[size_t(r)] - log2_lambda;
              m.min_margin = std::min(m.min_margin, std::fabs(margin));
              if (margin >= 0.0) skip = false;
            }
            ++m.visited;
            m.decisions[((size_t(b) * c.kv_heads + g) * m.plan.row_tiles + rt) * m.plan.max_tiles + t] = skip ? 2 : 1;
            if (skip) {
              ++m.skipped;
              continue;
            }
            for (int r = 0; r < nrows; ++r) {
              run_max[size_t(r)] = std::max(run_max[size_t(r)], tmax[size_t(r)]);
              for (int j = t * 128; j < std::min(len, t * 128 + 128); ++j) {
                if (logit[size_t(r)][size_t(j)] > -kInf) kept[size_t(r)].push_back(j);
              }
            }
          }
          for (int r = 0; r < nrows; ++r) {
            const int i = (r0 + r) / group, h = g * group + (r0 + r) % group;
            std::vector<double> o(size_t(c.dim), 0.0), opv(size_t(c.dim), 0.0);
            double z = 0.0, mx = -kInf;
            for (int j : kept[size_t(r)]) mx = std::max(mx, logit[size_t(r)][size_t(j)]);
            for (int j : kept[size_t(r)]) {
              const double p = std::exp2(logit[size_t(r)][size_t(j)] - mx);
              z += p;
              for (int d = 0; d < c.dim; ++d) {
                const double val = hst.value(b, j, g, d) * vsc;
                o[size_t(d)] += p * val;
                opv[size_t(d)] += p * std::fabs(val);
              }
            }
            for (int d = 0; d < c.dim; ++d) {
              o[size_t(d)] = z > 0.0 ? o[size_t(d)] / z : 0.0;
              opv[size_t(d)] = z > 0.0 ? opv[size_t(d)] / z : 0.0;
            }
            part_out[size_t(r)].push_back(o);
            part_lse[size_t(r)].push_back(z > 0.0 ? (mx + std::log2(z)) * std::log(2.0) : -kInf);
            part_sum_pv[size_t(r)].push_back(opv);
            (void)i;
            (void)h;
          }
        }
        // Merge the splits.
        for (int r = 0; r < nrows; ++r) {
          const int i = (r0 + r) / group, h = g * group + (r0 + r) % group;
          const std::vector<double>& ls = part_lse[size_t(r)];
          const double lse = kernel_check::logsumexp64(ls.data(), ls.size());
          m.lse[(size_t(b) * c.heads + h) * c.lq + i] = lse;
          if (lse == -kInf) continue;
          double* o = &m.out[m.out_index(c, b, i, h)];
          for (size_t s = 0; s < ls.size(); ++s) {
            const double w = std::exp(ls[s] - lse);
            if (w == 0.0) continue;
            double* pv = &m.sum_pv[m.out_index(c, b, i, h)];
            for (int d = 0; d < c.dim; ++d) {
              o[d] += w * part_out[size_t(r)][s][size_t(d)];
              pv[d] += w * part_sum_pv[size_t(r)][s][size_t(d)];
            }
          }
        }
      }
    }
  }
  return m;
}

// ---------------------------------------------------------------------------
// Tolerances (tests/README.md, point 2).
//
// The CPU reference: logits are float32 dot products (error <= gamma(d,
// 2^-24) * sum|q k|, times the scale), the softmax and the merge run in
// double, and the output is rounded once to 16 bits. A logit error delta (log2
// units) moves p_j by a factor 2^delta, so the output by at most
// ln2 * delta * sum p|v| / Z (to first order, doubled for the normalization).
//
// The kernel adds: P rounded to 16 bits before P.V (u * sum p|v| / Z); fp32
// tensor-core accumulation of Q.K (gamma(d, 2^-23)) and of P.V over the
// keys (gamma(n, 2^-23) * sum p|v| / Z); ex2.approx (2^-22 relative per p);
// the row sum in fp32 (gamma(n, 2^-24)); the splits' float32 partials and
// merge (a few 2^-24). Each term is bounded separately and summed.
struct DecodeTolerance {
  double out_abs_floor = 0.0;
  bool kernel = false;
};

inline double logit_error(const DecodeCase& c, double logit_abs, bool kernel) {
  const double u = kernel ? kernel_check::kTensorCoreAccumUnit : kernel_check::kFp32Unit;
  return kernel_check::gamma(c.dim, u) * logit_abs + 2 * kernel_check::kFp32Unit * logit_abs;  // + the scale multiply
}

inline double out_tolerance(const DecodeCase& c, double want, double sum_pv, double logit_abs, int keys, bool kernel) {
  const kernel_check::StorageFormat f = kernel_check::storage_format(c.dtype);
  const double delta = logit_error(c, logit_abs, kernel);
  double tol = f.unit * std::fabs(want) + f.abs_floor + 2.0 * std::log(2.0) * delta * sum_pv;
  if (kernel) {
    tol += (f.unit + kernel_check::gamma(keys, kernel_check::kTensorCoreAccumUnit) + kernel_check::kEx2ApproxRel +
            kernel_check::gamma(keys, kernel_check::kFp32Unit) + 8 * kernel_check::kFp32Unit) *
           sum_pv;
  }
  return tol + 4 * kernel_check::kFp32Unit * sum_pv;
}

inline double lse_tolerance(double want, double logit_abs, int keys, const DecodeCase& c, bool kernel) {
  const double delta = std::log(2.0) * logit_error(c, logit_abs, kernel);
  double tol = delta + 4 * kernel_check::kFp32Unit * (std::fabs(want) + 1.0);
  if (kernel) tol += kernel_check::kEx2ApproxRel + kernel_check::gamma(keys, kernel_check::kFp32Unit);
  return tol;
}

// What a run produced, decoded to doubles on the logical elements.
struct DecodeResult {
  std::vector<uint16_t> out;  // the whole strided output buffer (guard included)
  std::vector<float> lse;     // [b][h][i]
  std::vector<uint8_t> decisions;
  unsigned long long counters[2] = {0, 0};
};

inline size_t out_buffer_elems(const DecodeHost& h) { return h.o_layout.elems + 64; }  // + a guard

// Compares a run with the model: every output element and LSE within its
// tolerance, nothing written outside the output, decisions and counters
// exactly the model's.
inline kernel_check::Verdict check_decode(const DecodeHost& h, const DecodeModel& m, const DecodeResult& r,
                                          bool kernel) {
  const DecodeCase& c = h.c;
  kernel_check::Verdict v(std::string(c.name) + (kernel ? " (kernel)" : " (reference)"));
  std::vector<char> mask = kernel_check::element_mask(h.o_layout, c.batch, c.lq, c.heads, c.dim, r.out.size());
  kernel_check::untouched_outside(v, r.out, mask, kernel_check::kPoison16);
  for (int b = 0; b < c.batch; ++b) {
    for (int i = 0; i < c.lq; ++i) {
      for (int hh = 0; hh < c.heads; ++hh) {
        const size_t ri = m.row_index(c, b, i, hh);
        const double* want = &m.out[m.out_index(c, b, i, hh)];
        const uint16_t* got = &r.out[h.o_layout.offset(b, i, hh)];
        for (int d = 0; d < c.dim; ++d) {
          const double tol = out_tolerance(c, want[d], m.sum_pv[m.out_index(c, b, i, hh) + d], m.logit_abs[ri],
                                           c.lens[size_t(b)], kernel);
          v.value(storage_to_float(got[d], h.bf16()), want[d], tol, [&] {
            return "out[b=" + std::to_string(b) + "][i=" + std::to_string(i) + "][h=" + std::to_string(hh) +
                   "][d=" + std::to_string(d) + "]";
          });
        }
        const size_t li = (size_t(b) * c.heads + hh) * c.lq + i;
        v.value(r.lse[li], m.lse[li], lse_tolerance(m.lse[li], m.logit_abs[ri], c.lens[size_t(b)], c, kernel), [&] {
          return "lse[b=" + std::to_string(b) + "][h=" + std::to_string(hh) + "][i=" + std::to_string(i) + "]";
        });
      }
    }
  }
  kernel_check::same_map(v, r.decisions, m.decisions, [&](size_t i) { return "decision[" + std::to_string(i) + "]"; });
  if (r.counters[0] != m.visited || r.counters[1] != m.skipped) {
    v.fail("tile counters " + std::to_string(r.counters[0]) + "/" + std::to_string(r.counters[1]) + ", model " +
           std::to_string(m.visited) + "/" + std::to_string(m.skipped));
  }
  return v;
}

// How far apart two models are, in units of the tolerance of `a` (the
// largest ratio over outputs and over LSEs): a check can only tell them
// apart when this is well above 1.
struct Separation {
  double out = 0.0, lse = 0.0;
};

inline Separation separation(const DecodeHost& h, const DecodeModel& a, const DecodeModel& b, bool kernel) {
  const DecodeCase& c = h.c;
  Separation s;
  for (int bb = 0; bb < c.batch; ++bb) {
    for (int i = 0; i < c.lq; ++i) {
      for (int hh = 0; hh < c.heads; ++hh) {
        const size_t ri = a.row_index(c, bb, i, hh);
        for (int d = 0; d < c.dim; ++d) {
          const size_t oi = a.out_index(c, bb, i, hh) + d;
          const double tol = out_tolerance(c, a.out[oi], a.sum_pv[oi], a.logit_abs[ri], c.lens[size_t(bb)], kernel);
          s.out = std::max(s.out, std::fabs(a.out[oi] - b.out[oi]) / tol);
        }
        const size_t li = (size_t(bb) * c.heads + hh) * c.lq + i;
        if (std::isfinite(a.lse[li])) {
          s.lse = std::max(s.lse, std::fabs(a.lse[li] - b.lse[li]) /
                                      lse_tolerance(a.lse[li], a.logit_abs[ri], c.lens[size_t(bb)], c, kernel));
        }
      }
    }
  }
  return s;
}

}  // namespace decode_test
