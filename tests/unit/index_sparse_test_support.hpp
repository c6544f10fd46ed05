// Test support of the index-sparse family (CPU and GPU tests): host KV
// caches (contiguous or paged with shuffled pages, 16-bit or FP8), index
// lists with holes, shuffles, duplicates and out-of-range entries, and
// INDEPENDENT float64 models of index-sparse attention, the DSA indexer and
// top-k selection. Nothing here calls or copies src/attention/ beyond the
// 16-bit and FP8 decoders/encoders of the stored values.
//
// Tolerances (tests/README.md: derived from the formats, never tuned):
//  - CPU references compute in float64 and round once: an output element
//    errs by at most the output format's unit times its magnitude (plus the
//    format's absolute floor); the LSE by float32's unit; float64's own error
//    (< 2^-50 relative of the terms) is bounded by kFloat64Noise.
//  - The kernels: see sparse_kernel_tolerance.
#pragma once

#include <spattn/spattn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/kernel_check.hpp"
#include "attention/fp8.hpp"
#include "attention/half_float.hpp"

namespace index_sparse_test {

using spattn::attention::e4m3_to_float;
using spattn::attention::float_to_e4m3;
using spattn::attention::float_to_storage;
using spattn::attention::storage_to_float;

constexpr double kInf = std::numeric_limits<double>::infinity();
// float64 sums of a few thousand terms: relative error far below 2^-40.
constexpr double kFloat64Noise = 0x1p-40;

inline bool is_fp8(spattn_dtype d) { return d == SPATTN_DTYPE_FLOAT8_E4M3; }

// A generator seeded for one setup (the setups draw everything from it in
// their constructors, in a fixed order).
inline std::mt19937& seeded_rng(uint32_t seed) {
  static thread_local std::mt19937 rng;
  rng.seed(seed);
  return rng;
}

// ---------------------------------------------------------------------------
// Stored values.

// Rounds `x` to the storage format `dtype` and returns the stored bits.
inline uint16_t store16(double x, spattn_dtype dtype) {
  return float_to_storage(float(x), dtype == SPATTN_DTYPE_BFLOAT16);
}
inline double load16(uint16_t bits, spattn_dtype dtype) {
  return storage_to_float(bits, dtype == SPATTN_DTYPE_BFLOAT16);
}

// ---------------------------------------------------------------------------
// A KV cache on the host, as spattn_kv_cache describes it.

struct CacheSpec {
  bool paged = false;
  int page_size = 16;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;  // the queries' 16-bit type, or FLOAT8_E4M3
  float k_scale = 0.0f;                        // FP8 only; 0: 1
  float v_scale = 0.0f;
  int pad = 16;  // elements between rows (a multiple of 16 keeps FP8 rows 16-byte aligned)
};

inline std::string cache_name(const CacheSpec& c) {
  return std::string(c.paged ? "paged" + std::to_string(c.page_size) : "contig") + (is_fp8(c.dtype) ? "_fp8" : "");
}

class HostCache {
 public:
  // `shared_kv`: the values are the first dim_v dims of the keys (MLA).
  // Values are uniform in [-amp, amp) before rounding to the storage format
  // (FP8: before dividing by the scale).
  HostCache(const CacheSpec& spec, int batch, int heads, int dim, int dim_v, bool shared_kv,
            std::vector<int> lengths, int max_len, std::mt19937& rng, double k_amp, double v_amp)
      : spec_(spec), batch_(batch), heads_(heads), dim_(dim), dim_v_(dim_v), shared_(shared_kv),
        max_len_(max_len), seqlens_(lengths.begin(), lengths.end()) {
    eb_ = is_fp8(spec.dtype) ? 1 : 2;
    row_ = int64_t(dim + spec.pad);
    if (spec.paged) {
      max_pages_ = std::max(1, (max_len + spec.page_size - 1) / spec.page_size);
      int used = 0;
      for (int len : lengths) used += (len + spec.page_size - 1) / spec.page_size;
      num_pages_ = used + 3;  // spare pages nobody points at
      std::vector<int32_t> ids(static_cast<size_t>(num_pages_));
      std::iota(ids.begin(), ids.end(), 0);
      std::shuffle(ids.begin(), ids.end(), rng);
      table_.assign(size_t(batch) * max_pages_, -7);  // entries past a sequence: never read
      int next = 0;
      for (int b = 0; b < batch; ++b) {
        for (int pg = 0; pg < (lengths[size_t(b)] + spec.page_size - 1) / spec.page_size; ++pg) {
          table_[size_t(b) * max_pages_ + pg] = ids[size_t(next++)];
        }
      }
      strides_[2] = row_;
      strides_[1] = heads * row_ + spec.pad;
      strides_[0] = spec.page_size * strides_[1] + spec.pad;
      elems_ = size_t(num_pages_) * size_t(strides_[0]);
    } else {
      strides_[2] = row_;
      strides_[1] = heads * row_ + spec.pad;
      strides_[0] = std::max(1, max_len) * strides_[1] + spec.pad;
      elems_ = size_t(batch) * size_t(strides_[0]);
    }
    k_.assign(elems_ * eb_, 0);
    if (!shared_) v_.assign(elems_ * eb_, 0);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int b = 0; b < batch; ++b) {
      for (int j = 0; j < lengths[size_t(b)]; ++j) {
        for (int h = 0; h < heads; ++h) {
          for (int d = 0; d < dim; ++d) put(k_, offset(b, j, h) + d, k_amp * u(rng), k_scale());
          if (!shared_) {
            for (int d = 0; d < dim_v; ++d) put(v_, offset(b, j, h) + d, v_amp * u(rng), v_scale());
          }
        }
      }
    }
  }

