// CPU references of RocketKV, written for clarity (spattn.h has the rules):
//  - context: per sequence and KV head, the window rows' softmax over the
//    prefix keys in double, summed per key, max-pooled, the top B - W prefix
//    positions (ties lower first) plus the window; the kept rows moved in
//    place (raw bytes, so FP8 caches move exactly); the KT entries of the
//    compacted keys;
//  - decode: the KT entry of the new token updated, the bound's dims, the
//    bounds in double, softmax per head, group mean, top entries (ties lower
//    first, the index-sparse family's top-k rule); the attention over the
//    selected tokens is the index-sparse attention's reference.
#include "attention/rocket_reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "attention/arg_checks.hpp"
#include "attention/fp8.hpp"
#include "attention/half_float.hpp"
#include "attention/sparse_reference.hpp"
#include "attention/topk.hpp"
#include "core/error.hpp"

namespace spattn::attention {

namespace rocket {

std::vector<double> max_pool(const std::vector<double>& x, int32_t kernel) {
  const int64_t n = int64_t(x.size());
  const int64_t half = kernel / 2;
  std::vector<double> out(x.size());
  for (int64_t j = 0; j < n; ++j) {
    const int64_t lo = std::max<int64_t>(0, j - half);
    const int64_t hi = std::min<int64_t>(n - 1, j - half + kernel - 1);
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t t = lo; t <= hi; ++t) m = std::max(m, x[size_t(t)]);
    out[size_t(j)] = m;
  }
  return out;
}

std::vector<int32_t> top_k(const std::vector<double>& scores, int32_t k) {
  const std::vector<float> x(scores.begin(), scores.end());
  std::vector<int32_t> out(static_cast<size_t>(k));
  select_topk_row(x.data(), int32_t(x.size()), k, out.data());
  out.erase(std::find(out.begin(), out.end(), -1), out.end());
  return out;
}

float round_kt(float x, spattn_kt_cache_dtype dtype) {
  if (dtype == SPATTN_KT_CACHE_FLOAT8_E5M2) return e5m2_to_float(float_to_e5m2(x));
  return bf16_to_float(float_to_bf16(x));
}

std::vector<double> window_scores(const std::vector<float>& q, int32_t rows, const std::vector<float>& keys,
                                  int32_t prefix, int32_t dim, double scale) {
  std::vector<double> sums(static_cast<size_t>(prefix), 0.0), s(static_cast<size_t>(prefix));
  for (int32_t r = 0; r < rows; ++r) {
    const float* qr = &q[size_t(r) * dim];
    double m = -std::numeric_limits<double>::infinity();
    for (int32_t j = 0; j < prefix; ++j) {
      double dot = 0.0;
      for (int32_t d = 0; d < dim; ++d) dot += double(qr[d]) * keys[size_t(j) * dim + d];
      s[size_t(j)] = scale * dot;
      m = std::max(m, s[size_t(j)]);
    }
    double z = 0.0;
    for (int32_t j = 0; j < prefix; ++j) z += std::exp(s[size_t(j)] - m);
    for (int32_t j = 0; j < prefix; ++j) sums[size_t(j)] += std::exp(s[size_t(j)] - m) / z;
  }
  return sums;
}

std::vector<int32_t> bound_dims(const std::vector<float>& q, int32_t group, int32_t dim, int32_t r) {
  std::vector<double> mass(size_t(dim), 0.0);
  for (int32_t h = 0; h < group; ++h) {
    for (int32_t d = 0; d < dim; ++d) mass[size_t(d)] += std::fabs(double(q[size_t(h) * dim + d]));
  }
  return top_k(mass, r);
}

}  // namespace rocket

