// A DSA layer (spattn_dsa_layer_args): the indexer, the top-index_topk
// selection per query token, and the index-sparse attention, validated and
// planned (chunks of queries through the workspace), with its CPU reference.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>

#include "attention/dsa_indexer.hpp"
#include "attention/sparse_problem.hpp"

namespace spattn::attention {

// Without config->indexer_max_chunk_size, a chunk of queries holds at most
// this many bytes of scores.
constexpr size_t kDsaDefaultScoreBytes = size_t(256) << 20;

// Where the layer keeps things in the caller's workspace (byte offsets).
struct DsaWorkspace {
  size_t attention = 0;  // the attention's split scratch
  size_t indices = 0;    // the selection, when the caller gives no indices
  size_t scores = 0;     // one chunk of indexer scores
  size_t total = 0;
};

struct DsaLayerProblem {
  IndexerProblem indexer;   // logits: the workspace's score chunk
  SparseProblem attention;  // lists: the selection (data set at launch)
  int32_t topk = 0;
  bool skip_short = true;         // sequences with L_kv <= topk select every prefix key
  int32_t chunk_queries = 0;      // query positions i of every sequence per chunk
  int32_t num_chunks = 0;
  int64_t score_row_stride = 0;   // max_seqlen_kv rounded up to 4 floats
  int32_t* indices = nullptr;     // the caller's, or NULL: in the workspace
  void* workspace = nullptr;
  size_t workspace_size = 0;
  DsaWorkspace layout;

  // Rows of the selection (and of a full score matrix): b * seqlen_q + i, or
  // the packed token index.
  int64_t rows() const { return int64_t(indexer.batch) * indexer.seqlen_q; }
};

// Checks both pieces and their agreement. Throws spattn::Error naming the field.
DsaLayerProblem resolve_dsa_layer(const spattn_dsa_layer_args* args, const char* function);

// The kernels' extra needs and the workspace size. Throws spattn::Error.
void check_dsa_layer_launch(const DsaLayerProblem& problem, const char* function);

// The CPU reference of the whole layer (host pointers).
void reference_dsa_layer(const DsaLayerProblem& problem, const char* function);

}  // namespace spattn::attention