  float k_scale() const { return spec_.k_scale == 0.0f ? 1.0f : spec_.k_scale; }
  float v_scale() const { return spec_.v_scale == 0.0f ? 1.0f : spec_.v_scale; }

  // Element offset of token j of sequence b, head h.
  int64_t offset(int b, int j, int h) const {
    if (!spec_.paged) return b * strides_[0] + j * strides_[1] + h * strides_[2];
    const int32_t page = table_[size_t(b) * max_pages_ + j / spec_.page_size];
    return page * strides_[0] + (j % spec_.page_size) * strides_[1] + h * strides_[2];
  }

  // Dequantized values.
  double k(int b, int j, int h, int d) const { return get(k_, offset(b, j, h) + d) * k_scale(); }
  double v(int b, int j, int h, int d) const {
    return shared_ ? get(k_, offset(b, j, h) + d) * v_scale() : get(v_, offset(b, j, h) + d) * v_scale();
  }
  // Overwrites a key element with the stored form of `x` (dequantized value).
  void set_k(int b, int j, int h, int d, double x) { put(k_, offset(b, j, h) + d, x, k_scale()); }

  spattn_kv_cache desc(const void* k, const void* v, const int32_t* seqlens, const int32_t* table) const {
    spattn_kv_cache c{};
    c.struct_size = sizeof c;
    c.layout = spec_.paged ? SPATTN_KV_LAYOUT_PAGED : SPATTN_KV_LAYOUT_CONTIGUOUS;
    c.dtype = spec_.dtype;
    c.num_kv_heads = heads_;
    c.head_dim = dim_;
    c.head_dim_v = dim_v_ == dim_ ? 0 : dim_v_;
    c.k = k;
    c.v = shared_ ? k : v;
    for (int i = 0; i < 3; ++i) c.k_strides[i] = c.v_strides[i] = strides_[i];
    c.k_scale = spec_.k_scale;
    c.v_scale = spec_.v_scale;
    c.seqlens_kv = seqlens;
    c.max_seqlen_kv = max_len_;
    if (spec_.paged) {
      c.page_size = spec_.page_size;
      c.num_pages = num_pages_;
      c.block_table = table;
      c.max_pages_per_seq = max_pages_;
    }
    return c;
  }
  spattn_kv_cache host_desc() const { return desc(k_.data(), v_data(), seqlens_.data(), table_.data()); }

  const std::vector<uint8_t>& k_bytes() const { return k_; }
  const std::vector<uint8_t>& v_bytes() const { return shared_ ? k_ : v_; }
  const uint8_t* v_data() const { return shared_ ? k_.data() : v_.data(); }
  std::vector<int32_t>& seqlens() { return seqlens_; }
  const std::vector<int32_t>& seqlens() const { return seqlens_; }
  const std::vector<int32_t>& table() const { return table_; }
  std::vector<int32_t>& table() { return table_; }
  bool shared() const { return shared_; }
  int max_len() const { return max_len_; }
  int max_pages() const { return max_pages_; }
  int64_t stride(int i) const { return strides_[i]; }

 private:
  void put(std::vector<uint8_t>& pool, int64_t at, double x, float scale) {
    if (eb_ == 1) {
      pool[size_t(at)] = float_to_e4m3(float(x / scale));
    } else {
      const uint16_t bits = store16(x, spec_.dtype);
      std::memcpy(&pool[size_t(at) * 2], &bits, 2);
    }
  }
  double get(const std::vector<uint8_t>& pool, int64_t at) const {
    if (eb_ == 1) return e4m3_to_float(pool[size_t(at)]);
    uint16_t bits;
    std::memcpy(&bits, &pool[size_t(at) * 2], 2);
    return load16(bits, spec_.dtype);
  }

  CacheSpec spec_;
  int batch_, heads_, dim_, dim_v_;
  bool shared_;
  int max_len_;
  int eb_ = 2;
  int64_t row_ = 0;
  int64_t strides_[3] = {0, 0, 0};
  size_t elems_ = 0;
  int max_pages_ = 0, num_pages_ = 0;
  std::vector<uint8_t> k_, v_;
  std::vector<int32_t> seqlens_, table_;
};

// ---------------------------------------------------------------------------
// Index-sparse attention cases.

struct ListSpec {
  double valid_fraction = 0.75;  // slots holding keys; the rest -1
  bool shuffled = true;          // random order; else increasing with the -1s at the end
  int duplicates = 0;            // entries per list repeating another entry
  int out_of_range = 0;          // entries per list >= L_kv or < -1
};

struct SparseCase {
  const char* name;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int heads = 4, kv_heads = 1, dim = 128, dim_v = 128;  // MLA: 1, 576, 512
  std::vector<int> q_lens;   // queries per sequence
  std::vector<int> kv_lens;  // keys per sequence
  bool packed = false;       // cu_seqlens_q (else q_lens all equal)
  int topk = 16;
  bool per_query = true;     // a list per query token; else per (sequence, KV head)
  bool causal = false;
  CacheSpec cache;
  ListSpec lists;
  float softmax_scale = 0.0f;
  int num_splits = 0;
  int max_kv_extra = 5;      // max_seqlen_kv beyond the longest sequence
};
KERNEL_CHECK_PRINT_BY_NAME(SparseCase)

inline bool is_mla(const SparseCase& c) { return c.dim == 576; }

// Every tensor of a case, on the host, and the args that describe them.
struct SparseSetup {
  SparseCase c;
  int batch = 0, seqlen_q = 0, total_q = 0;
  std::vector<int32_t> cu;  // packed offsets
  kernel_check::StridedLayout q_layout, out_layout;
  std::vector<uint16_t> q;
  HostCache cache;
  std::vector<int32_t> lists;
  int64_t list_strides[3] = {0, 0, 0};
  size_t lse_elems = 0;
  float scale = 0.0f;  // resolved softmax scale

