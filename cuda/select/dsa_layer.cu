// spattn_dsa_layer: the indexer's scores for a chunk of queries go to the
// workspace, the top-index_topk of each query's causal prefix is selected
// from them (cuda/select/topk.cuh), chunk after chunk; then the index-sparse
// attention runs over the selection. Every launch is on the caller's stream
// and sized from host-known bounds only, so the whole layer is capturable.
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/index_sparse_cuda.hpp"
#include "common/cuda_check.hpp"
#include "common/kv_cache.cuh"
#include "select/dsa_select.hpp"
#include "select/topk.cuh"

namespace spattn::attention {
namespace {

constexpr int kSelectThreads = 512;

struct ChunkSelection {
  const float* scores;      // [batch][chunk][score_stride]
  int64_t score_stride;
  int32_t chunk, q_begin, seqlen_q;
  const int32_t* cu_q;
  KvDevice keys;            // the indexer's key cache (its lengths)
  int32_t topk, skip_short;
  int32_t* indices;         // [rows][topk]
};

// One CTA per (query of the chunk, sequence).
__global__ void __launch_bounds__(kSelectThreads) select_chunk_kernel(const ChunkSelection c) {
  __shared__ TopkShared<kSelectThreads> sh;
  const int b = blockIdx.y;
  const int i = c.q_begin + blockIdx.x;
  int lq = c.seqlen_q, t0 = 0;
  if (c.cu_q != nullptr) {
    t0 = c.cu_q[b];
    lq = min(max(c.cu_q[b + 1] - t0, 0), c.seqlen_q);
  }
  if (i >= lq) return;
  const int lk = kv_seqlen(c.keys, b);
  const int prefix = max(0, min(lk, i + lk - lq + 1));
  const bool all_keys = c.skip_short > 0 && lk <= c.skip_short;
  const float* row = c.scores + (int64_t(b) * c.chunk + blockIdx.x) * c.score_stride;
  const int64_t out_row = c.cu_q != nullptr ? int64_t(t0) + i : int64_t(b) * c.seqlen_q + i;
  cta_topk<kSelectThreads>([&](int j) { return row[j]; }, prefix, c.topk, all_keys, c.indices + out_row * c.topk, sh);
}

}  // namespace

void launch_dsa_layer_cuda(const DsaLayerProblem& p, void* stream, const char* function) {
  require_cuda_device(function);
  char* ws = static_cast<char*>(p.workspace);
  int32_t* indices = p.indices != nullptr ? p.indices : reinterpret_cast<int32_t*>(ws + p.layout.indices);
  float* scores = reinterpret_cast<float*>(ws + p.layout.scores);
  const IndexerProblem& ix = p.indexer;
  for (int32_t c = 0; c < p.num_chunks; ++c) {
    IndexerRows rows;
    rows.q_begin = c * p.chunk_queries;
    rows.q_end = rows.q_begin + p.chunk_queries < ix.seqlen_q ? rows.q_begin + p.chunk_queries : ix.seqlen_q;
    rows.logits = scores;
    rows.row_stride = p.score_row_stride;
    rows.row_batch_stride = p.chunk_queries;
    rows.packed_rows = false;
    rows.write_masked = false;
    rows.skip_short = p.skip_short ? p.topk : 0;
    launch_indexer_rows(ix, rows, stream, function);
    ChunkSelection sel;
    sel.scores = scores;
    sel.score_stride = p.score_row_stride;
    sel.chunk = p.chunk_queries;
    sel.q_begin = rows.q_begin;
    sel.seqlen_q = ix.seqlen_q;
    sel.cu_q = ix.cu_seqlens_q;
    sel.keys = kv_device(ix.k);
    sel.topk = p.topk;
    sel.skip_short = rows.skip_short;
    sel.indices = indices;
    launch_checked(select_chunk_kernel, dim3(unsigned(rows.q_end - rows.q_begin), unsigned(ix.batch)),
                   dim3(kSelectThreads), 0, static_cast<cudaStream_t>(stream), function, sel);
  }
  SparseProblem attention = p.attention;
  attention.lists.data = indices;
  attention.workspace = ws + p.layout.attention;
  attention.workspace_size = p.workspace_size - p.layout.attention;
  launch_sparse_cuda(attention, stream, function);
}

}  // namespace spattn::attention
