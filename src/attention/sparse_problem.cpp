// Validation and planning of index-sparse attention.
#include "attention/sparse_problem.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "attention/arg_checks.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;
using checks::unsupported;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The head-dim pairs the kernels run: GQA 64/64 and 128/128, and MLA's
// absorbed 576/512 whose values are the keys' first 512 dims.
void check_shape(const KvCache& kv, const char* function) {
  const bool gqa = (kv.head_dim == 64 || kv.head_dim == 128) && kv.head_dim_v == kv.head_dim;
  const bool mla = kv.head_dim == 576 && kv.head_dim_v == 512;
  if (!gqa && !mla) {
    unsupported(function, "args.kv_cache->head_dim / head_dim_v are " + std::to_string(kv.head_dim) + " / " +
                              std::to_string(kv.head_dim_v) + "; supported: 64 / 64, 128 / 128 (GQA) and 576 / 512 (MLA)");
  }
  if (mla) {
    if (kv.num_kv_heads != 1) {
      unsupported(function, "args.kv_cache->num_kv_heads is " + std::to_string(kv.num_kv_heads) +
                                "; MLA (head_dim 576) has one latent KV head");
    }
    const bool shared = kv.k == kv.v && kv.k_strides[0] == kv.v_strides[0] && kv.k_strides[1] == kv.v_strides[1] &&
                        kv.k_strides[2] == kv.v_strides[2];
    if (!shared) {
      unsupported(function, "args.kv_cache->v must equal args.kv_cache->k, with the same strides, for MLA "
                            "(head_dim 576): the values are the first 512 dims of the latent keys");
    }
  }
}

}  // namespace

SparsePlan plan_sparse(const SparseProblem& p, int32_t requested_splits) {
  SparsePlan plan;
  plan.per_query = p.lists.strides[1] != 0 || p.seqlen_q == 1;
  plan.group = p.num_heads / p.kv.num_kv_heads;
  plan.rows = plan.per_query ? plan.group : p.seqlen_q * plan.group;
  plan.row_tiles = int32_t(ceil_div(plan.rows, kSparseTileRows));
  plan.ctas = int64_t(p.batch) * (plan.per_query ? p.seqlen_q : 1) * p.kv.num_kv_heads * plan.row_tiles;
  plan.runs = int32_t(ceil_div(p.lists.topk, SPATTN_SPARSE_SPLIT_KEYS));
  int64_t splits = requested_splits;
  if (splits == 0) splits = std::min<int64_t>(plan.runs, ceil_div(kSparseTargetCtas, plan.ctas));
  splits = std::max<int64_t>(1, std::min<int64_t>({splits, plan.runs, kSparseMaxSplits}));
  plan.runs_per_split = int32_t(ceil_div(plan.runs, splits));
  plan.num_splits = int32_t(ceil_div(plan.runs, plan.runs_per_split));
  return plan;
}

