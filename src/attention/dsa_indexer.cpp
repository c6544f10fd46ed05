// Validation and CPU reference of the DSA lightning indexer.
#include "attention/dsa_indexer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "attention/arg_checks.hpp"
#include "attention/fp8.hpp"
#include "attention/half_float.hpp"
#include "attention/query_runs.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

void require_nonnegative(const int64_t* strides, int n, const char* field, const char* function) {
  for (int i = 0; i < n; ++i) {
    if (strides[i] < 0) {
      invalid(function, std::string("args.") + field + "[" + std::to_string(i) + "] is " +
                            std::to_string(strides[i]) + "; strides must be >= 0");
    }
  }
}

// Decoded stored query value (FP8 unscaled, as in the kernel's products).
float query_value(const IndexerProblem& p, int64_t offset) {
  if (p.q_fp8()) return e4m3_to_float(static_cast<const uint8_t*>(p.q.data)[offset]);
  return storage_to_float(static_cast<const uint16_t*>(p.q.data)[offset], p.q_dtype == SPATTN_DTYPE_BFLOAT16);
}

}  // namespace

IndexerProblem resolve_indexer(const spattn_dsa_indexer_args* args, const char* function, bool with_logits) {
  require_arg(args, function, "args");
  const spattn_dsa_indexer_args a = read_struct(args, function, "args");
  if (a.q_dtype != SPATTN_DTYPE_FLOAT8_E4M3 && a.q_dtype != SPATTN_DTYPE_BFLOAT16 &&
      a.q_dtype != SPATTN_DTYPE_FLOAT16) {
    invalid(function, "args.q_dtype is " + std::to_string(int(a.q_dtype)) +
                          "; expected SPATTN_DTYPE_FLOAT8_E4M3 (3), SPATTN_DTYPE_BFLOAT16 (2) or "
                          "SPATTN_DTYPE_FLOAT16 (1)");
  }
  checks::in_range(a.batch, 1, 65535, "args.batch", function);
  checks::in_range(a.seqlen_q, 1, INT32_MAX, "args.seqlen_q", function);
  checks::in_range(a.num_heads, 1, 128, "args.num_heads", function);
  require_arg(a.q, function, "args.q");
  require_arg(a.weights, function, "args.weights");
  require_nonnegative(a.q_strides, 3, "q_strides", function);
  require_nonnegative(a.weight_strides, 2, "weight_strides", function);
  require_nonnegative(a.k_token_scale_strides, 2, "k_token_scale_strides", function);

  IndexerProblem p;
  p.k = resolve_kv_cache(a.k_cache, a.batch, a.q_dtype, function, "args.k_cache");
  if (p.k.num_kv_heads != 1) {
    invalid(function, "args.k_cache->num_kv_heads is " + std::to_string(p.k.num_kv_heads) +
                          "; the indexer's keys have one head (give 1)");
  }
  if (p.k.head_dim != 64 && p.k.head_dim != 128) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.k_cache->head_dim (index_head_dim) is " +
                                     std::to_string(p.k.head_dim) + "; supported: 64, 128");
  }
  if (with_logits) {
    require_arg(a.logits, function, "args.logits");
    if (a.logits_row_stride < p.k.max_seqlen_kv) {
      invalid(function, "args.logits_row_stride is " + std::to_string(a.logits_row_stride) +
                            "; must be >= args.k_cache->max_seqlen_kv (" + std::to_string(p.k.max_seqlen_kv) + ")");
    }
    p.logits = a.logits;
    p.logits_row_stride = a.logits_row_stride;
  }
  p.q_dtype = a.q_dtype;
  p.batch = a.batch;
  p.seqlen_q = a.seqlen_q;
  p.cu_seqlens_q = a.cu_seqlens_q;
  p.num_heads = a.num_heads;
  p.head_dim = p.k.head_dim;
  p.q = TensorView{a.q, a.q_strides[0], a.q_strides[1], a.q_strides[2]};
  p.weights = a.weights;
  p.weight_strides[0] = a.weight_strides[0];
  p.weight_strides[1] = a.weight_strides[1];
  p.k_token_scales = a.k_token_scales;
  p.k_token_scale_strides[0] = a.k_token_scale_strides[0];
  p.k_token_scale_strides[1] = a.k_token_scale_strides[1];
  return p;
}

