// CPU reference of the decode step, written for clarity:
//  - per sequence b, KV head g and tile of up to 128 rows (row r = query
//    r / group, head g * group + r % group), the keys are cut into the plan's
//    splits of whole 128-key tiles;
//  - in a split, tiles are visited in increasing order with a running maximum
//    per row that starts at -inf; a tile other than the split's first is
//    skipped when every row allows it (skip_rule.hpp), with lambda from the
//    sequence's key count (or skip_seqlen_kv) and off when lambda >= 1;
//  - raw logits are float32 dot products of the query with the stored key
//    (FP8 keys unscaled), scaled by logit_scale_log2, exactly as the kernel;
//    the online softmax accumulates in double;
//  - each split gives O = acc / sum * v_scale and LSE = ln(sum) + m ln 2;
//    the splits are merged by their LSE in double.
#include "attention/decode_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention/half_float.hpp"
#include "attention/skip_rule.hpp"

namespace spattn::attention {
namespace {

constexpr int32_t kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr double kInf = std::numeric_limits<double>::infinity();

// One row's result over one split.
struct Partial {
  std::vector<double> o;  // normalized, times v_scale
  double lse = -kInf;
};

class GroupRunner {
 public:
  GroupRunner(const DecodeProblem& p, const KvCacheReader& kv, int32_t b, int32_t g)
      : p_(p), b_(b), g_(g), dim_(p.kv.head_dim), dim_v_(p.kv.head_dim_v),
        lk_(kv.seqlen(b)), keys_(kv.keys(b, g)), values_(kv.values(b, g)) {
    scale_log2_ = logit_scale_log2(p.softmax_scale, p.kv.k_scale);
    log2_lambda_ = decode_skip_log2_lambda(p.threshold_scale_factor, p.skip_seqlen_kv > 0 ? p.skip_seqlen_kv : lk_);
  }

  // Runs row tile `rt`; appends each row's partials (one per split) to `out`.
  void run_row_tile(int32_t rt, unsigned long long counters[2]) {
    const int32_t r0 = rt * kDecodeTileRows;
    const int32_t rows = std::min(kDecodeTileRows, p_.plan.rows - r0);
    std::vector<std::vector<float>> q(static_cast<size_t>(rows));
    for (int32_t r = 0; r < rows; ++r) q[size_t(r)] = query(r0 + r);
    const int32_t n_tiles = (lk_ + kTileK - 1) / kTileK;
    std::vector<std::vector<Partial>> partials(static_cast<size_t>(rows));
    for (int32_t s = 0; s < p_.plan.num_splits; ++s) {
      const int32_t t0 = s * p_.plan.tiles_per_split;
      const int32_t t1 = std::min(n_tiles, t0 + p_.plan.tiles_per_split);
      run_split(r0, rows, q, t0, t1, counters, partials);
    }
    for (int32_t r = 0; r < rows; ++r) write(r0 + r, partials[size_t(r)]);
  }

 private:
  int32_t query_index(int32_t row) const { return row / p_.plan.group; }
  int32_t head(int32_t row) const { return g_ * p_.plan.group + row % p_.plan.group; }

  std::vector<float> query(int32_t row) const {
    const uint16_t* base = static_cast<const uint16_t*>(p_.q.data) + b_ * p_.q.batch_stride +
                           int64_t(query_index(row)) * p_.q.token_stride + int64_t(head(row)) * p_.q.head_stride;
    std::vector<float> q(static_cast<size_t>(dim_));
    for (int32_t d = 0; d < dim_; ++d) q[size_t(d)] = storage_to_float(base[d], p_.dtype == SPATTN_DTYPE_BFLOAT16);
    return q;
  }

  // Last key a row sees (inclusive).
  int64_t last_key(int32_t row) const {
    return p_.causal ? std::min<int64_t>(lk_ - 1, int64_t(query_index(row)) + lk_ - p_.seqlen_q) : lk_ - 1;
  }

