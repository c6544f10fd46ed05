// What both index-sparse attention kernels (the mma.sync one in
// sparse_attention.cu and the sm_90a MLA one in sparse_mla_sm90.cu) read of
// a validated SparseProblem: plain values, built once on the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attention/sparse_problem.hpp"
#include "common/kv_cache.cuh"

namespace spattn::attention {

struct SparseParams {
  const uint16_t* q;
  int64_t q_stride[3];
  uint16_t* out;
  int64_t o_stride[3];
  KvDevice kv;
  const int32_t* lists;
  int64_t list_stride[3];
  int32_t topk, list_cap;  // list_cap: the power of two >= topk the list is ordered in
  const int32_t* cu_q;     // packed queries, or NULL
  int32_t num_heads, seqlen_q, group, rows, per_query, causal;
  int32_t num_splits, split_entries;  // list positions per split
  float scale_log2;                   // softmax_scale * k_scale * log2(e)
  float v_scale;
  float* lse;
  float* ws_o;  // splits > 1: [batch][seqlen_q][num_heads][splits][DV]
  float* ws_lse;
};

inline SparseParams make_sparse_params(const SparseProblem& pr) {
  constexpr float kLog2e = 1.4426950408889634f;
  SparseParams p;
  p.q = static_cast<const uint16_t*>(pr.q.data);
  p.q_stride[0] = pr.q.batch_stride;
  p.q_stride[1] = pr.q.token_stride;
  p.q_stride[2] = pr.q.head_stride;
  p.out = static_cast<uint16_t*>(pr.out);
  for (int i = 0; i < 3; ++i) {
    p.o_stride[i] = pr.out_strides[i];
    p.list_stride[i] = pr.lists.strides[i];
  }
  p.kv = kv_device(pr.kv);
  p.lists = pr.lists.data;
  p.topk = pr.lists.topk;
  p.list_cap = 1;
  while (p.list_cap < pr.lists.topk) p.list_cap <<= 1;
  p.cu_q = pr.cu_seqlens_q;
  p.num_heads = pr.num_heads;
  p.seqlen_q = pr.seqlen_q;
  p.group = pr.plan.group;
  p.rows = pr.plan.rows;
  p.per_query = pr.plan.per_query ? 1 : 0;
  p.causal = pr.causal ? 1 : 0;
  p.num_splits = pr.plan.num_splits;
  p.split_entries = pr.plan.runs_per_split * SPATTN_SPARSE_SPLIT_KEYS;
  p.scale_log2 = pr.softmax_scale * pr.kv.k_scale * kLog2e;
  p.v_scale = pr.kv.v_scale;
  p.lse = pr.lse;
  p.ws_o = nullptr;
  p.ws_lse = nullptr;
  if (pr.plan.num_splits > 1) {
    const size_t parts = size_t(pr.batch) * pr.seqlen_q * pr.num_heads * pr.plan.num_splits;
    p.ws_o = static_cast<float*>(pr.workspace);
    p.ws_lse = reinterpret_cast<float*>(static_cast<char*>(pr.workspace) +
                                        (parts * size_t(pr.kv.head_dim_v) * sizeof(float) + 15) / 16 * 16);
  }
  return p;
}

}  // namespace spattn::attention