  SparseSetup(const SparseCase& sc, uint32_t seed) : SparseSetup(sc, seed, seeded_rng(seed)) {}

  int lq(int b) const { return c.q_lens[size_t(b)]; }
  int lk(int b) const { return cache.seqlens()[size_t(b)]; }
  int group() const { return c.heads / c.kv_heads; }
  int64_t token(int b, int i) const { return c.packed ? cu[size_t(b)] + i : i; }
  size_t q_offset(int b, int i, int h) const { return q_layout.offset(c.packed ? 0 : b, token(b, i), h); }
  size_t out_offset(int b, int i, int h) const { return out_layout.offset(c.packed ? 0 : b, token(b, i), h); }
  int32_t* list(int b, int i, int g) {
    return &lists[size_t(b * list_strides[0] + token(b, i) * list_strides[1] + g * list_strides[2])];
  }
  const int32_t* list(int b, int i, int g) const {
    return &lists[size_t(b * list_strides[0] + token(b, i) * list_strides[1] + g * list_strides[2])];
  }
  size_t lse_index(int b, int i, int h) const {
    return c.packed ? size_t(h) * total_q + size_t(token(b, i)) : (size_t(b) * c.heads + h) * seqlen_q + i;
  }
  size_t out_elems() const { return out_layout.elems; }
  // New lists for the current cache lengths (cache.seqlens() may have been
  // shortened: a CUDA-graph replay with new lengths).
  void remake_lists(uint32_t seed) {
    make_lists(seeded_rng(seed));
  }

  spattn_sparse_attention_args args(const void* q_ptr, void* out_ptr, const spattn_kv_cache* kv,
                                    const int32_t* list_ptr, const int32_t* cu_ptr, float* lse) const {
    spattn_sparse_attention_args a{};
    a.struct_size = sizeof a;
    a.dtype = c.dtype;
    a.batch = batch;
    a.num_heads = c.heads;
    a.seqlen_q = seqlen_q;
    a.cu_seqlens_q = c.packed ? cu_ptr : nullptr;
    a.q = q_ptr;
    q_layout.strides(a.q_strides);
    a.out = out_ptr;
    out_layout.strides(a.out_strides);
    a.kv_cache = kv;
    a.indices = list_ptr;
    for (int i = 0; i < 3; ++i) a.index_strides[i] = list_strides[i];
    a.topk = c.topk;
    a.causal = c.causal ? 1 : 0;
    a.softmax_scale = c.softmax_scale;
    a.lse = lse;
    a.num_splits = c.num_splits;
    return a;
  }

 private:
  // Logits of std ~2 for uniform q and k of amplitude a: q.k has std
  // a^2 sqrt(d) / 3, times 1/sqrt(d).
  static constexpr double kAmp = 2.4;

  SparseSetup(const SparseCase& sc, uint32_t, std::mt19937& rng)
      : c(sc),
        batch(int(sc.q_lens.size())),
        seqlen_q(*std::max_element(sc.q_lens.begin(), sc.q_lens.end())),
        cache(sc.cache, int(sc.q_lens.size()), sc.kv_heads, sc.dim, sc.dim_v, sc.dim == 576, sc.kv_lens,
              *std::max_element(sc.kv_lens.begin(), sc.kv_lens.end()) + sc.max_kv_extra, rng, kAmp, 1.0) {
    cu.assign(1, 0);
    for (int l : c.q_lens) cu.push_back(cu.back() + l);
    total_q = cu.back();
    const int q_batch = c.packed ? 1 : batch;
    const int q_tokens = c.packed ? total_q : seqlen_q;
    q_layout = kernel_check::make_layout({kernel_check::Order::BSHD, 8}, q_batch, q_tokens, c.heads, c.dim);
    out_layout = kernel_check::make_layout({kernel_check::Order::BHSD, 16}, q_batch, q_tokens, c.heads, c.dim_v);
    scale = c.softmax_scale != 0.0f ? c.softmax_scale : float(1.0 / std::sqrt(double(c.dim)));
    // Queries: amplitude so that scale * |q.k| spreads logits over a few units.
    const double q_amp = kAmp * std::sqrt(double(c.dim)) * scale;
    q.assign(q_layout.elems, kernel_check::kPoison16);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int b = 0; b < batch; ++b)
      for (int i = 0; i < lq(b); ++i)
        for (int h = 0; h < c.heads; ++h)
          for (int d = 0; d < c.dim; ++d) q[q_offset(b, i, h) + d] = store16(q_amp * u(rng), c.dtype);
    make_lists(rng);
    lse_elems = c.packed ? size_t(c.heads) * total_q : size_t(batch) * c.heads * seqlen_q;
  }

  void make_lists(std::mt19937& rng) {
    const int tokens = c.packed ? total_q : seqlen_q;
    if (c.per_query) {
      list_strides[2] = c.topk;
      list_strides[1] = int64_t(c.kv_heads) * c.topk + 3;  // padded
      list_strides[0] = c.packed ? 0 : tokens * list_strides[1] + 5;
      lists.assign(size_t(c.packed ? 1 : batch) * size_t(c.packed ? tokens * list_strides[1] : list_strides[0]),
                   -99);
    } else {
      list_strides[2] = c.topk + 2;
      list_strides[1] = 0;
      list_strides[0] = c.kv_heads * list_strides[2] + 1;
      lists.assign(size_t(batch) * size_t(list_strides[0]), -99);
    }
    for (int b = 0; b < batch; ++b) {
      const int queries = c.per_query ? lq(b) : 1;
      for (int i = 0; i < queries; ++i)
        for (int g = 0; g < c.kv_heads; ++g) fill_list(list(b, i, g), lk(b), rng);
    }
  }

  void fill_list(int32_t* out, int len, std::mt19937& rng) const {
    const ListSpec& s = c.lists;
    const int topk = c.topk;
    std::vector<int32_t> keys(static_cast<size_t>(len));
    std::iota(keys.begin(), keys.end(), 0);
    std::shuffle(keys.begin(), keys.end(), rng);
    const int want = std::min(len, int(std::lround(s.valid_fraction * topk)));
    const int extra = std::min(topk - want, s.duplicates + s.out_of_range);
    keys.resize(size_t(want));
    if (!s.shuffled) std::sort(keys.begin(), keys.end());
    std::vector<int32_t> slots(keys.begin(), keys.end());
    for (int d = 0; d < extra; ++d) {
      if (d < s.duplicates && want > 0) {
        slots.push_back(keys[size_t(rng() % size_t(want))]);
      } else {
        slots.push_back(d % 2 == 0 ? len + int32_t(rng() % 7) : -2 - int32_t(rng() % 5));
      }
    }
    while (int(slots.size()) < topk) slots.push_back(-1);
    if (s.shuffled) std::shuffle(slots.begin(), slots.end(), rng);
    std::copy(slots.begin(), slots.end(), out);
  }
};

