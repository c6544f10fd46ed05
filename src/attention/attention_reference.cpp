// CPU reference of the skip-softmax (BLASST) flash-attention forward pass.
//
// Same algorithm as cuda/prefill/attention_forward.cu, written for clarity:
//  - per (batch, head), query tiles of SPATTN_SKIP_TILE_QUERIES rows, each
//    walking KV tiles of SPATTN_SKIP_TILE_KEYS keys in increasing order;
//  - raw logits s = q.k in float32; scaled logits in log2 units
//    l = s * (softmax_scale * log2(e)), computed as rowmax(s) * c for the
//    row maxima, exactly as the kernel does;
//  - a KV tile other than the first is skipped when every valid row has
//    rowmax_l - m_running < log2(lambda) (or no unmasked key in the tile);
//  - the online softmax accumulates in double;
//  - N:M sparse softmax and NVFP4 P quantization (sparse_softmax.hpp) apply
//    to the tiles that are not skipped: pruned keys are -inf before the
//    exponentials (the row maxima, hence the skip decisions, are the same
//    with or without pruning: a group's largest score is always kept), and
//    the P of each 16-key block is rounded (from float) before P.V while the
//    row sum takes the unrounded P.
#include "attention/attention_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attention/half_float.hpp"
#include "attention/sparse_softmax.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

constexpr int kTileQ = SPATTN_SKIP_TILE_QUERIES;
constexpr int kTileK = SPATTN_SKIP_TILE_KEYS;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Sequence {
  int64_t q_token0 = 0;   // first token on the packed/fixed token axis
  int64_t kv_token0 = 0;
  int32_t lq = 0;
  int32_t lk = 0;
  int64_t q_batch = 0;    // batch index for the batch stride (0 when packed)
};

// Reads rows [token0, token0 + count) of one head into floats.
std::vector<float> read_rows(const TensorView& t, bool bf16, int64_t batch, int64_t token0,
                             int32_t count, int64_t head, int32_t dim) {
  std::vector<float> rows(size_t(count) * dim);
  const uint16_t* base = static_cast<const uint16_t*>(t.data);
  for (int32_t i = 0; i < count; ++i) {
    const uint16_t* row =
        base + batch * t.batch_stride + (token0 + i) * t.token_stride + head * t.head_stride;
    for (int32_t d = 0; d < dim; ++d) rows[size_t(i) * dim + d] = storage_to_float(row[d], bf16);
  }
  return rows;
}

std::vector<Sequence> sequences(const Problem& p, const KvCacheReader* cache, const char* function) {
  std::vector<Sequence> seqs(size_t(p.batch));
  for (int32_t b = 0; b < p.batch; ++b) {
    Sequence& s = seqs[size_t(b)];
    if (cache != nullptr) {  // keys from the cache: its lengths; queries fixed or packed
      s.lk = cache->seqlen(b);
      s.lq = p.seqlen_q;
      s.q_batch = b;
      if (!p.packed()) continue;
      const int32_t q0 = p.cu_seqlens_q[b], q1 = p.cu_seqlens_q[b + 1];
      if ((b == 0 && q0 != 0) || q1 < q0 || q1 - q0 > p.seqlen_q) {
        fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": args.cu_seqlens_q entry " + std::to_string(b) +
                                              " is inconsistent (offsets must start at 0, not decrease, and give "
                                              "lengths <= args.seqlen_q)");
      }
      s.q_token0 = q0;
      s.lq = q1 - q0;
      s.q_batch = 0;
      continue;
    }
    if (!p.packed()) {
      s.lq = p.seqlen_q;
      s.lk = p.seqlen_kv;
      s.q_batch = b;
      continue;
    }
    const int32_t q0 = p.cu_seqlens_q[b], q1 = p.cu_seqlens_q[b + 1];
    const int32_t k0 = p.cu_seqlens_kv[b], k1 = p.cu_seqlens_kv[b + 1];
    if ((b == 0 && (q0 != 0 || k0 != 0)) || q1 < q0 || k1 < k0 || q1 - q0 > p.seqlen_q ||
        k1 - k0 > p.seqlen_kv) {
      fail(SPATTN_ERR_INVALID_ARGUMENT,
           std::string(function) + ": args.cu_seqlens_q/cu_seqlens_kv entry " +
               std::to_string(b) +
               " is inconsistent (offsets must start at 0, not decrease, and give lengths <= "
               "args.seqlen_q/seqlen_kv)");
    }
    s.q_token0 = q0;
    s.kv_token0 = k0;
    s.lq = q1 - q0;
    s.lk = k1 - k0;
  }
  // Given totals must be what the offsets say (the GPU cannot check this).
  if (cache == nullptr && p.packed() && p.total_q != 0 &&
      (p.total_q != p.cu_seqlens_q[p.batch] || p.total_kv != p.cu_seqlens_kv[p.batch])) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         std::string(function) + ": args.total_q " + std::to_string(p.total_q) + " / total_kv " +
             std::to_string(p.total_kv) + " differ from cu_seqlens_q[batch] " +
             std::to_string(p.cu_seqlens_q[p.batch]) + " / cu_seqlens_kv[batch] " +
             std::to_string(p.cu_seqlens_kv[p.batch]));
  }
  return seqs;
}