SparseProblem resolve_sparse(const spattn_sparse_attention_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_sparse_attention_args a = read_struct(args, function, "args");
  checks::dtype(a.dtype, "args.dtype", function);
  checks::in_range(a.batch, 1, 65535, "args.batch", function);
  checks::in_range(a.num_heads, 1, 65535, "args.num_heads", function);
  checks::in_range(a.seqlen_q, 1, INT32_MAX, "args.seqlen_q", function);
  require_arg(a.q, function, "args.q");
  require_arg(a.out, function, "args.out");
  checks::strides(a.q_strides, "args.q_strides", function);
  checks::strides(a.out_strides, "args.out_strides", function);
  require_arg(a.indices, function, "args.indices");
  for (int i = 0; i < 3; ++i) {
    static const char* const kNames[3] = {"batch", "query token", "KV head"};
    if (a.index_strides[i] < 0) {
      invalid(function, "args.index_strides[" + std::to_string(i) + "] (" + kNames[i] + " stride) is " +
                            std::to_string(a.index_strides[i]) + "; strides must be >= 0 (0 shares a list)");
    }
  }
  checks::in_range(a.topk, 1, SPATTN_SPARSE_MAX_TOPK, "args.topk", function);
  if (a.causal != 0 && a.causal != 1) {
    invalid(function, "args.causal is " + std::to_string(a.causal) + "; expected 0 or 1");
  }
  if (!std::isfinite(a.softmax_scale) || a.softmax_scale < 0.0f) {
    invalid(function, "args.softmax_scale is " + std::to_string(a.softmax_scale) +
                          "; must be finite and >= 0 (0: 1/sqrt(head_dim))");
  }
  checks::in_range(a.num_splits, 0, kSparseMaxSplits, "args.num_splits", function);

  SparseProblem p;
  p.kv = resolve_kv_cache(a.kv_cache, a.batch, a.dtype, function, "args.kv_cache");
  if (a.num_heads % p.kv.num_kv_heads != 0) {
    invalid(function, "args.num_heads (" + std::to_string(a.num_heads) +
                          ") is not a multiple of args.kv_cache->num_kv_heads (" +
                          std::to_string(p.kv.num_kv_heads) + ")");
  }
  check_shape(p.kv, function);
  p.dtype = a.dtype;
  p.batch = a.batch;
  p.num_heads = a.num_heads;
  p.seqlen_q = a.seqlen_q;
  p.cu_seqlens_q = a.cu_seqlens_q;
  p.q = TensorView{a.q, a.q_strides[0], a.q_strides[1], a.q_strides[2]};
  p.out = a.out;
  for (int i = 0; i < 3; ++i) {
    p.out_strides[i] = a.out_strides[i];
    p.lists.strides[i] = a.index_strides[i];
  }
  p.lists.data = a.indices;
  p.lists.topk = a.topk;
  p.causal = a.causal != 0;
  p.softmax_scale = a.softmax_scale != 0.0f
                        ? a.softmax_scale
                        : static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.kv.head_dim)));
  p.lse = a.lse;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  p.plan = plan_sparse(p, a.num_splits);
  return p;
}

size_t sparse_workspace_bytes(const SparseProblem& p) {
  if (p.plan.num_splits <= 1) return 0;
  const size_t parts = size_t(p.batch) * size_t(p.seqlen_q) * size_t(p.num_heads) * size_t(p.plan.num_splits);
  const size_t o_bytes = (parts * size_t(p.kv.head_dim_v) * sizeof(float) + 15) / 16 * 16;
  return o_bytes + parts * sizeof(float);
}

void check_sparse_launch(const SparseProblem& p, const char* function) {
  check_kv_cache_alignment(p.kv, function, "args.kv_cache");
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  checks::rows_16b(p.q.data, q_s, "args.q", function);
  checks::rows_16b(p.out, p.out_strides, "args.out", function);
  if (reinterpret_cast<uintptr_t>(p.lists.data) % 4 != 0) invalid(function, "args.indices is not 4-byte aligned");
  if (p.lse != nullptr && reinterpret_cast<uintptr_t>(p.lse) % 4 != 0) {
    invalid(function, "args.lse is not 4-byte aligned");
  }
  const size_t needed = sparse_workspace_bytes(p);
  if (p.workspace_size < needed) {
    invalid(function, "args.workspace_size is " + std::to_string(p.workspace_size) + "; this call needs " +
                          std::to_string(needed) + " bytes (spattn_sparse_attention_workspace_size)");
  }
  if (needed > 0 && (p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % 16 != 0)) {
    invalid(function, std::string("args.workspace is ") + (p.workspace == nullptr ? "NULL" : "not 16-byte aligned") +
                          "; this call needs " + std::to_string(needed) + " bytes of it");
  }
  const int64_t grid_y = int64_t(p.kv.num_kv_heads) * p.plan.row_tiles;
  if (grid_y > 65535) {
    unsupported(function, "num_kv_heads times the row tiles (" + std::to_string(grid_y) +
                              ") exceeds 65535, the CUDA grid limit");
  }
  const int64_t grid_x = int64_t(p.plan.per_query ? p.seqlen_q : 1) * p.plan.num_splits;
  if (grid_x > INT32_MAX) unsupported(function, "seqlen_q times the splits exceeds 2^31 - 1 CTAs");
}

}  // namespace spattn::attention
