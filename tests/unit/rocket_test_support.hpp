// Test support for RocketKV (CPU and GPU tests; tests/README.md has the
// pattern): host problems in chosen cache layouts, input generators whose
// decisions are far from their boundaries, and an INDEPENDENT float64 model
// of both phases (its own FP8 decoders, E5M2 rounding, pooling, top-k,
// compaction and bounds; nothing shared with src/attention/rocket_*.cpp
// beyond the 16-bit decoders), the margins of its decisions, the tolerances
// of the attention output, and the family's mutations.
#pragma once

#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "attention/half_float.hpp"
#include "kernel_check.hpp"

namespace rocket_test {

using kernel_check::LayoutSpec;
using kernel_check::Order;
using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

// ---------------------------------------------------------------------------
// Mutations (tests/README.md, point 7), applied where the args are built.
//  - rocket_pool_wider: the config's kernel_size + 2 (selection moves at a
//    partially kept plateau);
//  - rocket_v_with_k_strides: the cache's V strides replaced by K's (the
//    compaction and the attention read the wrong V rows);
//  - rocket_kt_page_doubled: the config's page_size doubled (wrong KT entries);
//  - rocket_topk_minus_one: the config's topk - 1 (one page fewer attended);
//  - rocket_wrong_softmax_scale: softmax_scale 1.5 times the intended one.
inline const bool kMutationsRegistered = kernel_check::register_mutation("rocket_pool_wider") &&
                                         kernel_check::register_mutation("rocket_v_with_k_strides") &&
                                         kernel_check::register_mutation("rocket_kt_page_doubled") &&
                                         kernel_check::register_mutation("rocket_topk_minus_one") &&
                                         kernel_check::register_mutation("rocket_wrong_softmax_scale");

// ---------------------------------------------------------------------------
// The model's own FP8 decoders and E5M2 rounding (independent of fp8.hpp):
// decoded from the bit fields; rounding by searching the 256 codes.

inline double model_e4m3(uint8_t byte) {
  const int e = (byte >> 3) & 15, m = byte & 7;
  const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
  return (byte & 0x80) ? -mag : mag;
}

inline double model_e5m2(uint8_t byte) {
  const int e = (byte >> 2) & 31, m = byte & 3;
  double mag;
  if (e == 31) {
    mag = m == 0 ? INFINITY : NAN;
  } else {
    mag = e == 0 ? std::ldexp(m, -16) : std::ldexp(4 + m, e - 17);
  }
  return (byte & 0x80) ? -mag : mag;
}

// The E5M2 code nearest to a finite x (ties: even mantissa), saturating at
// +-57344.
inline uint8_t model_round_e5m2(double x) {
  int best = 0;
  double best_err = INFINITY;
  for (int code = 0; code < 0x7C; ++code) {  // the finite non-negative codes
    const double err = std::fabs(model_e5m2(uint8_t(code)) - std::fabs(x));
    if (err < best_err || (err == best_err && (code & 1) == 0)) {
      best = code;
      best_err = err;
    }
  }
  return uint8_t((x < 0 ? 0x80 : 0) | best);
}

// A KT value as stored and decoded: E5M2 bytes, or bf16 (2 bytes, little endian).
inline void model_store_kt(double x, bool e5m2, uint8_t* dst) {
  if (e5m2) {
    dst[0] = model_round_e5m2(x);
  } else {
    const uint16_t h = spattn::attention::float_to_bf16(float(x));  // x is a float already (a key)
    std::memcpy(dst, &h, 2);
  }
}

inline double model_load_kt(const uint8_t* src, bool e5m2) {
  if (e5m2) return model_e5m2(src[0]);
  uint16_t h;
  std::memcpy(&h, src, 2);
  return spattn::attention::bf16_to_float(h);
}

// ---------------------------------------------------------------------------
// A problem: shapes, the config and the cache layouts.

struct Case {
  const char* name;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  bool fp8_kv = false;
  bool paged_kv = false;
  int kv_page_size = 16;
  spattn_kt_cache_dtype kt_dtype = SPATTN_KT_CACHE_FLOAT8_E5M2;
  bool paged_kt = false;
  int dim = 64;
  int kv_heads = 2;
  int group = 2;
  std::vector<int> lens;  // per sequence: context L (prompt), or decode L (the new token included)
  int window = 8, kernel = 5, budget = 64, page = 4, topk = 6;
  double topr = 24;
  float softmax_scale = 0.0f;  // 0: default
  LayoutSpec q_layout{Order::BSHD, 8};
  LayoutSpec out_layout{Order::BHSD, 16};
  int k_pad = 8, v_pad = 24;  // extra elements per K / V head row stride (V differs from K)
  uint32_t seed = 1;
  // Tokens every sequence's cache can hold (max_seqlen_kv); 0: the longest
  // length. Two cases that differ only in lengths below it share a layout.
  int capacity = 0;
};
KERNEL_CHECK_PRINT_BY_NAME(Case)

inline int batch_of(const Case& c) { return int(c.lens.size()); }
inline int max_len(const Case& c) {
  return std::max(c.capacity, *std::max_element(c.lens.begin(), c.lens.end()));
}
inline int heads_of(const Case& c) { return c.kv_heads * c.group; }
inline int kv_bytes(const Case& c) { return c.fp8_kv ? 1 : 2; }
inline int kt_bytes(const Case& c) { return c.kt_dtype == SPATTN_KT_CACHE_FLOAT8_E5M2 ? 1 : 2; }
inline float resolved_scale(const Case& c) {
  return c.softmax_scale != 0.0f ? c.softmax_scale : float(1.0 / std::sqrt(double(c.dim)));
}
inline int entries_of(int tokens, int page) { return (tokens + page - 1) / page; }

// Host buffers of a problem (bytes for the caches), in the case's layouts:
// KV pools with their own K and V strides (paged: pages handed out in a
// shuffled order), a KT cache (paged: shuffled blocks), and a guard region
// after every buffer.
struct Host {
  Case c;
  kernel_check::StridedLayout q_layout;  // [batch][tokens][heads][dim]
  int q_tokens = 0;
  std::vector<uint16_t> q;
  int64_t k_strides[3] = {0, 0, 0}, v_strides[3] = {0, 0, 0};  // elements
  int num_pages = 0, max_pages_per_seq = 0;
  std::vector<int32_t> block_table;
  std::vector<uint8_t> k, v;  // pools as bytes
  std::vector<int32_t> seqlens;
  int max_seqlen = 0;
  int64_t kt_strides[3] = {0, 0, 0};  // elements
  int kt_max_entries = 0, kt_entries_per_block = 0, kt_blocks = 0, kt_max_blocks = 0;
  std::vector<int32_t> kt_block_table;
  std::vector<uint8_t> kt;
  spattn_rocket_config config{};