// Output state of one query tile.
struct TileState {
  std::vector<double> m;    // running max of scaled logits (log2 units), as float values
  std::vector<double> sum;  // running sum of exp2(l - m)
  std::vector<double> acc;  // [rows][dim]
};

class HeadRunner {
 public:
  HeadRunner(const Problem& p, const Sequence& s, const KvCacheReader* cache, int32_t batch_index, int32_t head)
      : p_(p), s_(s), b_(batch_index), h_(head), dim_(p.head_dim), bf16_(p.dtype == SPATTN_DTYPE_BFLOAT16) {
    const int32_t kv_head = head / (p.num_heads / p.num_kv_heads);
    q_ = read_rows(p.q, bf16_, s.q_batch, s.q_token0, s.lq, head, dim_);
    if (cache != nullptr) {  // stored values; the FP8 scales are applied below, as the kernel does
      k_ = cache->keys(batch_index, kv_head);
      v_ = cache->values(batch_index, kv_head);
      v_scale_ = p.kv.v_scale;
    } else {
      k_ = read_rows(p.k, bf16_, s.q_batch, s.kv_token0, s.lk, kv_head, dim_);
      v_ = read_rows(p.v, bf16_, s.q_batch, s.kv_token0, s.lk, kv_head, dim_);
    }
    scale_log2_ = logit_scale_log2(p.softmax_scale, p.has_kv_cache ? p.kv.k_scale : 1.0f);
    log2_lambda_ = skip_log2_lambda(p.threshold_scale_factor, skip_length(p.skip_seqlen_kv, s.lk));
  }

  void run(unsigned long long counters[2]) {
    for (int32_t q0 = 0; q0 < s_.lq; q0 += kTileQ) run_query_tile(q0, counters);
  }

 private:
  // Last key row i may see (inclusive); Lk - 1 when not causal.
  int64_t last_key(int32_t row) const {
    return p_.causal ? std::min<int64_t>(s_.lk - 1, int64_t(row) + s_.lk - s_.lq) : s_.lk - 1;
  }

  void run_query_tile(int32_t q0, unsigned long long counters[2]) {
    const int32_t rows = std::min(kTileQ, s_.lq - q0);
    const int64_t visible = last_key(q0 + rows - 1) + 1;  // keys any row of the tile sees
    const int32_t kv_tiles = visible <= 0 ? 0 : int32_t((visible + kTileK - 1) / kTileK);
    TileState st;
    st.m.assign(size_t(rows), double(kNegInf));
    st.sum.assign(size_t(rows), 0.0);
    st.acc.assign(size_t(rows) * dim_, 0.0);
    std::vector<float> s(size_t(rows) * kTileK);
    std::vector<float> row_max(static_cast<size_t>(rows));
    for (int32_t t = 0; t < kv_tiles; ++t) {
      const int32_t k0 = t * kTileK;
      const int32_t keys = std::min(kTileK, s_.lk - k0);
      logits(q0, rows, k0, keys, s, row_max);
      counters[0] += 1;
      const bool skip = t > 0 && skippable(rows, row_max, st);
      record_decision(q0 / kTileQ, t, skip);
      if (skip) {
        counters[1] += 1;
        continue;
      }
      accumulate(q0, rows, k0, keys, s, row_max, st);
    }
    write(q0, rows, st);
  }

