// Validation, planning and CPU reference of a DSA layer.
#include "attention/dsa_layer.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "attention/arg_checks.hpp"
#include "attention/query_runs.hpp"
#include "attention/sparse_reference.hpp"
#include "attention/topk.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

constexpr size_t kAlign = 256;

size_t align_up(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Placeholder list pointer for validating the attention piece before the
// selection's address is known (never dereferenced).
const int32_t* placeholder_lists() {
  static const int32_t dummy = -1;
  return &dummy;
}

}  // namespace

DsaLayerProblem resolve_dsa_layer(const spattn_dsa_layer_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_dsa_layer_args a = read_struct(args, function, "args");
  spattn_dsa_config config{};
  config.skip_indexer_for_short_seqs = 1;  // DeepSeekSparseAttentionConfig's default
  if (a.config != nullptr) {
    config = read_struct(a.config, function, "args.config");
  }
  DsaLayerProblem p;
  p.topk = a.index_topk != 0 ? a.index_topk : config.index_topk;
  if (p.topk < 1 || p.topk > SPATTN_SPARSE_MAX_TOPK) {
    invalid(function, "index_topk is " + std::to_string(p.topk) + " (args.index_topk " +
                          std::to_string(a.index_topk) + ", config index_topk " + std::to_string(config.index_topk) +
                          "); must be in [1, " + std::to_string(SPATTN_SPARSE_MAX_TOPK) + "]");
  }
  p.skip_short = config.skip_indexer_for_short_seqs != 0;

  const std::string indexer_fn = std::string(function) + " (args.indexer)";
  if (a.indexer == nullptr) invalid(function, "args.indexer is NULL");
  p.indexer = resolve_indexer(a.indexer, indexer_fn.c_str(), false);
  if (config.index_n_heads != 0 && config.index_n_heads != p.indexer.num_heads) {
    invalid(function, "config index_n_heads " + std::to_string(config.index_n_heads) +
                          " differs from args.indexer->num_heads " + std::to_string(p.indexer.num_heads));
  }
  if (config.index_head_dim != 0 && config.index_head_dim != p.indexer.head_dim) {
    invalid(function, "config index_head_dim " + std::to_string(config.index_head_dim) +
                          " differs from args.indexer->k_cache->head_dim " + std::to_string(p.indexer.head_dim));
  }

  require_arg(a.attention, function, "args.attention");
  spattn_sparse_attention_args att = read_struct(a.attention, function, "args.attention");
  att.struct_size = sizeof att;
  att.indices = placeholder_lists();
  const bool packed = att.cu_seqlens_q != nullptr;
  att.index_strides[0] = packed ? 0 : int64_t(att.seqlen_q) * p.topk;
  att.index_strides[1] = p.topk;
  att.index_strides[2] = 0;
  att.topk = p.topk;
  att.causal = 1;
  att.workspace = nullptr;
  att.workspace_size = 0;
  const std::string attention_fn = std::string(function) + " (args.attention)";
  p.attention = resolve_sparse(&att, attention_fn.c_str());

  if (p.attention.batch != p.indexer.batch || p.attention.seqlen_q != p.indexer.seqlen_q ||
      p.attention.cu_seqlens_q != p.indexer.cu_seqlens_q) {
    invalid(function, "args.indexer and args.attention describe different queries (batch " +
                          std::to_string(p.indexer.batch) + " / " + std::to_string(p.attention.batch) + ", seqlen_q " +
                          std::to_string(p.indexer.seqlen_q) + " / " + std::to_string(p.attention.seqlen_q) +
                          ", cu_seqlens_q " + (p.indexer.cu_seqlens_q == p.attention.cu_seqlens_q ? "same" : "different") +
                          "); give both the same");
  }

  p.score_row_stride = (int64_t(p.indexer.k.max_seqlen_kv) + 3) / 4 * 4;
  const int64_t batch = p.indexer.batch;
  int64_t chunk;
  if (config.indexer_max_chunk_size > 0) {
    chunk = std::max<int64_t>(1, config.indexer_max_chunk_size / batch);
  } else {
    const int64_t row_bytes = std::max<int64_t>(1, p.score_row_stride) * int64_t(sizeof(float));
    chunk = std::max<int64_t>(1, int64_t(kDsaDefaultScoreBytes) / (batch * row_bytes));
  }
  p.chunk_queries = int32_t(std::min<int64_t>(chunk, p.indexer.seqlen_q));
  p.num_chunks = (p.indexer.seqlen_q + p.chunk_queries - 1) / p.chunk_queries;

  p.indices = a.indices;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  size_t offset = 0;
  p.layout.attention = offset;
  offset += align_up(sparse_workspace_bytes(p.attention));
  p.layout.indices = offset;
  if (p.indices == nullptr) offset += align_up(size_t(p.rows()) * size_t(p.topk) * sizeof(int32_t));
  p.layout.scores = offset;
  offset += align_up(size_t(batch) * size_t(p.chunk_queries) * size_t(p.score_row_stride) * sizeof(float));
  p.layout.total = offset;
  return p;
}