namespace {

using checks::invalid;

int32_t entries_of(int32_t tokens, int32_t page) { return (tokens + page - 1) / page; }

// Host access to the KT cache: entry rows decoded and written rounded; every
// block-table entry a sequence uses is checked first.
class KtRows {
 public:
  // `entries[b]`: the entries sequence b uses.
  KtRows(const KtCache& kt, const std::vector<int32_t>& entries, const char* function) : kt_(kt) {
    if (!kt.paged()) return;
    for (size_t b = 0; b < entries.size(); ++b) {
      const int32_t blocks = (entries[b] + kt.entries_per_block - 1) / kt.entries_per_block;
      for (int32_t i = 0; i < blocks; ++i) {
        const int32_t block = kt.block_table[int64_t(b) * kt.max_blocks_per_seq + i];
        if (block < 0 || block >= kt.num_blocks) {
          invalid(function, "args.kt_cache->block_table[" + std::to_string(b) + "][" + std::to_string(i) +
                                "] is block " + std::to_string(block) + "; must be in [0, num_blocks = " +
                                std::to_string(kt.num_blocks) + ")");
        }
      }
    }
  }

  // Reads entry e of KV head g of sequence b: min into lo, max into hi.
  void read(int32_t b, int32_t e, int32_t g, float* lo, float* hi) const {
    const int64_t at = offset(b, e, g);
    const int32_t dim = kt_.head_dim;
    for (int32_t d = 0; d < 2 * dim; ++d) {
      float v;
      if (kt_.e5m2()) {
        v = e5m2_to_float(static_cast<const uint8_t*>(kt_.data)[at + d]);
      } else {
        v = bf16_to_float(static_cast<const uint16_t*>(kt_.data)[at + d]);
      }
      (d < dim ? lo[d] : hi[d - dim]) = v;
    }
  }

  void write(int32_t b, int32_t e, int32_t g, const float* lo, const float* hi) const {
    const int64_t at = offset(b, e, g);
    const int32_t dim = kt_.head_dim;
    for (int32_t d = 0; d < 2 * dim; ++d) {
      const float v = d < dim ? lo[d] : hi[d - dim];
      if (kt_.e5m2()) {
        static_cast<uint8_t*>(kt_.data)[at + d] = float_to_e5m2(v);
      } else {
        static_cast<uint16_t*>(kt_.data)[at + d] = float_to_bf16(v);
      }
    }
  }

 private:
  int64_t offset(int32_t b, int32_t e, int32_t g) const {
    if (!kt_.paged()) return b * kt_.strides[0] + e * kt_.strides[1] + g * kt_.strides[2];
    const int32_t block = kt_.block_table[int64_t(b) * kt_.max_blocks_per_seq + e / kt_.entries_per_block];
    return block * kt_.strides[0] + (e % kt_.entries_per_block) * kt_.strides[1] + g * kt_.strides[2];
  }