// The float64 model of one output row, and the terms of its error bound.
struct ModelRow {
  std::vector<double> o;  // normalized output (v_scale applied)
  double lse = -kInf;     // natural log of sum exp(logit)
  double pv_abs = 0.0;    // sum_j p_j |v_j| / Z, the scale of the output's errors (per dim: max)
  double logit_abs = 0.0; // max_j sum_d |q_d k_d| * softmax_scale: the scale of a logit's error
  int keys = 0;           // distinct keys attended
};

// The keys row (b, i, h) attends to, by the rules of spattn.h, re-derived:
// -1 and out-of-range entries dropped, repeats counted once, keys after the
// diagonal dropped under causal.
inline std::vector<int> model_keys(const SparseSetup& s, int b, int i, int g) {
  std::set<int> keys;
  const int32_t* l = s.list(b, i, g);
  const int lk = s.lk(b);
  const long diag = long(i) + lk - s.lq(b);
  for (int slot = 0; slot < s.c.topk; ++slot) {
    const int key = l[slot];
    if (key < 0 || key >= lk) continue;
    if (s.c.causal && key > diag) continue;
    keys.insert(key);
  }
  return std::vector<int>(keys.begin(), keys.end());
}

// The dequantized keys and values of sequence b, KV head g: [lk][dim], [lk][dim_v].
struct DecodedKv {
  std::vector<double> k, v;
};

inline DecodedKv decode_kv(const SparseSetup& s, int b, int g) {
  DecodedKv kv;
  const int lk = s.lk(b);
  kv.k.resize(size_t(lk) * s.c.dim);
  kv.v.resize(size_t(lk) * s.c.dim_v);
  for (int j = 0; j < lk; ++j) {
    for (int d = 0; d < s.c.dim; ++d) kv.k[size_t(j) * s.c.dim + d] = s.cache.k(b, j, g, d);
    for (int d = 0; d < s.c.dim_v; ++d) kv.v[size_t(j) * s.c.dim_v + d] = s.cache.v(b, j, g, d);
  }
  return kv;
}

inline ModelRow model_row(const SparseSetup& s, const DecodedKv& kv, int b, int i, int h) {
  ModelRow r;
  const int g = h / s.group();
  const std::vector<int> keys = model_keys(s, b, i, g);
  r.keys = int(keys.size());
  r.o.assign(size_t(s.c.dim_v), 0.0);
  if (keys.empty()) return r;
  std::vector<double> q(static_cast<size_t>(s.c.dim));
  for (int d = 0; d < s.c.dim; ++d) q[size_t(d)] = load16(s.q[s.q_offset(b, i, h) + d], s.c.dtype);
  std::vector<double> logit(keys.size());
  double mx = -kInf;
  for (size_t j = 0; j < keys.size(); ++j) {
    const double* k = &kv.k[size_t(keys[j]) * s.c.dim];
    double dot = 0.0, abs = 0.0;
    for (int d = 0; d < s.c.dim; ++d) {
      const double t = q[size_t(d)] * k[d];
      dot += t;
      abs += std::fabs(t);
    }
    logit[j] = dot * s.scale;
    r.logit_abs = std::max(r.logit_abs, abs * s.scale);
    mx = std::max(mx, logit[j]);
  }
  double z = 0.0;
  std::vector<double> p(keys.size());
  for (size_t j = 0; j < keys.size(); ++j) z += (p[j] = std::exp(logit[j] - mx));
  // o = sum_j p_j v_j / Z and, per dim, sum_j p_j |v_j| / Z (its maximum: pv_abs).
  std::vector<double> abs_acc(static_cast<size_t>(s.c.dim_v), 0.0);
  for (size_t j = 0; j < keys.size(); ++j) {
    const double w = p[j] / z;
    const double* v = &kv.v[size_t(keys[j]) * s.c.dim_v];
    for (int d = 0; d < s.c.dim_v; ++d) {
      r.o[size_t(d)] += w * v[d];
      abs_acc[size_t(d)] += w * std::fabs(v[d]);
    }
  }
  r.pv_abs = *std::max_element(abs_acc.begin(), abs_acc.end());
  r.lse = mx + std::log(z);
  return r;
}

// Every row's model, [b][i][h] with i < lq(b) (each sequence's K/V decoded once).
struct ModelRows {
  std::vector<ModelRow> rows;
  std::vector<size_t> first;  // rows of sequence b start at first[b]
  const ModelRow& at(const SparseSetup& s, int b, int i, int h) const {
    return rows[first[size_t(b)] + size_t(i) * s.c.heads + h];
  }
};

