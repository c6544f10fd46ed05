// Internal launchers of the DSA selection pieces (host declarations, no
// CUDA types), shared by spattn_dsa_indexer and the DSA layer.
#pragma once

#include <cstdint>

#include "attention/dsa_indexer.hpp"

namespace spattn::attention {

// Which queries an indexer launch scores, and where their rows go: queries
// i in [q_begin, q_end) of every sequence b, into logits row
//   (packed_rows ? cu_seqlens_q[b] : b * row_batch_stride) + i - q_begin.
// write_masked: columns past a row's causal prefix, up to max_seqlen_kv, get
// -inf (else they are not written). skip_short: sequences whose key count is
// at most this are not scored (0: every sequence is).
struct IndexerRows {
  int32_t q_begin = 0, q_end = 0;
  float* logits = nullptr;
  int64_t row_stride = 0;
  int64_t row_batch_stride = 0;
  bool packed_rows = false;
  bool write_masked = true;
  int32_t skip_short = 0;
};

void launch_indexer_rows(const IndexerProblem& problem, const IndexerRows& rows, void* stream, const char* function);

}  // namespace spattn::attention