  const KtCache& kt_;
};

// The dequantized key of token j (FP8: times k_scale, in float as the kernels do).
std::vector<float> dequantized_key(const std::vector<float>& keys, int32_t j, const KvCache& kv) {
  std::vector<float> k(keys.begin() + int64_t(j) * kv.head_dim, keys.begin() + int64_t(j + 1) * kv.head_dim);
  if (kv.fp8()) {
    for (float& x : k) x *= kv.k_scale;
  }
  return k;
}

// The G query heads of KV head g, `tokens` queries each, as floats
// [head][token][dim] (row = head * tokens + token).
std::vector<float> query_rows(const TensorView& q, spattn_dtype dtype, int32_t b, int32_t g, int32_t group,
                              int32_t tokens, int32_t dim) {
  std::vector<float> out(size_t(group) * tokens * dim);
  const bool bf16 = dtype == SPATTN_DTYPE_BFLOAT16;
  for (int32_t h = 0; h < group; ++h) {
    for (int32_t i = 0; i < tokens; ++i) {
      const uint16_t* row = static_cast<const uint16_t*>(q.data) + b * q.batch_stride + int64_t(i) * q.token_stride +
                            int64_t(g * group + h) * q.head_stride;
      for (int32_t d = 0; d < dim; ++d) out[(size_t(h) * tokens + i) * dim + d] = storage_to_float(row[d], bf16);
    }
  }
  return out;
}

// The kept positions of KV head g of a sequence of `len` tokens.
std::vector<int32_t> kept_positions(const RocketContextProblem& p, const KvCacheReader& reader, int32_t b,
                                    int32_t g) {
  const int32_t len = reader.seqlen(b), W = p.rocket.window, B = p.rocket.budget;
  std::vector<int32_t> kept;
  if (len < B) {
    for (int32_t j = 0; j < len; ++j) kept.push_back(j);
    return kept;
  }
  const int32_t prefix = len - W;
  const int32_t group = p.plan.group;
  const std::vector<float> q = query_rows(p.q, p.dtype, b, g, group, W, p.kv.head_dim);
  const std::vector<double> sums = rocket::window_scores(q, group * W, reader.keys(b, g), prefix, p.kv.head_dim,
                                                         double(p.softmax_scale) * p.kv.k_scale);
  kept = rocket::top_k(rocket::max_pool(sums, p.rocket.kernel), B - W);
  for (int32_t j = prefix; j < len; ++j) kept.push_back(j);
  return kept;
}

// Moves row kept[t] to row t for t < kept.size(), K and V, as raw bytes.
void compact(const KvCache& kv, const KvCacheReader& reader, int32_t b, int32_t g, const std::vector<int32_t>& kept) {
  for (const bool values : {false, true}) {
    uint8_t* pool = static_cast<uint8_t*>(const_cast<void*>(values ? kv.v : kv.k));
    const size_t row_bytes = size_t(values ? kv.head_dim_v : kv.head_dim) * kv.element_bytes();
    std::vector<uint8_t> rows(kept.size() * row_bytes);
    for (size_t t = 0; t < kept.size(); ++t) {
      std::memcpy(&rows[t * row_bytes], pool + reader.row_offset(values, b, kept[t], g) * kv.element_bytes(),
                  row_bytes);
    }
    for (size_t t = 0; t < kept.size(); ++t) {
      std::memcpy(pool + reader.row_offset(values, b, int32_t(t), g) * kv.element_bytes(), &rows[t * row_bytes],
                  row_bytes);
    }
  }
}

// The KT entries of the first `len` keys of KV head g.
void build_kt(const KtRows& kt, const KvCache& kv, const std::vector<float>& keys, int32_t len, int32_t page,
              int32_t b, int32_t g) {
  const int32_t dim = kv.head_dim;
  std::vector<float> lo(static_cast<size_t>(dim)), hi(static_cast<size_t>(dim));
  for (int32_t e = 0; e < entries_of(len, page); ++e) {
    std::fill(lo.begin(), lo.end(), INFINITY);
    std::fill(hi.begin(), hi.end(), -INFINITY);
    for (int32_t j = e * page; j < std::min(len, e * page + page); ++j) {
      const std::vector<float> k = dequantized_key(keys, j, kv);
      for (int32_t d = 0; d < dim; ++d) {
        lo[size_t(d)] = std::min(lo[size_t(d)], k[size_t(d)]);
        hi[size_t(d)] = std::max(hi[size_t(d)], k[size_t(d)]);
      }
    }
    kt.write(b, e, g, lo.data(), hi.data());
  }
}

std::vector<int32_t> entries_per_sequence(const KvCacheReader& reader, int32_t batch, int32_t page, int32_t cap) {
  std::vector<int32_t> entries(static_cast<size_t>(batch));
  for (int32_t b = 0; b < batch; ++b) entries[size_t(b)] = entries_of(std::min(reader.seqlen(b), cap), page);
  return entries;
}

// The decode step's selection for KV head g of sequence b (len >= 1): the
// attended tokens in increasing order.
std::vector<int32_t> select_tokens(const RocketDecodeProblem& p, const KtRows& kt, const std::vector<float>& q,
                                   int32_t b, int32_t g, int32_t len) {
  const int32_t dim = p.kv.head_dim, group = p.plan.group, P = p.rocket.page;
  const int32_t n = entries_of(len, P);
  const std::vector<int32_t> dims = rocket::bound_dims(q, group, dim, p.rocket.topr);
  std::vector<double> mean(static_cast<size_t>(n), 0.0), u(static_cast<size_t>(n));
  std::vector<float> lo(static_cast<size_t>(dim)), hi(static_cast<size_t>(dim));
  for (int32_t h = 0; h < group; ++h) {
    const float* qh = &q[size_t(h) * dim];
    for (int32_t e = 0; e < n; ++e) {
      kt.read(b, e, g, lo.data(), hi.data());
      double bound = 0.0;
      for (const int32_t d : dims) {
        bound += std::max(double(qh[d]) * lo[size_t(d)], double(qh[d]) * hi[size_t(d)]);
      }
      u[size_t(e)] = double(p.softmax_scale) * bound;
    }
    const double m = *std::max_element(u.begin(), u.end());
    double z = 0.0;
    for (int32_t e = 0; e < n; ++e) z += std::exp(u[size_t(e)] - m);
    for (int32_t e = 0; e < n; ++e) mean[size_t(e)] += std::exp(u[size_t(e)] - m) / z / group;
  }
  std::vector<int32_t> tokens;
  for (const int32_t e : rocket::top_k(mean, std::min(p.rocket.topk, n))) {
    for (int32_t j = e * P; j < std::min(len, e * P + P); ++j) tokens.push_back(j);
  }
  return tokens;
}

}  // namespace