void check_indexer_launch(const IndexerProblem& p, const char* function) {
  check_kv_cache_alignment(p.k, function, "args.k_cache");
  const int64_t row_elements = 16 / p.q_element_bytes();
  if (reinterpret_cast<uintptr_t>(p.q.data) % 16 != 0) {
    invalid(function, "args.q is not 16-byte aligned; the kernel loads 16-byte rows");
  }
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  for (int i = 0; i < 3; ++i) {
    if (q_s[i] % row_elements != 0) {
      invalid(function, "args.q_strides[" + std::to_string(i) + "] is " + std::to_string(q_s[i]) +
                            "; the kernel needs multiples of " + std::to_string(row_elements) +
                            " elements (16-byte rows)");
    }
  }
  if (reinterpret_cast<uintptr_t>(p.weights) % 4 != 0) invalid(function, "args.weights is not 4-byte aligned");
  if (reinterpret_cast<uintptr_t>(p.k_token_scales) % 4 != 0) {
    invalid(function, "args.k_token_scales is not 4-byte aligned");
  }
  if (reinterpret_cast<uintptr_t>(p.logits) % 4 != 0) invalid(function, "args.logits is not 4-byte aligned");
}

void reference_indexer(const IndexerProblem& p, const char* function) {
  const std::vector<QueryRun> runs = query_runs(p.cu_seqlens_q, p.batch, p.seqlen_q, function);
  const KvCacheReader reader(p.k, p.batch, function, "args.k_cache");
  const int32_t d = p.head_dim;
  for (int32_t b = 0; b < p.batch; ++b) {
    const QueryRun& run = runs[size_t(b)];
    const int32_t lk = reader.seqlen(b);
    const std::vector<float> keys = reader.keys(b, 0);
    std::vector<double> key_scale(size_t(lk), double(p.k.k_scale));
    if (p.k_token_scales != nullptr) {
      for (int32_t j = 0; j < lk; ++j) {
        int64_t offset;
        if (p.k.paged()) {
          const int32_t page = p.k.block_table[int64_t(b) * p.k.max_pages_per_seq + j / p.k.page_size];
          offset = page * p.k_token_scale_strides[0] + (j % p.k.page_size) * p.k_token_scale_strides[1];
        } else {
          offset = b * p.k_token_scale_strides[0] + int64_t(j) * p.k_token_scale_strides[1];
        }
        key_scale[size_t(j)] *= double(p.k_token_scales[offset]);
      }
    }
    for (int32_t i = 0; i < run.lq; ++i) {
      const int64_t t = query_token(run, p.packed(), i);
      const int64_t row = p.packed() ? t : int64_t(b) * p.seqlen_q + i;
      float* out = p.logits + row * p.logits_row_stride;
      const int64_t prefix = std::max<int64_t>(0, std::min<int64_t>(lk, int64_t(i) + lk - run.lq + 1));
      std::vector<double> q(size_t(p.num_heads) * d), w(size_t(p.num_heads));
      const int64_t q_row = (p.packed() ? 0 : b * p.q.batch_stride) + t * p.q.token_stride;
      const float* w_row = p.weights + (p.packed() ? 0 : b * p.weight_strides[0]) + t * p.weight_strides[1];
      for (int32_t h = 0; h < p.num_heads; ++h) {
        w[size_t(h)] = double(w_row[h]);
        for (int32_t k = 0; k < d; ++k) q[size_t(h) * d + k] = query_value(p, q_row + h * p.q.head_stride + k);
      }
      for (int64_t j = 0; j < p.k.max_seqlen_kv; ++j) {
        if (j >= prefix) {
          out[j] = -std::numeric_limits<float>::infinity();
          continue;
        }
        const float* krow = &keys[size_t(j) * d];
        double score = 0.0;
        for (int32_t h = 0; h < p.num_heads; ++h) {
          double dot = 0.0;
          for (int32_t k = 0; k < d; ++k) dot += q[size_t(h) * d + k] * double(krow[k]);
          score += w[size_t(h)] * std::max(dot, 0.0);
        }
        out[j] = float(score * key_scale[size_t(j)]);
      }
    }
  }
}

}  // namespace spattn::attention