  void run_split(int32_t r0, int32_t rows, const std::vector<std::vector<float>>& q, int32_t t0, int32_t t1,
                 unsigned long long counters[2], std::vector<std::vector<Partial>>& partials) const {
    std::vector<double> m(size_t(rows), -kInf), sum(size_t(rows), 0.0);
    std::vector<double> acc(size_t(rows) * dim_v_, 0.0);
    std::vector<float> s(size_t(rows) * kTileK), row_max(static_cast<size_t>(rows));
    for (int32_t t = t0; t < t1; ++t) {
      const int32_t k0 = t * kTileK;
      const int32_t keys = std::min(kTileK, lk_ - k0);
      for (int32_t r = 0; r < rows; ++r) {
        const int64_t limit = last_key(r0 + r);
        float mx = -INFINITY;
        for (int32_t j = 0; j < keys; ++j) {
          float dot = -INFINITY;
          if (k0 + j <= limit) {
            const float* k = &keys_[size_t(k0 + j) * dim_];
            dot = 0.0f;
            for (int32_t d = 0; d < dim_; ++d) dot += q[size_t(r)][size_t(d)] * k[d];
          }
          s[size_t(r) * kTileK + j] = dot;
          mx = std::max(mx, dot);
        }
        row_max[size_t(r)] = mx;
      }
      counters[0] += 1;
      bool skip = t > t0;
      for (int32_t r = 0; r < rows && skip; ++r) {
        skip = row_allows_skip(row_max[size_t(r)] * scale_log2_, float(m[size_t(r)]), log2_lambda_);
      }
      if (p_.debug_decisions != nullptr) {
        p_.debug_decisions[decision_index(p_.kv.num_kv_heads, p_.plan.row_tiles, p_.plan.max_tiles, b_, g_,
                                        r0 / kDecodeTileRows, t)] =
            skip ? kTileSkipped : kTileKept;
      }
      if (skip) {
        counters[1] += 1;
        continue;
      }
      for (int32_t r = 0; r < rows; ++r) {
        if (row_max[size_t(r)] == -INFINITY) continue;
        const double m_new = std::max(m[size_t(r)], double(row_max[size_t(r)] * scale_log2_));
        const double alpha = std::exp2(m[size_t(r)] - m_new);
        sum[size_t(r)] *= alpha;
        double* a = &acc[size_t(r) * dim_v_];
        for (int32_t d = 0; d < dim_v_; ++d) a[d] *= alpha;
        for (int32_t j = 0; j < keys; ++j) {
          const float raw = s[size_t(r) * kTileK + j];
          if (raw == -INFINITY) continue;
          const double w = std::exp2(double(raw * scale_log2_) - m_new);
          sum[size_t(r)] += w;
          const float* v = &values_[size_t(k0 + j) * dim_v_];
          for (int32_t d = 0; d < dim_v_; ++d) a[d] += w * v[d];
        }
        m[size_t(r)] = m_new;
      }
    }
    for (int32_t r = 0; r < rows; ++r) {
      Partial part;
      part.o.assign(size_t(dim_v_), 0.0);
      if (sum[size_t(r)] > 0.0) {
        for (int32_t d = 0; d < dim_v_; ++d) {
          part.o[size_t(d)] = acc[size_t(r) * dim_v_ + d] / sum[size_t(r)] * p_.kv.v_scale;
        }
        part.lse = (m[size_t(r)] + std::log2(sum[size_t(r)])) * std::log(2.0);
      }
      partials[size_t(r)].push_back(std::move(part));
    }
  }

  // Merges a row's splits by their LSE and stores the row.
  void write(int32_t row, const std::vector<Partial>& parts) const {
    double lse_max = -kInf;
    for (const Partial& part : parts) lse_max = std::max(lse_max, part.lse);
    std::vector<double> o(size_t(dim_v_), 0.0);
    double lse = -kInf;
    if (lse_max > -kInf) {
      double total = 0.0;
      for (const Partial& part : parts) total += std::exp(part.lse - lse_max);
      lse = lse_max + std::log(total);
      for (const Partial& part : parts) {
        const double w = std::exp(part.lse - lse);
        for (int32_t d = 0; d < dim_v_; ++d) o[size_t(d)] += w * part.o[size_t(d)];
      }
    }
    const int32_t i = query_index(row), h = head(row);
    uint16_t* out = static_cast<uint16_t*>(p_.out) + b_ * p_.out_strides[0] + int64_t(i) * p_.out_strides[1] +
                    int64_t(h) * p_.out_strides[2];
    for (int32_t d = 0; d < dim_v_; ++d) {
      out[d] = float_to_storage(float(o[size_t(d)]), p_.dtype == SPATTN_DTYPE_BFLOAT16);
    }
    if (p_.lse != nullptr) p_.lse[(int64_t(b_) * p_.num_heads + h) * p_.seqlen_q + i] = float(lse);
  }

  const DecodeProblem& p_;
  int32_t b_, g_, dim_, dim_v_, lk_;
  std::vector<float> keys_, values_;
  float scale_log2_ = 0.0f;
  float log2_lambda_ = -INFINITY;
};

}  // namespace

void reference_decode(const DecodeProblem& p, const char* function) {
  const KvCacheReader kv(p.kv, p.batch, function, "args.kv_cache");
  unsigned long long counters[2] = {0, 0};
  for (int32_t b = 0; b < p.batch; ++b) {
    for (int32_t g = 0; g < p.kv.num_kv_heads; ++g) {
      GroupRunner runner(p, kv, b, g);
      for (int32_t rt = 0; rt < p.plan.row_tiles; ++rt) runner.run_row_tile(rt, counters);
    }
  }
  if (p.tile_counters != nullptr) {
    p.tile_counters[0] += counters[0];
    p.tile_counters[1] += counters[1];
  }
}

}  // namespace spattn::attention