void reference_rocket_context(const RocketContextProblem& p, const char* function) {
  const KvCacheReader reader(p.kv, p.batch, function, "args.kv_cache");
  const int32_t B = p.rocket.budget;
  const KtRows kt(p.kt, entries_per_sequence(reader, p.batch, p.rocket.page, B), function);
  for (int32_t b = 0; b < p.batch; ++b) {
    const int32_t kept_len = std::min(reader.seqlen(b), B);
    for (int32_t g = 0; g < p.kv.num_kv_heads; ++g) {
      const std::vector<int32_t> kept = kept_positions(p, reader, b, g);
      if (p.kept_indices != nullptr) {
        int32_t* row = p.kept_indices + (int64_t(b) * p.kv.num_kv_heads + g) * B;
        for (int32_t t = 0; t < B; ++t) row[t] = t < kept_len ? kept[size_t(t)] : -1;
      }
      if (reader.seqlen(b) >= B) compact(p.kv, reader, b, g, kept);
      build_kt(kt, p.kv, reader.keys(b, g), kept_len, p.rocket.page, b, g);
    }
    if (p.seqlens_out != nullptr) p.seqlens_out[b] = kept_len;
  }
}

void reference_rocket_decode(const RocketDecodeProblem& p, const char* function) {
  const KvCacheReader reader(p.kv, p.batch, function, "args.kv_cache");
  const KtRows kt(p.kt, entries_per_sequence(reader, p.batch, p.rocket.page, p.kv.max_seqlen_kv), function);
  const int32_t dim = p.kv.head_dim, group = p.plan.group;
  // The lists: the caller's, or our own.
  std::vector<int32_t> own;
  int32_t* lists = p.selected_indices;
  if (lists == nullptr) {
    own.resize(size_t(p.batch) * p.kv.num_kv_heads * p.plan.max_selected);
    lists = own.data();
  }
  std::vector<float> lo(static_cast<size_t>(dim)), hi(static_cast<size_t>(dim));
  for (int32_t b = 0; b < p.batch; ++b) {
    const int32_t len = reader.seqlen(b);
    for (int32_t g = 0; g < p.kv.num_kv_heads; ++g) {
      std::vector<int32_t> tokens;
      if (len > 0) {
        const int32_t e = (len - 1) / p.rocket.page;
        const std::vector<float> k = dequantized_key(reader.keys(b, g), len - 1, p.kv);
        if ((len - 1) % p.rocket.page == 0) {
          kt.write(b, e, g, k.data(), k.data());
        } else {
          kt.read(b, e, g, lo.data(), hi.data());
          for (int32_t d = 0; d < dim; ++d) {
            lo[size_t(d)] = std::min(lo[size_t(d)], k[size_t(d)]);
            hi[size_t(d)] = std::max(hi[size_t(d)], k[size_t(d)]);
          }
          kt.write(b, e, g, lo.data(), hi.data());
        }
        tokens = select_tokens(p, kt, query_rows(p.q, p.dtype, b, g, group, 1, dim), b, g, len);
      }
      int32_t* row = lists + (int64_t(b) * p.kv.num_kv_heads + g) * p.plan.max_selected;
      for (int32_t t = 0; t < p.plan.max_selected; ++t) row[t] = t < int32_t(tokens.size()) ? tokens[size_t(t)] : -1;
    }
  }
  reference_sparse(rocket_attention(p, lists, nullptr), function);
}

}  // namespace spattn::attention