  // The test hook (Problem::tile_decisions).
  void record_decision(int32_t q_tile, int32_t kv_tile, bool skip) const {
    if (p_.tile_decisions == nullptr) return;
    p_.tile_decisions[tile_decision_index(b_, h_, q_tile, kv_tile, p_.num_heads, p_.seqlen_q, p_.seqlen_kv)] =
        skip ? kTileSkipped : kTileKept;
  }

  // Raw float32 logits of the tile (all kTileK columns), -inf where masked or
  // past the sequence end, and the row maxima.
  void logits(int32_t q0, int32_t rows, int32_t k0, int32_t keys, std::vector<float>& s,
              std::vector<float>& row_max) const {
    for (int32_t r = 0; r < rows; ++r) {
      const float* q = &q_[size_t(q0 + r) * dim_];
      const int64_t limit = last_key(q0 + r);
      float mx = kNegInf;
      for (int32_t j = 0; j < keys; ++j) {
        float dot = kNegInf;
        if (k0 + j <= limit) {
          const float* k = &k_[size_t(k0 + j) * dim_];
          dot = 0.0f;
          for (int32_t d = 0; d < dim_; ++d) dot += q[d] * k[d];
        }
        s[size_t(r) * kTileK + j] = dot;
        mx = std::max(mx, dot);
      }
      for (int32_t j = keys; j < kTileK; ++j) s[size_t(r) * kTileK + j] = kNegInf;  // past the end
      row_max[size_t(r)] = mx;
    }
  }

  bool skippable(int32_t rows, const std::vector<float>& row_max, const TileState& st) const {
    for (int32_t r = 0; r < rows; ++r) {
      const float tile_max = row_max[size_t(r)] * scale_log2_;  // -inf stays -inf: the scale is > 0
      if (!row_allows_skip(tile_max, float(st.m[size_t(r)]), log2_lambda_)) return false;
    }
    return true;
  }

  // Diagonal key of row i (bottom-right alignment), for the dense window.
  int32_t diagonal(int32_t row) const { return row + (s_.lk - s_.lq); }

  // N:M pruning of row r's logits in the tile (in place: pruned -> -inf).
  // Groups start at multiples of M; the tile start is one (128 % M == 0).
  void prune_nm(int32_t q0, int32_t r, int32_t k0, float* row) const {
    const int m = p_.sparsity_m;
    for (int32_t g0 = 0; g0 < kTileK; g0 += m) {
      float group[8];
      for (int i = 0; i < m; ++i) group[i] = row[g0 + i];
      for (int i = 0; i < m; ++i) {
        int rank = 0;
        for (int j = 0; j < m; ++j) rank += nm_outranks(group[j], j, group[i], i) ? 1 : 0;
        const bool dense =
            nm_dense_key(k0 + g0 + i, diagonal(q0 + r), p_.num_sink_tokens, p_.dense_window_size);
        if (!nm_keeps(rank, p_.sparsity_n, dense)) row[g0 + i] = kNegInf;
      }
    }
  }