inline ModelRows model_rows(const SparseSetup& s) {
  ModelRows m;
  for (int b = 0; b < s.batch; ++b) {
    m.first.push_back(m.rows.size());
    m.rows.resize(m.rows.size() + size_t(s.lq(b)) * s.c.heads);
    for (int g = 0; g < s.c.kv_heads; ++g) {
      const DecodedKv kv = decode_kv(s, b, g);
      for (int i = 0; i < s.lq(b); ++i)
        for (int h = g * s.group(); h < (g + 1) * s.group(); ++h) {
          m.rows[m.first.back() + size_t(i) * s.c.heads + h] = model_row(s, kv, b, i, h);
        }
    }
  }
  return m;
}

// Tolerance of an output element and of the LSE.
struct Tolerance {
  double out_rel = 0.0;       // times |o|
  double out_pv = 0.0;        // times pv_abs
  double out_pv_logit = 0.0;  // times pv_abs * logit_abs
  double out_abs = 0.0;
  double lse_abs = 0.0;  // plus lse_rel * |lse|
  double lse_rel = 0.0;
  double lse_logit = 0.0;  // times logit_abs
};

// The CPU reference: float64 throughout, one rounding of each result.
inline Tolerance sparse_reference_tolerance(spattn_dtype dtype) {
  const kernel_check::StorageFormat f = kernel_check::storage_format(dtype);
  Tolerance t;
  t.out_rel = f.unit;
  t.out_pv = kFloat64Noise;
  t.out_abs = f.abs_floor;
  t.lse_rel = kernel_check::kFp32Unit;
  t.lse_abs = 1e-30;
  t.lse_logit = kFloat64Noise;
  return t;
}

// The kernels (mma.sync, bf16/fp16 operands, fp32 accumulation):
//  - a logit l = scale * q.k is a tensor-core fp32 dot product of exact
//    products: |dl| <= gamma(D, 2^-23) * logit_abs, plus the roundings of
//    the scale into log2 units and of the scaled logit (a few u32 |l|,
//    |l| <= logit_abs): |dl| <= dl_rel * logit_abs;
//  - p = ex2.approx(l - m): relative 2^-22, and l - m errs by <= 2 |dl|,
//    so each weight errs relatively by e = 2 |dl| + 2^-22 and the
//    normalized sum_j p_j v_j / Z (weights and their sum both perturbed) by
//    <= 2 e pv_abs;
//  - with splits, each split's LSE errs by <= 2 |dl| (+ the terms below),
//    so the merge weights exp(lse_s - lse) err relatively by <= 4 |dl|:
//    another 2 * 4 |dl| pv_abs;
//  - P is rounded to the 16-bit format before P.V (the row sums keep fp32
//    p): <= u pv_abs (2 u taken);
//  - P.V and the sums accumulate in fp32 over up to topk keys (tensor
//    cores, then across warps, splits and the epilogue): gamma(topk + 8,
//    2^-23) pv_abs;
//  - FP8 caches convert exactly to 16 bits; v_scale and 1 / l are fp32
//    products (4 u32 |o|), the output is rounded once (u |o|).
// The LSE = ln 2 (m + log2 l) errs by <= 2 |dl| (the largest logit's and
// the sum's), 2^-22 and gamma(topk + 8, 2^-24) from the sum, and a few u32
// of |LSE| from log2f and the final products.
inline Tolerance sparse_kernel_tolerance(spattn_dtype dtype, int dim, int topk) {
  const kernel_check::StorageFormat f = kernel_check::storage_format(dtype);
  const double u32 = kernel_check::kFp32Unit;
  const double dl_rel = kernel_check::gamma(dim, kernel_check::kTensorCoreAccumUnit) + 4 * u32;
  Tolerance t;
  t.out_rel = f.unit + 4 * u32;
  t.out_pv = 2 * kernel_check::kEx2ApproxRel + 2 * f.unit +
             kernel_check::gamma(topk + 8, kernel_check::kTensorCoreAccumUnit);
  t.out_pv_logit = 2 * 2 * dl_rel + 2 * 4 * dl_rel;
  t.out_abs = f.abs_floor;
  t.lse_logit = 2 * dl_rel;
  t.lse_rel = 4 * u32;
  t.lse_abs = 2 * kernel_check::kEx2ApproxRel + kernel_check::gamma(topk + 8, u32);
  return t;
}

// Compares outputs and LSEs of every row against the model.
inline void check_sparse(kernel_check::Verdict& v, const SparseSetup& s, const ModelRows& model,
                         const std::vector<uint16_t>& out, const std::vector<float>& lse, const Tolerance& t) {
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < s.lq(b); ++i)
      for (int h = 0; h < s.c.heads; ++h) {
        const ModelRow& m = model.at(s, b, i, h);
        for (int d = 0; d < s.c.dim_v; ++d) {
          const double got = load16(out[s.out_offset(b, i, h) + d], s.c.dtype);
          const double want = m.o[size_t(d)];
          const double tol =
              t.out_rel * std::fabs(want) + (t.out_pv + t.out_pv_logit * m.logit_abs) * m.pv_abs + t.out_abs;
          v.value(got, want, tol, [&] {
            return "out[b" + std::to_string(b) + " q" + std::to_string(i) + " h" + std::to_string(h) + " d" +
                   std::to_string(d) + "] (" + std::to_string(m.keys) + " keys)";
          });
        }
        if (!lse.empty()) {
          const double want = m.lse;
          const double tol = t.lse_abs + t.lse_rel * std::fabs(want) + t.lse_logit * m.logit_abs;
          v.value(lse[s.lse_index(b, i, h)], want, tol, [&] {
            return "lse[b" + std::to_string(b) + " q" + std::to_string(i) + " h" + std::to_string(h) + "]";
          });
        }
      }
}