void check_dsa_layer_launch(const DsaLayerProblem& p, const char* function) {
  check_indexer_launch(p.indexer, (std::string(function) + " (args.indexer)").c_str());
  SparseProblem attention = p.attention;
  attention.workspace = p.workspace;  // its part starts at offset 0
  attention.workspace_size = p.workspace_size;
  check_sparse_launch(attention, (std::string(function) + " (args.attention)").c_str());
  if (p.workspace_size < p.layout.total) {
    invalid(function, "args.workspace_size is " + std::to_string(p.workspace_size) + "; this call needs " +
                          std::to_string(p.layout.total) + " bytes (spattn_dsa_layer_workspace_size)");
  }
  if (p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % kAlign != 0) {
    invalid(function, std::string("args.workspace is ") + (p.workspace == nullptr ? "NULL" : "not 256-byte aligned") +
                          "; this call needs " + std::to_string(p.layout.total) + " bytes of it");
  }
  if (p.indices != nullptr && reinterpret_cast<uintptr_t>(p.indices) % 4 != 0) {
    invalid(function, "args.indices is not 4-byte aligned");
  }
}

void reference_dsa_layer(const DsaLayerProblem& p, const char* function) {
  const std::vector<QueryRun> runs = query_runs(p.indexer.cu_seqlens_q, p.indexer.batch, p.indexer.seqlen_q, function);
  const int64_t stride = std::max<int64_t>(1, p.indexer.k.max_seqlen_kv);
  std::vector<float> scores(size_t(p.rows()) * size_t(stride));
  IndexerProblem indexer = p.indexer;
  indexer.logits = scores.data();
  indexer.logits_row_stride = stride;
  reference_indexer(indexer, function);

  std::vector<int32_t> own;
  int32_t* selection = p.indices;
  if (selection == nullptr) {
    own.assign(size_t(p.rows()) * size_t(p.topk), -1);
    selection = own.data();
  }
  const KvCacheReader keys(p.indexer.k, p.indexer.batch, function, "args.indexer->k_cache");
  for (int32_t b = 0; b < p.indexer.batch; ++b) {
    const QueryRun& run = runs[size_t(b)];
    const int32_t lk = keys.seqlen(b);
    for (int32_t i = 0; i < run.lq; ++i) {
      const int64_t row = p.indexer.packed() ? run.token0 + i : int64_t(b) * p.indexer.seqlen_q + i;
      const int32_t prefix = std::max(0, std::min(lk, i + lk - run.lq + 1));
      int32_t* out = selection + row * p.topk;
      if (p.skip_short && lk <= p.topk) {
        for (int32_t s = 0; s < p.topk; ++s) out[s] = s < prefix ? s : -1;
      } else {
        select_topk_row(&scores[size_t(row) * size_t(stride)], prefix, p.topk, out);
      }
    }
  }
  SparseProblem attention = p.attention;
  attention.lists.data = selection;
  reference_sparse(attention, function);
}

}  // namespace spattn::attention