  void accumulate(int32_t q0, int32_t rows, int32_t k0, int32_t keys, std::vector<float>& s,
                  const std::vector<float>& row_max, TileState& st) const {
    std::vector<double> prob(kTileK);
    for (int32_t r = 0; r < rows; ++r) {
      if (row_max[size_t(r)] == kNegInf) continue;
      float* row = &s[size_t(r) * kTileK];
      if (p_.nm_sparse()) prune_nm(q0, r, k0, row);
      const float tile_max = row_max[size_t(r)] * scale_log2_;
      const double m_old = st.m[size_t(r)];
      const double m_new = std::max(m_old, double(tile_max));
      const double alpha = std::exp2(m_old - m_new);  // 0 when m_old is -inf
      st.sum[size_t(r)] *= alpha;
      double* acc = &st.acc[size_t(r) * dim_];
      for (int32_t d = 0; d < dim_; ++d) acc[d] *= alpha;
      for (int32_t j = 0; j < kTileK; ++j) {
        const float raw = j < keys ? row[j] : kNegInf;
        prob[size_t(j)] = raw == kNegInf ? 0.0 : std::exp2(double(raw * scale_log2_) - m_new);
        st.sum[size_t(r)] += prob[size_t(j)];  // the row sum takes P before any rounding
      }
      if (p_.quantize_p) {
        for (int32_t b0 = 0; b0 < kTileK; b0 += 16) {
          float amax = 0.0f;
          for (int32_t j = b0; j < b0 + 16; ++j) amax = std::max(amax, float(prob[size_t(j)]));
          const Nvfp4Scale scale = nvfp4_p_scale(amax);
          for (int32_t j = b0; j < b0 + 16; ++j) {
            prob[size_t(j)] = nvfp4_p_round(float(prob[size_t(j)]), scale);
          }
        }
      }
      for (int32_t j = 0; j < keys; ++j) {
        if (prob[size_t(j)] == 0.0) continue;
        const float* v = &v_[size_t(k0 + j) * dim_];
        for (int32_t d = 0; d < dim_; ++d) acc[d] += prob[size_t(j)] * v[d];
      }
      st.m[size_t(r)] = m_new;
    }
  }

  void write(int32_t q0, int32_t rows, const TileState& st) const {
    uint16_t* out = static_cast<uint16_t*>(p_.out);
    for (int32_t r = 0; r < rows; ++r) {
      const int64_t token = s_.q_token0 + q0 + r;
      uint16_t* o = out + s_.q_batch * p_.out_strides[0] + token * p_.out_strides[1] +
                    int64_t(h_) * p_.out_strides[2];
      const double sum = st.sum[size_t(r)];
      for (int32_t d = 0; d < dim_; ++d) {
        const double value = sum > 0.0 ? st.acc[size_t(r) * dim_ + d] / sum * v_scale_ : 0.0;
        o[d] = float_to_storage(float(value), bf16_);
      }
      if (p_.lse != nullptr) {
        const double lse = sum > 0.0 ? (st.m[size_t(r)] + std::log2(sum)) * std::log(2.0)
                                     : -std::numeric_limits<double>::infinity();
        int64_t index;
        if (p_.packed()) {
          index = int64_t(h_) * p_.cu_seqlens_q[p_.batch] + token;
        } else {
          index = (int64_t(b_) * p_.num_heads + h_) * p_.seqlen_q + q0 + r;
        }
        p_.lse[index] = float(lse);
      }
    }
  }

  const Problem& p_;
  const Sequence& s_;
  int32_t b_, h_, dim_;
  bool bf16_;
  std::vector<float> q_, k_, v_;
  float scale_log2_ = 0.0f;
  float log2_lambda_ = 0.0f;
  double v_scale_ = 1.0;
};

}  // namespace

void reference_forward(const Problem& p, const char* function) {
  std::unique_ptr<KvCacheReader> cache;
  if (p.has_kv_cache) cache = std::make_unique<KvCacheReader>(p.kv, p.batch, function, "args.kv_cache");
  const std::vector<Sequence> seqs = sequences(p, cache.get(), function);
  unsigned long long counters[2] = {0, 0};
  for (int32_t b = 0; b < p.batch; ++b) {
    for (int32_t h = 0; h < p.num_heads; ++h) {
      HeadRunner runner(p, seqs[size_t(b)], cache.get(), b, h);
      runner.run(counters);
    }
  }
  if (p.tile_counters != nullptr) {
    p.tile_counters[0] += counters[0];
    p.tile_counters[1] += counters[1];
  }
}

}  // namespace spattn::attention