inline void check_sparse(kernel_check::Verdict& v, const SparseSetup& s, const std::vector<uint16_t>& out,
                         const std::vector<float>& lse, const Tolerance& t) {
  check_sparse(v, s, model_rows(s), out, lse, t);
}

// The logical elements of the output buffer (for untouched_outside).
inline std::vector<char> out_mask(const SparseSetup& s, size_t buffer_elems) {
  std::vector<char> mask(buffer_elems, 0);
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < s.lq(b); ++i)
      for (int h = 0; h < s.c.heads; ++h) std::fill_n(mask.begin() + long(s.out_offset(b, i, h)), s.c.dim_v, char(1));
  return mask;
}

// ---------------------------------------------------------------------------
// Top-k: the model ranks with its own comparison (larger value first, -0 ==
// +0, ties by lower column), from (value, column) pairs.

inline std::vector<int32_t> model_topk(const float* scores, int n, int k) {
  std::vector<std::pair<double, int>> cand;
  for (int j = 0; j < n; ++j) {
    const float x = scores[j];
    if (std::isnan(x) || x == -std::numeric_limits<float>::infinity()) continue;
    cand.emplace_back(double(x) == 0.0 ? 0.0 : double(x), j);
  }
  std::stable_sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (int(cand.size()) > k) cand.resize(size_t(k));
  std::vector<int32_t> cols;
  for (const auto& c : cand) cols.push_back(c.second);
  std::sort(cols.begin(), cols.end());
  cols.resize(size_t(k), -1);
  return cols;
}

// ---------------------------------------------------------------------------
// The DSA indexer.

struct IndexerCase {
  const char* name;
  spattn_dtype q_dtype = SPATTN_DTYPE_FLOAT8_E4M3;
  int heads = 8, dim = 64;
  std::vector<int> q_lens, kv_lens;
  bool packed = false;
  CacheSpec cache;  // dtype: FP8 or the queries' 16-bit type
  bool token_scales = true;
  bool exact = false;  // inputs on a coarse grid: every score exact in float32
};
KERNEL_CHECK_PRINT_BY_NAME(IndexerCase)

struct IndexerSetup {
  IndexerCase c;
  int batch = 0, seqlen_q = 0, total_q = 0;
  std::vector<int32_t> cu;
  kernel_check::StridedLayout q_layout;
  std::vector<uint8_t> q;  // bytes (FP8) or 16-bit elements
  std::vector<float> w;
  int64_t w_strides[2] = {0, 0};
  HostCache cache;
  std::vector<float> token_scales;
  int64_t scale_strides[2] = {0, 0};
  int64_t logits_stride = 0;

  IndexerSetup(const IndexerCase& ic, uint32_t seed) : IndexerSetup(ic, seeded_rng(seed)) {}

  int lq(int b) const { return c.q_lens[size_t(b)]; }
  int lk(int b) const { return cache.seqlens()[size_t(b)]; }
  int64_t token(int b, int i) const { return c.packed ? cu[size_t(b)] + i : i; }
  int64_t row(int b, int i) const { return c.packed ? token(b, i) : int64_t(b) * seqlen_q + i; }
  int64_t rows() const { return c.packed ? total_q : int64_t(batch) * seqlen_q; }
  int eb() const { return is_fp8(c.q_dtype) ? 1 : 2; }
  size_t q_offset(int b, int i, int h) const { return q_layout.offset(c.packed ? 0 : b, token(b, i), h); }
  double qv(int b, int i, int h, int d) const {
    const size_t at = q_offset(b, i, h) + d;
    if (eb() == 1) return e4m3_to_float(q[at]);
    uint16_t bits;
    std::memcpy(&bits, &q[at * 2], 2);
    return load16(bits, c.q_dtype);
  }
  double wv(int b, int i, int h) const {
    return w[size_t((c.packed ? 0 : b * w_strides[0]) + token(b, i) * w_strides[1] + h)];
  }
  double key_scale(int b, int j) const {
    double s = cache.k_scale();
    if (!c.token_scales) return s;
    int64_t at;
    if (c.cache.paged) {
      const int32_t page = cache.table()[size_t(b) * cache.max_pages() + j / c.cache.page_size];
      at = page * scale_strides[0] + (j % c.cache.page_size) * scale_strides[1];
    } else {
      at = b * scale_strides[0] + j * scale_strides[1];
    }
    return s * token_scales[size_t(at)];
  }
  int prefix(int b, int i) const { return std::max(0, std::min(lk(b), i + lk(b) - lq(b) + 1)); }

  spattn_dsa_indexer_args args(const void* q_ptr, const float* w_ptr, const spattn_kv_cache* kc,
                               const float* scales, const int32_t* cu_ptr, float* logits) const {
    spattn_dsa_indexer_args a{};
    a.struct_size = sizeof a;
    a.q_dtype = c.q_dtype;
    a.batch = batch;
    a.seqlen_q = seqlen_q;
    a.cu_seqlens_q = c.packed ? cu_ptr : nullptr;
    a.num_heads = c.heads;
    a.q = q_ptr;
    q_layout.strides(a.q_strides);
    a.weights = w_ptr;
    a.weight_strides[0] = w_strides[0];
    a.weight_strides[1] = w_strides[1];
    a.k_cache = kc;
    a.k_token_scales = c.token_scales ? scales : nullptr;
    a.k_token_scale_strides[0] = scale_strides[0];
    a.k_token_scale_strides[1] = scale_strides[1];
    a.logits = logits;
    a.logits_row_stride = logits_stride;
    return a;
  }

 private:
  static CacheSpec key_spec(const IndexerCase& ic) { return ic.cache; }