  int batch() const { return batch_of(c); }
  int heads() const { return heads_of(c); }
  // Byte offset of token j's K (or V) row of KV head g of sequence b.
  size_t kv_row(bool values, int b, int j, int g) const {
    const int64_t* s = values ? v_strides : k_strides;
    int64_t e;
    if (c.paged_kv) {
      const int page = block_table[size_t(b) * max_pages_per_seq + j / c.kv_page_size];
      e = page * s[0] + (j % c.kv_page_size) * s[1] + g * s[2];
    } else {
      e = b * s[0] + j * s[1] + g * s[2];
    }
    return size_t(e) * kv_bytes(c);
  }
  // Byte offset of KT entry e of KV head g of sequence b.
  size_t kt_row(int b, int e, int g) const {
    int64_t x;
    if (c.paged_kt) {
      const int block = kt_block_table[size_t(b) * kt_max_blocks + e / kt_entries_per_block];
      x = block * kt_strides[0] + (e % kt_entries_per_block) * kt_strides[1] + g * kt_strides[2];
    } else {
      x = b * kt_strides[0] + e * kt_strides[1] + g * kt_strides[2];
    }
    return size_t(x) * kt_bytes(c);
  }
  double kv_value(bool values, int b, int j, int g, int d) const {
    const std::vector<uint8_t>& pool = values ? v : k;
    const size_t at = kv_row(values, b, j, g) + size_t(d) * kv_bytes(c);
    if (c.fp8_kv) return model_e4m3(pool[at]) * (values ? v_scale() : k_scale());
    uint16_t h;
    std::memcpy(&h, &pool[at], 2);
    return storage_to_float(h, c.dtype == SPATTN_DTYPE_BFLOAT16);
  }
  double q_value(int b, int i, int h, int d) const {
    return storage_to_float(q[q_layout.offset(b, i, h) + size_t(d)], c.dtype == SPATTN_DTYPE_BFLOAT16);
  }
  float k_scale() const { return c.fp8_kv ? 0.0625f : 1.0f; }
  float v_scale() const { return c.fp8_kv ? 0.03125f : 1.0f; }
};

constexpr size_t kGuard = 256;  // bytes (or elements) of guard after each buffer
constexpr uint8_t kPoisonByte = 0xff;

// Lays out a problem for `q_tokens` queries per sequence (W for the context
// phase, 1 for decode) and fills the caches with poison; the generators
// write the values.
inline Host layout(const Case& c, int q_tokens) {
  Host h;
  h.c = c;
  h.q_tokens = q_tokens;
  const int batch = batch_of(c), heads = heads_of(c), D = c.dim;
  h.max_seqlen = max_len(c);
  h.q_layout = kernel_check::make_layout(c.q_layout, batch, q_tokens, heads, D);
  h.q.assign(h.q_layout.elems + kGuard, kernel_check::kPoison16);
  std::mt19937 rng(c.seed * 7919u + 17u);
  const int row_align = 16 / kv_bytes(c);
  // Pads rounded up to whole 16-byte rows (FP8 rows need 16 elements).
  const auto padded = [&](int pad) { return int64_t((pad + row_align - 1) / row_align * row_align); };
  const int64_t k_head = D + padded(c.k_pad), v_head = D + padded(c.v_pad);
  if (c.paged_kv) {
    const int ps = c.kv_page_size;
    h.max_pages_per_seq = entries_of(h.max_seqlen, ps) + 1;
    h.num_pages = batch * h.max_pages_per_seq + 3;
    h.k_strides[2] = k_head;
    h.k_strides[1] = c.kv_heads * k_head + row_align;
    h.k_strides[0] = ps * h.k_strides[1] + row_align;
    h.v_strides[2] = v_head;
    h.v_strides[1] = c.kv_heads * v_head;
    h.v_strides[0] = ps * h.v_strides[1] + 2 * row_align;
    std::vector<int32_t> pages(size_t(h.num_pages));
    std::iota(pages.begin(), pages.end(), 0);
    std::shuffle(pages.begin(), pages.end(), rng);
    h.block_table.assign(size_t(batch) * h.max_pages_per_seq, -1);
    size_t next = 0;
    for (int b = 0; b < batch; ++b) {
      for (int i = 0; i < entries_of(h.max_seqlen, ps); ++i) {
        h.block_table[size_t(b) * h.max_pages_per_seq + i] = pages[next++];
      }
    }
    h.k.assign(size_t(h.num_pages * h.k_strides[0]) * kv_bytes(c) + kGuard, kPoisonByte);
    h.v.assign(size_t(h.num_pages * h.v_strides[0]) * kv_bytes(c) + kGuard, kPoisonByte);
  } else {
    h.k_strides[2] = k_head;
    h.k_strides[1] = c.kv_heads * k_head;
    h.k_strides[0] = int64_t(h.max_seqlen) * h.k_strides[1] + row_align;
    h.v_strides[1] = v_head;  // BHSD-like V: heads outermost within a sequence
    h.v_strides[2] = int64_t(h.max_seqlen) * h.v_strides[1] + row_align;
    h.v_strides[0] = c.kv_heads * h.v_strides[2];
    h.k.assign(size_t(batch * h.k_strides[0]) * kv_bytes(c) + kGuard, kPoisonByte);
    h.v.assign(size_t(batch * h.v_strides[0]) * kv_bytes(c) + kGuard, kPoisonByte);
  }
  h.seqlens.assign(c.lens.begin(), c.lens.end());
  // KT cache: rows of 2 * D values, padded.
  const int kt_align = 16 / kt_bytes(c);
  h.kt_max_entries = entries_of(h.max_seqlen, c.page) + 2;
  const int64_t kt_head = 2 * D + kt_align;
  if (c.paged_kt) {
    h.kt_entries_per_block = 5;  // not a power of two on purpose
    h.kt_max_blocks = entries_of(h.kt_max_entries, h.kt_entries_per_block);
    h.kt_blocks = batch * h.kt_max_blocks + 2;
    h.kt_strides[2] = kt_head;
    h.kt_strides[1] = c.kv_heads * kt_head;
    h.kt_strides[0] = h.kt_entries_per_block * h.kt_strides[1] + kt_align;
    std::vector<int32_t> blocks(size_t(h.kt_blocks));
    std::iota(blocks.begin(), blocks.end(), 0);
    std::shuffle(blocks.begin(), blocks.end(), rng);
    h.kt_block_table.assign(size_t(batch) * h.kt_max_blocks, -1);
    for (size_t i = 0; i < h.kt_block_table.size(); ++i) h.kt_block_table[i] = blocks[i];
    h.kt.assign(size_t(h.kt_blocks * h.kt_strides[0]) * kt_bytes(c) + kGuard, kPoisonByte);
  } else {
    h.kt_strides[2] = kt_head;
    h.kt_strides[1] = c.kv_heads * kt_head;
    h.kt_strides[0] = h.kt_max_entries * h.kt_strides[1] + kt_align;
    h.kt.assign(size_t(batch * h.kt_strides[0]) * kt_bytes(c) + kGuard, kPoisonByte);
  }
  spattn_rocket_config& r = h.config;
  r.struct_size = sizeof r;
  r.window_size = c.window;
  r.kernel_size = c.kernel;
  r.topr = c.topr;
  r.topk = c.topk;
  r.prompt_budget = c.budget;
  r.page_size = c.page;
  r.kt_cache_dtype = c.kt_dtype;
  return h;
}

// Stores a K or V value (dequantized value x; FP8 caches store x / scale).
inline void store_kv(Host& h, bool values, int b, int j, int g, int d, double x) {
  std::vector<uint8_t>& pool = values ? h.v : h.k;
  const size_t at = h.kv_row(values, b, j, g) + size_t(d) * kv_bytes(h.c);
  if (h.c.fp8_kv) {
    const double stored = x / (values ? h.v_scale() : h.k_scale());
    // nearest E4M3 code by search (ties away from an odd mantissa)
    int best = 0;
    double err = INFINITY;
    for (int code = 0; code < 0x7F; ++code) {
      const double e = std::fabs(model_e4m3(uint8_t(code)) - std::fabs(stored));
      if (e < err || (e == err && (code & 1) == 0)) {
        best = code;
        err = e;
      }
    }
    pool[at] = uint8_t((stored < 0 ? 0x80 : 0) | best);
  } else {
    const uint16_t s = float_to_storage(float(x), h.c.dtype == SPATTN_DTYPE_BFLOAT16);
    std::memcpy(&pool[at], &s, 2);
  }
}

inline void store_q(Host& h, int b, int i, int head, int d, double x) {
  h.q[h.q_layout.offset(b, i, head) + size_t(d)] = float_to_storage(float(x), h.c.dtype == SPATTN_DTYPE_BFLOAT16);
}

// ---------------------------------------------------------------------------
// The cases both the CPU reference (in CI) and the kernels (on the device)
// run; the CPU tests assert the decision margins of every one.

// A case's shape, with page 4 (both phases' cases start from it).
inline Case shaped_case(const char* name, int dim, int kv_heads, int group, std::vector<int> lens) {
  Case c;
  c.name = name;
  c.dim = dim;
  c.kv_heads = kv_heads;
  c.group = group;
  c.lens = std::move(lens);
  c.page = 4;
  return c;
}

inline Case context_case(const char* name, int dim, int kv_heads, int group, std::vector<int> lens) {
  Case c = shaped_case(name, dim, kv_heads, group, std::move(lens));
  c.window = 8;
  c.kernel = 7;
  c.budget = 96;
  return c;
}

inline std::vector<Case> context_cases() {
  std::vector<Case> cases;
  cases.push_back(context_case("bf16_contiguous_g2", 64, 2, 2, {300, 96, 50}));
  Case paged = context_case("bf16_paged_g4_bf16kt_even_pool", 128, 2, 4, {260, 140});
  paged.paged_kv = true;
  paged.kt_dtype = SPATTN_KT_CACHE_BFLOAT16;
  paged.paged_kt = true;
  paged.kernel = 8;
  paged.q_layout = {kernel_check::Order::BHSD, 16};
  cases.push_back(paged);
  Case fp8 = context_case("fp8_paged_g1_fp16", 64, 3, 1, {200, 97});
  fp8.dtype = SPATTN_DTYPE_FLOAT16;
  fp8.fp8_kv = true;
  fp8.paged_kv = true;
  fp8.kv_page_size = 32;
  fp8.softmax_scale = 0.09f;
  cases.push_back(fp8);
  // TensorRT-LLM's defaults on a long prompt: W 32, K 63, B 2048, G 8 (two row tiles), many splits.
  Case big = context_case("defaults_g8_two_row_tiles", 128, 2, 8, {3000, 2048, 1000});
  big.window = 32;
  big.kernel = 63;
  big.budget = 2048;
  big.paged_kv = true;
  big.kv_page_size = 64;
  cases.push_back(big);
  return cases;
}

inline Case decode_case(const char* name, int dim, int kv_heads, int group, std::vector<int> lens) {
  Case c = shaped_case(name, dim, kv_heads, group, std::move(lens));
  c.topk = 6;
  c.topr = dim / 3;
  return c;
}

inline std::vector<Case> decode_cases() {
  std::vector<Case> cases;
  cases.push_back(decode_case("bf16_contiguous_g2", 64, 2, 2, {97, 40, 200}));
  Case paged = decode_case("bf16_paged_g4_bf16kt", 128, 2, 4, {130, 64});
  paged.paged_kv = true;
  paged.paged_kt = true;
  paged.kt_dtype = SPATTN_KT_CACHE_BFLOAT16;
  paged.topr = 0.25;
  cases.push_back(paged);
  Case fp8 = decode_case("fp8_fp16_g1_all_dims", 64, 2, 1, {77, 21});
  fp8.dtype = SPATTN_DTYPE_FLOAT16;
  fp8.fp8_kv = true;
  fp8.topr = 128;
  fp8.softmax_scale = 0.1f;
  cases.push_back(fp8);
  cases.push_back(decode_case("fewer_entries_than_topk", 64, 1, 2, {9, 1}));
  // The defaults after compaction: 2048 kept tokens plus generated ones, topk 64 of page 4.
  Case big = decode_case("defaults_topk64_page4", 128, 2, 4, {2049, 2300});
  big.topk = 64;
  big.topr = 128;
  big.paged_kv = true;
  big.kv_page_size = 64;
  cases.push_back(big);
  return cases;
}

// ---------------------------------------------------------------------------
// Generators. Per sequence and KV head g, a sign pattern s_g (+-1 per dim)
// gives the direction the queries look along.

inline std::vector<int> sign_pattern(std::mt19937& rng, int dim) {
  std::vector<int> s(static_cast<size_t>(dim));
  for (int& x : s) x = (rng() & 1) ? 1 : -1;
  return s;
}

// Context phase: window queries q = s_g + noise; prefix keys
// k_j = a_j s_g / sqrt(D) + noise, so the logit of key j is about a_j
// (default scale). Spikes: per KV head, enough positions to cover the
// budget (at least K apart, on a shuffled grid), at distinct levels from 8
// down to 2 (their softmax masses differ by a factor e^(6 / (n - 1)) or
// more); the other keys have a = 0 and small noise. A spike at p covers the
// K pooled positions whose window holds it, so the kept prefix is the union
// of the strongest spikes' coverages, the last one partly (ties lower first).
inline void generate_context(Host& h) {
  const Case& c = h.c;
  std::mt19937 rng(c.seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  const int D = c.dim, W = c.window, G = c.group, K = c.kernel;
  const double inv_sqrt_d = 1.0 / std::sqrt(double(D));
  for (int b = 0; b < batch_of(c); ++b) {
    const int L = c.lens[size_t(b)];
    for (int g = 0; g < c.kv_heads; ++g) {
      const std::vector<int> s = sign_pattern(rng, D);
      for (int hh = 0; hh < G; ++hh) {
        for (int i = 0; i < W; ++i) {
          for (int d = 0; d < D; ++d) store_q(h, b, i, g * G + hh, d, s[size_t(d)] + 0.15 * noise(rng));
        }
      }
      const int prefix = std::max(0, L - W);
      const int slots = prefix / K;
      const int spikes = std::min(slots, (c.budget - W + K - 1) / K + 2);
      std::vector<int> grid(static_cast<size_t>(slots));
      std::iota(grid.begin(), grid.end(), 0);
      std::shuffle(grid.begin(), grid.end(), rng);
      std::vector<double> a(static_cast<size_t>(L), 0.0);
      for (int m = 0; m < spikes; ++m) {
        const int p = grid[size_t(m)] * K + int(rng() % unsigned(std::max(1, K / 2)));
        a[size_t(p)] = spikes > 1 ? 8.0 - 6.0 * m / (spikes - 1) : 8.0;
      }
      for (int j = 0; j < L; ++j) {
        for (int d = 0; d < D; ++d) {
          store_kv(h, false, b, j, g, d, a[size_t(j)] * s[size_t(d)] * inv_sqrt_d + 0.05 * noise(rng));
          store_kv(h, true, b, j, g, d, noise(rng));
        }
      }
    }
  }
}

// Decode: the query of KV head g's heads has magnitude w_d on dim d (w a
// shuffled ramp, so the group's sum |q_d| ranks the dims) with per-head
// signs that agree with s_g on the heaviest dims and are random elsewhere.
// Keys: topk + 3 spike entries per KV head at distinct levels (logits from 5
// down to 1.5) whose keys all point along s_g with little noise; the other
// keys are noise (bounds near 1). The KT cache holds the entries of tokens
// [0, L - 1) (built here by the model), poison elsewhere: the step adds
// token L - 1.
inline void generate_decode(Host& h);

// ---------------------------------------------------------------------------
// The float64 model of the context phase.

struct ContextExpected {
  std::vector<int32_t> kept;       // [batch][kv heads][budget], -1 padded
  std::vector<uint8_t> k, v, kt;   // expected buffers after the phase (bytes)
  std::vector<int32_t> seqlens;
  double margin = INFINITY;        // smallest decision margin / its required size (>= 1 to trust)
};

// The window rows' probabilities summed per prefix key, in float64.
inline std::vector<double> model_window_sums(const Host& h, int b, int g, double scale, double* dot_abs_max) {
  const Case& c = h.c;
  const int L = c.lens[size_t(b)], W = c.window, prefix = L - W, D = c.dim;
  std::vector<double> keys(size_t(prefix) * D), q(static_cast<size_t>(D));
  for (int j = 0; j < prefix; ++j) {
    for (int d = 0; d < D; ++d) keys[size_t(j) * D + d] = h.kv_value(false, b, j, g, d);
  }
  std::vector<double> S(static_cast<size_t>(prefix), 0.0), logit(static_cast<size_t>(prefix));
  for (int hh = 0; hh < c.group; ++hh) {
    for (int i = 0; i < W; ++i) {
      for (int d = 0; d < D; ++d) q[size_t(d)] = h.q_value(b, i, g * c.group + hh, d);
      double mx = -INFINITY;
      for (int j = 0; j < prefix; ++j) {
        const kernel_check::Dot dot = kernel_check::dot64(q.data(), &keys[size_t(j) * D], D);
        *dot_abs_max = std::max(*dot_abs_max, dot.abs);
        logit[size_t(j)] = scale * dot.value;
        mx = std::max(mx, logit[size_t(j)]);
      }
      double z = 0.0;
      for (double x : logit) z += std::exp(x - mx);
      for (int j = 0; j < prefix; ++j) S[size_t(j)] += std::exp(logit[size_t(j)] - mx) / z;
    }
  }
  return S;
}

// Relative error bound of the kernels' S: the logits err by at most delta =
// scale * gamma(D, 2^-23) * max sum |q_d k_d| (tensor-core dot products) plus
// an fp32 rounding of the scaled logit; a probability exp(s - lse) then by
// 2 delta (s and the row's log-sum-exp), plus MUFU.EX2 and the partial
// log-sum-exp merge (2^-22 each, a few of them), and S's fp32 sum over the
// G * W rows by gamma(G W + 8, 2^-23).
inline double window_sum_rel_err(const Case& c, double scale, double dot_abs_max) {
  const double delta = scale * kernel_check::gamma(c.dim, kernel_check::kTensorCoreAccumUnit) * dot_abs_max +
                       4 * kernel_check::kFp32Unit * scale * dot_abs_max;
  return 2.0 * delta + 8 * kernel_check::kEx2ApproxRel +
         kernel_check::gamma(c.group * c.window + 8, kernel_check::kTensorCoreAccumUnit);
}

inline ContextExpected model_context(const Host& h) {
  const Case& c = h.c;
  ContextExpected e;
  const int batch = batch_of(c), B = c.budget, W = c.window, K = c.kernel, D = c.dim;
  const double scale = resolved_scale(c);
  e.kept.assign(size_t(batch) * c.kv_heads * B, -1);
  e.k = h.k;
  e.v = h.v;
  e.kt = h.kt;
  e.seqlens.resize(static_cast<size_t>(batch));
  const bool e5m2 = c.kt_dtype == SPATTN_KT_CACHE_FLOAT8_E5M2;
  const size_t kvb = size_t(kv_bytes(c)), ktb = size_t(kt_bytes(c));
  for (int b = 0; b < batch; ++b) {
    const int L = c.lens[size_t(b)], kept_len = std::min(L, B);
    e.seqlens[size_t(b)] = kept_len;
    for (int g = 0; g < c.kv_heads; ++g) {
      std::vector<int32_t> kept;
      if (L < B) {
        for (int j = 0; j < L; ++j) kept.push_back(j);
      } else {
        const int prefix = L - W, half = K / 2;
        double dot_abs_max = 0.0;
        const std::vector<double> S = model_window_sums(h, b, g, scale, &dot_abs_max);
        // Pooled value and its source (the window's largest, lowest position on ties).
        std::vector<double> pooled(static_cast<size_t>(prefix));
        std::vector<int> source(static_cast<size_t>(prefix));
        for (int j = 0; j < prefix; ++j) {
          int best = -1;
          for (int t = std::max(0, j - half); t <= std::min(prefix - 1, j - half + K - 1); ++t) {
            if (best < 0 || S[size_t(t)] > S[size_t(best)]) best = t;
          }
          pooled[size_t(j)] = S[size_t(best)];
          source[size_t(j)] = best;
        }
        std::vector<int> order(static_cast<size_t>(prefix));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int x, int y) {
          return pooled[size_t(x)] != pooled[size_t(y)] ? pooled[size_t(x)] > pooled[size_t(y)] : x < y;
        });
        const int k = B - W;
        const bool cut = k < prefix;  // L == B keeps every position: no decision
        // Margin: every position of another source than the k-th's must be
        // away from its value, and every position of that source must have
        // no rival near it in its window; both by the kernels' error bound.
        const double rel = window_sum_rel_err(c, scale, dot_abs_max);
        const int star = source[size_t(order[size_t(k - 1)])];
        const double v_star = S[size_t(star)];
        for (int j = 0; j < prefix && cut; ++j) {
          double gap;
          if (source[size_t(j)] != star) {
            gap = std::fabs(pooled[size_t(j)] - v_star);
          } else {
            double rival = 0.0;
            for (int t = std::max(0, j - half); t <= std::min(prefix - 1, j - half + K - 1); ++t) {
              if (t != star) rival = std::max(rival, S[size_t(t)]);
            }
            gap = v_star - rival;
          }
          e.margin = std::min(e.margin, gap / (2.0 * rel * (v_star + pooled[size_t(j)]) + 1e-300));
        }
        kept.assign(order.begin(), order.begin() + k);
        std::sort(kept.begin(), kept.end());
        for (int j = prefix; j < L; ++j) kept.push_back(j);
      }
      for (int t = 0; t < kept_len; ++t) e.kept[(size_t(b) * c.kv_heads + g) * B + t] = kept[size_t(t)];
      if (L >= B) {
        for (int t = 0; t < kept_len; ++t) {
          std::memcpy(&e.k[h.kv_row(false, b, t, g)], &h.k[h.kv_row(false, b, kept[size_t(t)], g)], D * kvb);
          std::memcpy(&e.v[h.kv_row(true, b, t, g)], &h.v[h.kv_row(true, b, kept[size_t(t)], g)], D * kvb);
        }
      }
      // KT entries of the compacted keys.
      for (int x = 0; x < entries_of(kept_len, c.page); ++x) {
        uint8_t* row = &e.kt[h.kt_row(b, x, g)];
        for (int d = 0; d < D; ++d) {
          double lo = INFINITY, hi = -INFINITY;
          for (int t = x * c.page; t < std::min(kept_len, x * c.page + c.page); ++t) {
            const double key = h.kv_value(false, b, kept[size_t(t)], g, d);
            lo = std::min(lo, key);
            hi = std::max(hi, key);
          }
          model_store_kt(lo, e5m2, row + size_t(d) * ktb);
          model_store_kt(hi, e5m2, row + size_t(D + d) * ktb);
        }
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------
// The float64 model of the decode step.

struct DecodeExpected {
  std::vector<uint8_t> kt;           // the KT cache after the update
  std::vector<int32_t> selected;     // [batch][kv heads][topk * page]
  std::vector<double> out;           // [batch][heads][dim]
  std::vector<double> lse;           // [batch][heads]
  std::vector<double> abs_dev;       // [batch][heads]: max over d of sum_j p_j |v_jd - o_d| / Z
  std::vector<double> abs_v;         // [batch][heads]: max over d of sum_j p_j |v_jd| / Z
  std::vector<double> dot_abs;       // [batch][heads]: max_j sum_d |q_d k_jd|
  std::vector<int> attended;         // [batch][heads]: keys attended
  double margin = INFINITY;          // decisions (dims and entries) vs their error bounds
};

// Relative error of the kernels' entry scores: the bound's fp32 sum over r
// dims (gamma(r, 2^-23) of sum |q_d k_d|, as a logit error delta), the
// softmax's MUFU.EX2 and normalization, the mean over G (fp32): the score's
// relative error is at most 2 delta + 2^-20 + gamma(G + 4, 2^-23).
inline double entry_score_rel_err(const Case& c, int r, double scale, double bound_abs_max) {
  const double delta = scale * kernel_check::gamma(r + 2, kernel_check::kTensorCoreAccumUnit) * bound_abs_max;
  return 2.0 * delta + 0x1p-20 + kernel_check::gamma(c.group + 4, kernel_check::kTensorCoreAccumUnit);
}

inline int resolved_topr(const Case& c) {
  if (c.topr < 1.0) return std::max(1, int(std::floor(c.topr * c.dim)));
  return std::min(int(c.topr), c.dim);
}

// Indices of the k largest (ties lower first), increasing; and the margin
// of the cut: gap between the k-th and the (k+1)-th over `err(value)`
// (infinite when nothing is cut off; exact ties count as infinite margin
// when `exact_ties`).
inline std::vector<int> model_top_k(const std::vector<double>& x, int k, const std::function<double(double)>& err,
                                    bool exact_ties, double* margin) {
  std::vector<int> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return x[size_t(a)] != x[size_t(b)] ? x[size_t(a)] > x[size_t(b)] : a < b; });
  if (k < int(x.size())) {
    const double a = x[size_t(order[size_t(k - 1)])], b = x[size_t(order[size_t(k)])];
    if (!(exact_ties && a == b)) *margin = std::min(*margin, (a - b) / (err(a) + err(b) + 1e-300));
  }
  std::vector<int> top(order.begin(), order.begin() + k);
  std::sort(top.begin(), top.end());
  return top;
}

inline DecodeExpected model_decode(const Host& h) {
  const Case& c = h.c;
  DecodeExpected e;
  const int batch = batch_of(c), D = c.dim, G = c.group, P = c.page, H = heads_of(c);
  const int r = resolved_topr(c), max_sel = c.topk * P;
  const double scale = resolved_scale(c);
  const bool e5m2 = c.kt_dtype == SPATTN_KT_CACHE_FLOAT8_E5M2;
  const size_t ktb = size_t(kt_bytes(c));
  e.kt = h.kt;
  e.selected.assign(size_t(batch) * c.kv_heads * max_sel, -1);
  e.out.assign(size_t(batch) * H * D, 0.0);
  e.lse.assign(size_t(batch) * H, -INFINITY);
  e.abs_dev.assign(size_t(batch) * H, 0.0);
  e.abs_v.assign(size_t(batch) * H, 0.0);
  e.dot_abs.assign(size_t(batch) * H, 0.0);
  e.attended.assign(size_t(batch) * H, 0);
  for (int b = 0; b < batch; ++b) {
    const int L = c.lens[size_t(b)];
    if (L == 0) continue;
    const int n = entries_of(L, P);
    for (int g = 0; g < c.kv_heads; ++g) {
      // KT update with the new key.
      const int x = (L - 1) / P;
      uint8_t* row = &e.kt[h.kt_row(b, x, g)];
      for (int d = 0; d < D; ++d) {
        const double key = h.kv_value(false, b, L - 1, g, d);
        double lo = key, hi = key;
        if ((L - 1) % P != 0) {
          lo = std::min(lo, model_load_kt(row + size_t(d) * ktb, e5m2));
          hi = std::max(hi, model_load_kt(row + size_t(D + d) * ktb, e5m2));
        }
        model_store_kt(lo, e5m2, row + size_t(d) * ktb);
        model_store_kt(hi, e5m2, row + size_t(D + d) * ktb);
      }
      // The bound's dims: the group's sum of |q_d| is exact in fp32 for these
      // inputs (few 16-bit terms), so exact ties need no margin.
      std::vector<double> mass(size_t(D), 0.0);
      for (int hh = 0; hh < G; ++hh) {
        for (int d = 0; d < D; ++d) mass[size_t(d)] += std::fabs(h.q_value(b, 0, g * G + hh, d));
      }
      const std::vector<int> dims = model_top_k(
          mass, std::min(r, D), [&](double v) { return G * kernel_check::kFp32Unit * v; }, true, &e.margin);
      // Bounds, softmax per head, group mean.
      std::vector<double> mean(size_t(n), 0.0);
      double bound_abs_max = 0.0;
      for (int hh = 0; hh < G; ++hh) {
        std::vector<double> u(static_cast<size_t>(n));
        for (int y = 0; y < n; ++y) {
          const uint8_t* kt_row = &e.kt[h.kt_row(b, y, g)];
          double sum = 0.0, abs_sum = 0.0;
          for (const int d : dims) {
            const double qd = h.q_value(b, 0, g * G + hh, d);
            const double t = std::max(qd * model_load_kt(kt_row + size_t(d) * ktb, e5m2),
                                      qd * model_load_kt(kt_row + size_t(D + d) * ktb, e5m2));
            sum += t;
            abs_sum += std::fabs(t);
          }
          bound_abs_max = std::max(bound_abs_max, abs_sum);
          u[size_t(y)] = scale * sum;
        }
        const double mx = *std::max_element(u.begin(), u.end());
        double z = 0.0;
        for (double v : u) z += std::exp(v - mx);
        for (int y = 0; y < n; ++y) mean[size_t(y)] += std::exp(u[size_t(y)] - mx) / z / G;
      }
      const double rel = entry_score_rel_err(c, r, scale, bound_abs_max);
      const std::vector<int> top =
          model_top_k(mean, std::min(c.topk, n), [&](double v) { return rel * v; }, false, &e.margin);
      std::vector<int> tokens;
      for (int y : top) {
        for (int j = y * P; j < std::min(L, y * P + P); ++j) tokens.push_back(j);
      }
      for (size_t t = 0; t < tokens.size(); ++t) {
        e.selected[(size_t(b) * c.kv_heads + g) * max_sel + t] = tokens[t];
      }
      // Attention of each head over the tokens.
      for (int hh = 0; hh < G; ++hh) {
        const int head = g * G + hh;
        const size_t row_i = size_t(b) * H + head;
        std::vector<double> s(tokens.size());
        double mx = -INFINITY;
        for (size_t t = 0; t < tokens.size(); ++t) {
          double dot = 0.0, dabs = 0.0;
          for (int d = 0; d < D; ++d) {
            const double p = h.q_value(b, 0, head, d) * h.kv_value(false, b, tokens[t], g, d);
            dot += p;
            dabs += std::fabs(p);
          }
          e.dot_abs[row_i] = std::max(e.dot_abs[row_i], dabs);
          s[t] = scale * dot;
          mx = std::max(mx, s[t]);
        }
        double z = 0.0;
        for (double v : s) z += std::exp(v - mx);
        for (int d = 0; d < D; ++d) {
          double o = 0.0;
          for (size_t t = 0; t < tokens.size(); ++t) o += std::exp(s[t] - mx) / z * h.kv_value(true, b, tokens[t], g, d);
          e.out[row_i * D + d] = o;
        }
        for (int d = 0; d < D; ++d) {
          double dev = 0.0, mag = 0.0;
          for (size_t t = 0; t < tokens.size(); ++t) {
            const double p = std::exp(s[t] - mx) / z, v = h.kv_value(true, b, tokens[t], g, d);
            dev += p * std::fabs(v - e.out[row_i * D + d]);
            mag += p * std::fabs(v);
          }
          e.abs_dev[row_i] = std::max(e.abs_dev[row_i], dev);
          e.abs_v[row_i] = std::max(e.abs_v[row_i], mag);
        }
        e.lse[row_i] = tokens.empty() ? -INFINITY : mx + std::log(z);
        e.attended[row_i] = int(tokens.size());
      }
    }
  }
  return e;
}

inline void generate_decode(Host& h) {
  const Case& c = h.c;
  std::mt19937 rng(c.seed + 1000u);
  std::normal_distribution<double> noise(0.0, 1.0);
  const int D = c.dim, G = c.group, P = c.page;
  std::vector<double> ramp(static_cast<size_t>(D));
  for (int d = 0; d < D; ++d) ramp[size_t(d)] = 0.25 + 1.5 * d / D;
  const bool e5m2 = c.kt_dtype == SPATTN_KT_CACHE_FLOAT8_E5M2;
  const size_t ktb = size_t(kt_bytes(c));
  for (int b = 0; b < batch_of(c); ++b) {
    const int L = c.lens[size_t(b)];
    const int n = entries_of(L, P);
    for (int g = 0; g < c.kv_heads; ++g) {
      std::vector<double> w = ramp;
      std::shuffle(w.begin(), w.end(), rng);
      const std::vector<int> s = sign_pattern(rng, D);
      for (int hh = 0; hh < G; ++hh) {
        for (int d = 0; d < D; ++d) {
          const bool heavy = w[size_t(d)] > 1.0;
          const int sign = heavy || (rng() & 3) != 0 ? s[size_t(d)] : -s[size_t(d)];
          store_q(h, b, 0, g * G + hh, d, sign * w[size_t(d)]);
        }
      }
      // Spike entries (not the last, partial one, which the new token joins).
      std::vector<int> entries(static_cast<size_t>(std::max(0, n - 1)));
      std::iota(entries.begin(), entries.end(), 0);
      std::shuffle(entries.begin(), entries.end(), rng);
      const int spikes = std::min(c.topk + 3, int(entries.size()));
      std::vector<double> level(static_cast<size_t>(std::max(n, 1)), 0.0);
      for (int m = 0; m < spikes; ++m) {
        level[size_t(entries[size_t(m)])] = spikes > 1 ? 5.0 - 3.5 * m / (spikes - 1) : 5.0;
      }
      for (int j = 0; j < L; ++j) {
        // q . (a s / (0.85 sqrt(D))) is about a sqrt(D): the logit is about a.
        const double a = level[size_t(j / P)];
        const double along = a / (0.85 * std::sqrt(double(D)));
        const double spread = a > 0 ? 0.01 : 0.08;
        for (int d = 0; d < D; ++d) {
          store_kv(h, false, b, j, g, d, along * s[size_t(d)] + spread * noise(rng));
          store_kv(h, true, b, j, g, d, noise(rng));
        }
      }
      // The KT cache of tokens [0, L - 1): min and max of the stored keys.
      for (int x = 0; x < entries_of(L - 1, P); ++x) {
        uint8_t* row = &h.kt[h.kt_row(b, x, g)];
        for (int d = 0; d < D; ++d) {
          double lo = INFINITY, hi = -INFINITY;
          for (int j = x * P; j < std::min(L - 1, x * P + P); ++j) {
            lo = std::min(lo, h.kv_value(false, b, j, g, d));
            hi = std::max(hi, h.kv_value(false, b, j, g, d));
          }
          model_store_kt(lo, e5m2, row + size_t(d) * ktb);
          model_store_kt(hi, e5m2, row + size_t(D + d) * ktb);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Arguments, with the mutations applied. Pointers: host for the CPU
// reference, device for the kernels.

struct Pointers {
  const void* q = nullptr;
  void* k = nullptr;
  void* v = nullptr;
  const int32_t* block_table = nullptr;
  const int32_t* seqlens = nullptr;
  void* kt = nullptr;
  const int32_t* kt_block_table = nullptr;
  int32_t* seqlens_out = nullptr;
  int32_t* kept = nullptr;
  void* out = nullptr;
  float* lse = nullptr;
  int32_t* selected = nullptr;
  void* workspace = nullptr;
  size_t workspace_size = 0;
};

// Everything the args point to (the structs the args reference by pointer).
struct Args {
  spattn_rocket_config config{};
  spattn_kv_cache kv{};
  spattn_kt_cache kt{};
  spattn_rocket_context_args context{};
  spattn_rocket_decode_args decode{};
  Args() = default;
  Args(const Args&) = delete;
  Args& operator=(const Args&) = delete;
};

// The decode output [batch][1][heads][dim] in the case's output layout.
inline kernel_check::StridedLayout out_layout(const Host& h) {
  return kernel_check::make_layout(h.c.out_layout, h.batch(), 1, h.heads(), h.c.dim);
}

inline void fill_args(const Host& h, const Pointers& p, Args& a) {
  const Case& c = h.c;
  a.config = h.config;
  if (kernel_check::mutation_active("rocket_pool_wider")) a.config.kernel_size += 2;
  if (kernel_check::mutation_active("rocket_kt_page_doubled")) a.config.page_size *= 2;
  if (kernel_check::mutation_active("rocket_topk_minus_one")) a.config.topk -= 1;
  spattn_kv_cache& kv = a.kv;
  kv = spattn_kv_cache{};
  kv.struct_size = sizeof kv;
  kv.layout = c.paged_kv ? SPATTN_KV_LAYOUT_PAGED : SPATTN_KV_LAYOUT_CONTIGUOUS;
  kv.dtype = c.fp8_kv ? SPATTN_DTYPE_FLOAT8_E4M3 : c.dtype;
  kv.num_kv_heads = c.kv_heads;
  kv.head_dim = c.dim;
  kv.k = p.k;
  kv.v = p.v;
  const bool v_as_k = kernel_check::mutation_active("rocket_v_with_k_strides");
  for (int i = 0; i < 3; ++i) {
    kv.k_strides[i] = h.k_strides[i];
    kv.v_strides[i] = v_as_k ? h.k_strides[i] : h.v_strides[i];
  }
  kv.k_scale = c.fp8_kv ? h.k_scale() : 0.0f;
  kv.v_scale = c.fp8_kv ? h.v_scale() : 0.0f;
  kv.seqlens_kv = p.seqlens;
  kv.max_seqlen_kv = h.max_seqlen;
  if (c.paged_kv) {
    kv.page_size = c.kv_page_size;
    kv.num_pages = h.num_pages;
    kv.block_table = p.block_table;
    kv.max_pages_per_seq = h.max_pages_per_seq;
  }
  spattn_kt_cache& kt = a.kt;
  kt = spattn_kt_cache{};
  kt.struct_size = sizeof kt;
  kt.layout = c.paged_kt ? SPATTN_KV_LAYOUT_PAGED : SPATTN_KV_LAYOUT_CONTIGUOUS;
  kt.dtype = c.kt_dtype;
  kt.num_kv_heads = c.kv_heads;
  kt.head_dim = c.dim;
  kt.data = p.kt;
  for (int i = 0; i < 3; ++i) kt.strides[i] = h.kt_strides[i];
  kt.max_entries = h.kt_max_entries;
  if (c.paged_kt) {
    kt.entries_per_block = h.kt_entries_per_block;
    kt.num_blocks = h.kt_blocks;
    kt.block_table = p.kt_block_table;
    kt.max_blocks_per_seq = h.kt_max_blocks;
  }
  float scale = c.softmax_scale;
  if (kernel_check::mutation_active("rocket_wrong_softmax_scale")) scale = 1.5f * resolved_scale(c);
  int64_t q_strides[3];
  h.q_layout.strides(q_strides);

  spattn_rocket_context_args& x = a.context;
  x = spattn_rocket_context_args{};
  x.struct_size = sizeof x;
  x.config = &a.config;
  x.dtype = c.dtype;
  x.batch = h.batch();
  x.num_heads = h.heads();
  x.q_window = p.q;
  for (int i = 0; i < 3; ++i) x.q_strides[i] = q_strides[i];
  x.kv_cache = &a.kv;
  x.kt_cache = &a.kt;
  x.softmax_scale = scale;
  x.seqlens_out = p.seqlens_out;
  x.kept_indices = p.kept;
  x.workspace = p.workspace;
  x.workspace_size = p.workspace_size;

  spattn_rocket_decode_args& y = a.decode;
  y = spattn_rocket_decode_args{};
  y.struct_size = sizeof y;
  y.config = &a.config;
  y.dtype = c.dtype;
  y.batch = h.batch();
  y.num_heads = h.heads();
  y.q = p.q;
  for (int i = 0; i < 3; ++i) y.q_strides[i] = q_strides[i];
  y.out = p.out;
  out_layout(h).strides(y.out_strides);
  y.kv_cache = &a.kv;
  y.kt_cache = &a.kt;
  y.softmax_scale = scale;
  y.lse = p.lse;
  y.selected_indices = p.selected;
  y.workspace = p.workspace;
  y.workspace_size = p.workspace_size;
}

// ---------------------------------------------------------------------------
// Tolerances of the decode step's attention output (the decisions, checked
// exactly, come from inputs whose margins the model asserts).

// The arithmetic of an implementation, as the error bounds need it.
struct Arithmetic {
  const char* name;
  double dot_unit;       // per-operation error of the q.k accumulation (over head_dim terms)
  double exp_rel;        // relative error of one exp
  double accum_unit;     // per-operation error of the P.V and row-sum accumulations
  double p_round_unit;   // P rounded before P.V (0: not rounded)
};

// The CPU reference (the dense decode reference on the selected keys): fp32
// dot products in order, double exp and accumulation, P unrounded.
constexpr Arithmetic kReferenceArithmetic{"CPU reference", kernel_check::kFp32Unit, 0x1p-52, 0x1p-53, 0.0};

// The kernels: tensor-core Q.K and P.V (fp32 accumulation, 2^-23),
// MUFU.EX2, fp32 row sums, P rounded to the queries' 16-bit format.
inline Arithmetic kernel_arithmetic(spattn_dtype dtype) {
  return {"kernel", kernel_check::kTensorCoreAccumUnit, kernel_check::kEx2ApproxRel,
          kernel_check::kTensorCoreAccumUnit, kernel_check::storage_format(dtype).unit};
}

// One output element against the float64 model (O = sum_j p_j v_j / Z over
// the n attended keys; dev = sum_j p_j |v_j - O| / Z, mag = sum_j p_j |v_j| / Z):
//  - the logits err by delta = c gamma(D, dot_unit) sum_d |q_d k_d| (+ the
//    fp32 products by the scale, 4 u32 of it), so each p_j by a factor within
//    1 +- eps, eps = exp(delta)(1 + exp_rel) - 1; p_j is in the numerator and
//    Z alike: |dO| <= 2 eps dev;
//  - the numerator and Z accumulate n terms plus rescales and split merges:
//    gamma(n + 64, accum_unit) each, 2 gamma mag;
//  - P rounded before P.V (kernels): p_round_unit mag (Z sums the unrounded P);
//  - the FP8 v_scale product, 1 / Z and the merge of splits: 8 u32 |O|;
//  - the output's rounding to storage: u |O'| (+ half a subnormal in fp16).
inline double output_tolerance(const Arithmetic& a, const Case& c, double want, double dev, double mag,
                               double dot_abs, int keys) {
  const kernel_check::StorageFormat fmt = kernel_check::storage_format(c.dtype);
  const double scale = resolved_scale(c);
  const double delta = scale * (kernel_check::gamma(c.dim, a.dot_unit) + 4 * kernel_check::kFp32Unit) * dot_abs;
  const double eps = std::exp(delta) * (1.0 + a.exp_rel) - 1.0;
  const double g = kernel_check::gamma(keys + 64.0, a.accum_unit);
  const double before = (2.0 * eps * dev + 2.0 * g * mag + a.p_round_unit * (1.0 + eps) * mag) / (1.0 - eps - g) +
                        8.0 * kernel_check::kFp32Unit * std::fabs(want);
  return before + fmt.unit * (std::fabs(want) + before) + fmt.abs_floor;
}

// A row's log-sum-exp: the logit error (the maximum moves with the logits),
// Z's relative error (the exps, the accumulation), then the fp32 log, sums and
// product by ln 2 (a few u32 of |lse| + log n + 1).
inline double lse_tolerance(const Arithmetic& a, const Case& c, double want, double dot_abs, int keys) {
  const double scale = resolved_scale(c);
  const double delta = scale * (kernel_check::gamma(c.dim, a.dot_unit) + 4 * kernel_check::kFp32Unit) * dot_abs;
  const double z_rel = 2.0 * a.exp_rel + kernel_check::gamma(keys + 64.0, a.accum_unit);
  return delta + z_rel + 8.0 * kernel_check::kFp32Unit * (2.0 * std::fabs(want) + std::log(std::max(1, keys)) + 1.0);
}

// ---------------------------------------------------------------------------
// Checks (collect, never assert).

// Two byte buffers equal; a difference is located for the report.
inline void same_bytes(kernel_check::Verdict& v, const std::vector<uint8_t>& got, const std::vector<uint8_t>& want,
                       const char* what) {
  if (got.size() != want.size()) {
    v.fail(std::string(what) + ": sizes differ");
    return;
  }
  size_t diffs = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i] && diffs++ == 0) first = i;
  }
  if (diffs > 0) {
    v.fail(std::string(what) + ": " + std::to_string(diffs) + " byte(s) differ, first at byte " + std::to_string(first) +
           " (got " + std::to_string(got[first]) + ", want " + std::to_string(want[first]) + ")");
  }
}

// What a context-phase run left behind.
struct ContextResult {
  std::vector<int32_t> kept, seqlens_out;
  std::vector<uint8_t> k, v, kt;
};

inline kernel_check::Verdict check_context(const Host& h, const ContextExpected& e, const ContextResult& r) {
  kernel_check::Verdict v("rocket context");
  const int B = h.c.budget, kvh = h.c.kv_heads;
  kernel_check::same_map(v, r.kept, e.kept, [&](size_t i) {
    return "kept_indices[" + std::to_string(i / (size_t(kvh) * B)) + "][" + std::to_string(i / B % kvh) + "][" +
           std::to_string(i % B) + "]";
  });
  kernel_check::same_map(v, r.seqlens_out, e.seqlens, [](size_t i) { return "seqlens_out[" + std::to_string(i) + "]"; });
  same_bytes(v, r.k, e.k, "K pool");
  same_bytes(v, r.v, e.v, "V pool");
  same_bytes(v, r.kt, e.kt, "KT cache");
  return v;
}

// What a decode run left behind.
struct DecodeResult {
  std::vector<uint8_t> kt;
  std::vector<int32_t> selected;
  std::vector<uint16_t> out;
  std::vector<float> lse;
};

inline kernel_check::Verdict check_decode(const Host& h, const DecodeExpected& e, const Arithmetic& a,
                                          const DecodeResult& r) {
  kernel_check::Verdict v(std::string("rocket decode (") + a.name + ")");
  const Case& c = h.c;
  const int H = h.heads(), D = c.dim, max_sel = c.topk * c.page;
  same_bytes(v, r.kt, e.kt, "KT cache");
  kernel_check::same_map(v, r.selected, e.selected, [&](size_t i) {
    return "selected_indices[" + std::to_string(i / (size_t(c.kv_heads) * max_sel)) + "][" +
           std::to_string(i / max_sel % c.kv_heads) + "][" + std::to_string(i % max_sel) + "]";
  });
  const kernel_check::StridedLayout ol = out_layout(h);
  const bool bf16 = c.dtype == SPATTN_DTYPE_BFLOAT16;
  for (int b = 0; b < h.batch(); ++b) {
    for (int head = 0; head < H; ++head) {
      const size_t row = size_t(b) * H + head;
      for (int d = 0; d < D; ++d) {
        const double want = e.out[row * D + d];
        const double got = storage_to_float(r.out[ol.offset(b, 0, head) + size_t(d)], bf16);
        v.value(got, want,
                output_tolerance(a, c, want, e.abs_dev[row], e.abs_v[row], e.dot_abs[row], e.attended[row]),
                [&] { return "out[" + std::to_string(b) + "][" + std::to_string(head) + "][" + std::to_string(d) + "]"; });
      }
      if (!r.lse.empty()) {
        v.value(r.lse[row], e.lse[row], lse_tolerance(a, c, e.lse[row], e.dot_abs[row], e.attended[row]),
                [&] { return "lse[" + std::to_string(b) + "][" + std::to_string(head) + "]"; });
      }
    }
  }
  kernel_check::untouched_outside(v, r.out, kernel_check::element_mask(ol, h.batch(), 1, H, D, r.out.size()),
                                  kernel_check::kPoison16);
  return v;
}

}  // namespace rocket_test
