// The queries of each sequence of a batch, fixed-length or packed
// (cu_seqlens_q), as the CPU references of the index-sparse entry points
// read them: host-side, with the offsets validated.
#pragma once

#include <cstdint>
#include <vector>

namespace spattn::attention {

struct QueryRun {
  int32_t token0 = 0;  // token index of the sequence's first query: 0 (fixed) or cu_seqlens_q[b] (packed)
  int32_t lq = 0;      // its number of queries
};

// cu_seqlens_q NULL: every sequence has seqlen_q queries. Otherwise the
// offsets must start at 0, not decrease, and give lengths <= seqlen_q
// (SPATTN_ERR_INVALID_ARGUMENT naming the entry).
std::vector<QueryRun> query_runs(const int32_t* cu_seqlens_q, int32_t batch, int32_t seqlen_q, const char* function);

// The index of query `i` of sequence b on the token axis of q, out and the
// lists: i for fixed lengths, the packed token index otherwise.
inline int64_t query_token(const QueryRun& run, bool packed, int32_t i) { return packed ? run.token0 + i : i; }

}  // namespace spattn::attention