  IndexerSetup(const IndexerCase& ic, std::mt19937& rng)
      : c(ic),
        batch(int(ic.q_lens.size())),
        seqlen_q(*std::max_element(ic.q_lens.begin(), ic.q_lens.end())),
        cache(key_spec(ic), int(ic.q_lens.size()), 1, ic.dim, ic.dim, false, ic.kv_lens,
              *std::max_element(ic.kv_lens.begin(), ic.kv_lens.end()) + 3, rng, ic.exact ? 0.0 : 4.0, 0.0) {
    cu.assign(1, 0);
    for (int l : c.q_lens) cu.push_back(cu.back() + l);
    total_q = cu.back();
    const int q_batch = c.packed ? 1 : batch;
    const int q_tokens = c.packed ? total_q : seqlen_q;
    q_layout = kernel_check::make_layout({kernel_check::Order::BSHD, 16}, q_batch, q_tokens, c.heads, c.dim);
    q.assign(q_layout.elems * size_t(eb()), 0xff);
    w_strides[1] = c.heads + 4;
    w_strides[0] = c.packed ? 0 : q_tokens * w_strides[1] + 8;
    w.assign(size_t(q_batch) * size_t(c.packed ? q_tokens * w_strides[1] : w_strides[0]), NAN);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::uniform_int_distribution<int> small(-3, 3);
    for (int b = 0; b < batch; ++b)
      for (int i = 0; i < lq(b); ++i)
        for (int h = 0; h < c.heads; ++h) {
          // exact: small integers (products and sums exact in float32);
          // weights powers of two times small integers.
          w[size_t((c.packed ? 0 : b * w_strides[0]) + token(b, i) * w_strides[1] + h)] =
              c.exact ? float(small(rng)) * 0.25f : float(u(rng));
          for (int d = 0; d < c.dim; ++d) {
            const double x = c.exact ? double(small(rng)) : 3.0 * u(rng);
            const size_t at = q_offset(b, i, h) + d;
            if (eb() == 1) {
              q[at] = float_to_e4m3(float(x));
            } else {
              const uint16_t bits = store16(x, c.q_dtype);
              std::memcpy(&q[at * 2], &bits, 2);
            }
          }
        }
    if (c.exact) {
      for (int b = 0; b < batch; ++b)
        for (int j = 0; j < lk(b); ++j)
          for (int d = 0; d < c.dim; ++d) cache.set_k(b, j, 0, d, double(small(rng)) * cache.k_scale());
    }
    // Per-key scales: powers of two (exact) for exact cases.
    if (c.cache.paged) {
      scale_strides[1] = 1;
      scale_strides[0] = c.cache.page_size + 4;
      token_scales.assign(size_t(cache.table().size() + 8) * size_t(scale_strides[0]), NAN);
      for (int b = 0; b < batch; ++b)
        for (int j = 0; j < lk(b); ++j) {
          const int32_t page = cache.table()[size_t(b) * cache.max_pages() + j / c.cache.page_size];
          token_scales[size_t(page * scale_strides[0] + (j % c.cache.page_size))] = scale_value(rng);
        }
    } else {
      scale_strides[1] = 2;
      scale_strides[0] = int64_t(cache.max_len()) * 2 + 4;
      token_scales.assign(size_t(batch) * size_t(scale_strides[0]), NAN);
      for (int b = 0; b < batch; ++b)
        for (int j = 0; j < lk(b); ++j) token_scales[size_t(b * scale_strides[0] + j * 2)] = scale_value(rng);
    }
    logits_stride = cache.max_len() + 7;
  }

  float scale_value(std::mt19937& rng) const {
    if (c.exact) return std::ldexp(1.0f, int(rng() % 5) - 2);
    return float(0.5 + std::uniform_real_distribution<double>(0.0, 1.0)(rng));
  }
};

// The model score of (b, i, j) and its error scale sum_h |w_h| |q_h . k| terms.
struct ModelScore {
  double value = 0.0;
  double abs = 0.0;  // sum_h |w_h| * sum_d |q_hd k_d| * |key scale|
};

inline ModelScore model_score(const IndexerSetup& s, int b, int i, int j) {
  ModelScore r;
  for (int h = 0; h < s.c.heads; ++h) {
    double dot = 0.0, abs = 0.0;
    for (int d = 0; d < s.c.dim; ++d) {
      const double t = s.qv(b, i, h, d) * s.cache.k(b, j, 0, d) / s.cache.k_scale();
      dot += t;
      abs += std::fabs(t);
    }
    r.value += s.wv(b, i, h) * std::max(dot, 0.0);
    r.abs += std::fabs(s.wv(b, i, h)) * abs;
  }
  const double ks = s.key_scale(b, j);
  r.value *= ks;
  r.abs *= std::fabs(ks);
  return r;
}

// Tolerance of a score: the CPU reference rounds once (u32 |I|); a kernel
// accumulates each q.k in fp32 on tensor cores (gamma(D, 2^-23) * abs), then
// sums the weighted heads and applies the scales in fp32
// (gamma(H + 3, 2^-24) * abs).
inline double indexer_tolerance(const ModelScore& m, int dim, int heads, bool kernel) {
  if (!kernel) return kernel_check::kFp32Unit * std::fabs(m.value) + kFloat64Noise * m.abs;
  return (kernel_check::gamma(dim, kernel_check::kTensorCoreAccumUnit) +
          kernel_check::gamma(heads + 3, kernel_check::kFp32Unit)) * m.abs + 1e-30;
}

