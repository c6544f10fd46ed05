// CPU reference of index-sparse attention, written for clarity: for each
// sequence b, query i and KV head g, the list is read into the set of its
// keys (entries -1 and, with causal, keys after the query's diagonal are
// skipped; anything else outside [0, L_kv) or repeated is an error); every
// query head of g then gets a float64 softmax of q.k * softmax_scale *
// k_scale over that set, O = sum p v / sum p * v_scale and LSE = ln(sum
// exp(logit)), rounded once to the output types.
#include "attention/sparse_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "attention/half_float.hpp"
#include "attention/query_runs.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

std::string where(int32_t b, int32_t i, int32_t g, int32_t slot) {
  return "args.indices of sequence " + std::to_string(b) + ", query token " + std::to_string(i) + ", KV head " +
         std::to_string(g) + ", slot " + std::to_string(slot);
}

// The keys a row attends to, in increasing order.
std::vector<int32_t> list_keys(const int32_t* list, int32_t topk, int32_t lk, int64_t last_key, bool causal,
                               int32_t b, int32_t i, int32_t g, const char* function) {
  std::vector<int32_t> keys;
  std::vector<int32_t> first_slot(size_t(lk), -1);
  for (int32_t s = 0; s < topk; ++s) {
    const int32_t key = list[s];
    if (key == -1) continue;
    if (key < -1 || key >= lk) {
      fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + where(b, i, g, s) + " is " +
                                            std::to_string(key) + "; must be -1 or a key in [0, " +
                                            std::to_string(lk) + ") of the sequence");
    }
    if (first_slot[size_t(key)] >= 0) {
      fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": " + where(b, i, g, s) + " repeats key " +
                                            std::to_string(key) + " of slot " +
                                            std::to_string(first_slot[size_t(key)]));
    }
    first_slot[size_t(key)] = s;
    if (causal && key > last_key) continue;
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

class SequenceRunner {
 public:
  SequenceRunner(const SparseProblem& p, const KvCacheReader& kv, const QueryRun& run, int32_t b, int32_t g)
      : p_(p), run_(run), b_(b), g_(g), lk_(kv.seqlen(b)), keys_(kv.keys(b, g)), values_(kv.values(b, g)) {}

  void run_query(int32_t i, const char* function) const {
    const int64_t t = query_token(run_, p_.packed(), i);
    const int32_t* list = p_.lists.list(b_, t, g_);
    const int64_t last_key = int64_t(i) + lk_ - run_.lq;
    const std::vector<int32_t> keys = list_keys(list, p_.lists.topk, lk_, last_key, p_.causal, b_, i, g_, function);
    for (int32_t hg = 0; hg < p_.plan.group; ++hg) run_head(i, t, g_ * p_.plan.group + hg, keys);
  }

 private:
  void run_head(int32_t i, int64_t t, int32_t h, const std::vector<int32_t>& keys) const {
    const bool bf16 = p_.dtype == SPATTN_DTYPE_BFLOAT16;
    const int32_t d = p_.kv.head_dim, dv = p_.kv.head_dim_v;
    const uint16_t* qrow = static_cast<const uint16_t*>(p_.q.data) + (p_.packed() ? 0 : b_ * p_.q.batch_stride) +
                           t * p_.q.token_stride + int64_t(h) * p_.q.head_stride;
    std::vector<double> q(static_cast<size_t>(d));
    for (int32_t k = 0; k < d; ++k) q[size_t(k)] = storage_to_float(qrow[k], bf16);
    const double scale = double(p_.softmax_scale) * double(p_.kv.k_scale);
    std::vector<double> logit(keys.size());
    double mx = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < keys.size(); ++j) {
      const float* krow = &keys_[size_t(keys[j]) * d];
      double dot = 0.0;
      for (int32_t k = 0; k < d; ++k) dot += q[size_t(k)] * double(krow[k]);
      logit[j] = dot * scale;
      mx = std::max(mx, logit[j]);
    }
    std::vector<double> o(size_t(dv), 0.0);
    double sum = 0.0;
    for (size_t j = 0; j < keys.size(); ++j) {
      const double w = std::exp(logit[j] - mx);
      sum += w;
      const float* vrow = &values_[size_t(keys[j]) * dv];
      for (int32_t k = 0; k < dv; ++k) o[size_t(k)] += w * double(vrow[k]);
    }
    uint16_t* orow = static_cast<uint16_t*>(p_.out) + (p_.packed() ? 0 : b_ * p_.out_strides[0]) +
                     t * p_.out_strides[1] + int64_t(h) * p_.out_strides[2];
    for (int32_t k = 0; k < dv; ++k) {
      const double value = sum > 0.0 ? o[size_t(k)] / sum * double(p_.kv.v_scale) : 0.0;
      orow[k] = float_to_storage(float(value), bf16);
    }
    if (p_.lse != nullptr) {
      const double lse = sum > 0.0 ? mx + std::log(sum) : -std::numeric_limits<double>::infinity();
      const int64_t index = p_.packed() ? int64_t(h) * p_.cu_seqlens_q[p_.batch] + t
                                        : (int64_t(b_) * p_.num_heads + h) * p_.seqlen_q + i;
      p_.lse[index] = float(lse);
    }
  }

  const SparseProblem& p_;
  const QueryRun& run_;
  int32_t b_, g_, lk_;
  std::vector<float> keys_, values_;
};

}  // namespace

void reference_sparse(const SparseProblem& p, const char* function) {
  const std::vector<QueryRun> runs = query_runs(p.cu_seqlens_q, p.batch, p.seqlen_q, function);
  const KvCacheReader kv(p.kv, p.batch, function, "args.kv_cache");
  for (int32_t b = 0; b < p.batch; ++b) {
    for (int32_t g = 0; g < p.kv.num_kv_heads; ++g) {
      const SequenceRunner runner(p, kv, runs[size_t(b)], b, g);
      for (int32_t i = 0; i < runs[size_t(b)].lq; ++i) runner.run_query(i, function);
    }
  }
}

}  // namespace spattn::attention