inline void check_indexer(kernel_check::Verdict& v, const IndexerSetup& s, const std::vector<float>& logits,
                          bool kernel) {
  for (int b = 0; b < s.batch; ++b)
    for (int i = 0; i < s.lq(b); ++i) {
      const float* row = &logits[size_t(s.row(b, i) * s.logits_stride)];
      const int prefix = s.prefix(b, i);
      for (int j = 0; j < s.cache.max_len(); ++j) {
        auto where = [&] { return "score[b" + std::to_string(b) + " q" + std::to_string(i) + " k" + std::to_string(j) + "]"; };
        if (j >= prefix) {
          v.value(row[j], -kInf, 0.0, where);
          continue;
        }
        const ModelScore m = model_score(s, b, i, j);
        const double tol = s.c.exact ? 0.0 : indexer_tolerance(m, s.c.dim, s.c.heads, kernel);
        v.value(row[j], m.value, tol, where);
      }
    }
}

// A case of index-sparse attention.
inline SparseCase sparse_case(const char* name, spattn_dtype dt, int heads, int kv_heads, int dim, std::vector<int> q_lens,
                       std::vector<int> kv_lens, int topk) {
  SparseCase c;
  c.name = name;
  c.dtype = dt;
  c.heads = heads;
  c.kv_heads = kv_heads;
  c.dim = dim;
  c.dim_v = dim == 576 ? 512 : dim;
  c.q_lens = std::move(q_lens);
  c.kv_lens = std::move(kv_lens);
  c.topk = topk;
  c.cache.dtype = dt;
  return c;
}

// A DSA layer's two pieces built on the same queries and lengths (exact
// indexer inputs, so that its scores and their ties are exact everywhere),
// the layer's args on host memory, and the models' selection written into
// the attention setup's lists.
struct LayerFixture {
  IndexerSetup ix;
  SparseSetup att;
  spattn_kv_cache kc{}, kv{};
  spattn_dsa_indexer_args ia{};
  spattn_sparse_attention_args aa{};
  spattn_dsa_config config{};
  spattn_dsa_layer_args la{};
  std::vector<uint16_t> out;
  std::vector<float> lse;
  std::vector<int32_t> indices;

  static IndexerCase indexer_case(std::vector<int> q_lens, std::vector<int> kv_lens, bool packed) {
    IndexerCase c;
    c.name = "layer_indexer";
    c.q_dtype = SPATTN_DTYPE_FLOAT8_E4M3;
    c.heads = 8;
    c.dim = 64;
    c.q_lens = std::move(q_lens);
    c.kv_lens = std::move(kv_lens);
    c.packed = packed;
    c.cache.dtype = SPATTN_DTYPE_FLOAT8_E4M3;
    c.exact = true;
    return c;
  }
  static SparseCase attention_case(std::vector<int> q_lens, std::vector<int> kv_lens, bool packed, int topk, int dim,
                                   int heads, int kv_heads) {
    SparseCase c = sparse_case("layer_attention", SPATTN_DTYPE_BFLOAT16, heads, kv_heads, dim, std::move(q_lens), std::move(kv_lens), topk);
    c.packed = packed;
    c.causal = true;
    c.max_kv_extra = 3;  // as the indexer setup
    return c;
  }

  LayerFixture(std::vector<int> q_lens, std::vector<int> kv_lens, bool packed, int topk, int dim = 64, int heads = 4,
               int kv_heads = 2)
      : ix(indexer_case(q_lens, kv_lens, packed), 21),
        att(attention_case(q_lens, kv_lens, packed, topk, dim, heads, kv_heads), 22) {
    kc = ix.cache.host_desc();
    kv = att.cache.host_desc();
    ia = ix.args(ix.q.data(), ix.w.data(), &kc, ix.token_scales.data(), ix.cu.data(), nullptr);
    out.assign(att.out_elems(), kernel_check::kPoison16);
    lse.assign(att.lse_elems, kernel_check::poison_f32());
    aa = att.args(att.q.data(), out.data(), &kv, nullptr, ix.cu.data(), lse.data());  // one cu_seqlens_q
    config.struct_size = sizeof config;
    config.index_topk = topk;
    config.skip_indexer_for_short_seqs = 1;
    indices.assign(size_t(ix.rows()) * topk, -55);
    la.struct_size = sizeof la;
    la.config = &config;
    la.indexer = &ia;
    la.attention = &aa;
    la.indices = indices.data();
    // The model's selection, written into the attention setup's lists (one
    // list per query token, the same for every KV head).
    for (int b = 0; b < ix.batch; ++b)
      for (int i = 0; i < ix.lq(b); ++i) {
        const std::vector<int32_t> sel = model_selection(b, i);
        for (int g = 0; g < att.c.kv_heads; ++g) std::copy(sel.begin(), sel.end(), att.list(b, i, g));
      }
  }

  std::vector<int32_t> model_selection(int b, int i) const {
    const int topk = att.c.topk, prefix = ix.prefix(b, i);
    if (config.skip_indexer_for_short_seqs && ix.lk(b) <= topk) {
      std::vector<int32_t> all(size_t(topk), -1);
      std::iota(all.begin(), all.begin() + prefix, 0);
      return all;
    }
    std::vector<float> scores(size_t(std::max(prefix, 1)));
    for (int j = 0; j < prefix; ++j) scores[size_t(j)] = float(model_score(ix, b, i, j).value);
    return model_topk(scores.data(), prefix, topk);
  }

  void check(kernel_check::Verdict& v, const Tolerance& t) {
    for (int b = 0; b < ix.batch; ++b)
      for (int i = 0; i < ix.lq(b); ++i) {
        const std::vector<int32_t> got(indices.begin() + long(ix.row(b, i) * att.c.topk),
                                       indices.begin() + long((ix.row(b, i) + 1) * att.c.topk));
        if (got != model_selection(b, i)) {
          v.fail("selection of b" + std::to_string(b) + " q" + std::to_string(i) + " differs from the model's");
        }
      }
    check_sparse(v, att, out, lse, t);
  }
};

}  // namespace index_sparse_test
