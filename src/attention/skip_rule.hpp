// The skip threshold of the BLASST rule, in the one form that the CPU
// reference and both CUDA kernels compare against, so that their decisions
// cannot drift apart: a key tile is skipped when, for every valid row,
// rowmax_tile - m_running < log2(lambda) on log2-scaled logits, with
// lambda = threshold_scale_factor / kv_len of that sequence.
#pragma once

#include <math.h>

#include <spattn/spattn.h>

#include <cstdint>

#if defined(__CUDACC__)
#define SPATTN_HOST_DEVICE __host__ __device__
#else
#define SPATTN_HOST_DEVICE
#endif

namespace spattn::attention {

// log2(lambda) as a float; -inf (never skip) when the threshold is 0 or the
// sequence has no keys. Computed in double, rounded once.
SPATTN_HOST_DEVICE inline float skip_log2_lambda(double threshold_scale_factor, int32_t kv_len) {
  if (!(threshold_scale_factor > 0.0) || kv_len <= 0) return -INFINITY;
  return static_cast<float>(log2(threshold_scale_factor / static_cast<double>(kv_len)));
}

// Whether one row of the query tile lets a key tile be skipped: a row with
// nothing unmasked in the tile (tile_max -inf) does; otherwise its tile
// maximum must lie below its running maximum by more than -log2(lambda)
// (both on log2-scaled logits). A tile is skipped when every valid row allows
// it, and never when it is the first tile processed for the query tile.
SPATTN_HOST_DEVICE inline bool row_allows_skip(float tile_max, float running_max, float log2_lambda) {
  return tile_max == -INFINITY || tile_max - running_max < log2_lambda;
}

// The key count lambda divides by: the caller's global length when it gives
// one (skip_seqlen_kv > 0: a sequence-parallel shard), else the sequence's own.
SPATTN_HOST_DEVICE inline int32_t skip_length(int32_t skip_seqlen_kv, int32_t kv_len) {
  return skip_seqlen_kv > 0 ? skip_seqlen_kv : kv_len;
}

// The decode form (the KV range of a few queries): the same lambda, but no
// skipping at all when lambda >= 1, as in TensorRT-LLM's decode kernel.
SPATTN_HOST_DEVICE inline float decode_skip_log2_lambda(double threshold_scale_factor, int32_t kv_len) {
  const float log2_lambda = skip_log2_lambda(threshold_scale_factor, kv_len);
  return log2_lambda >= 0.0f ? -INFINITY : log2_lambda;
}

// The test hook's decision map (Problem::tile_decisions): one byte per
// (batch, head, query tile, key tile), tiles of SPATTN_SKIP_TILE_QUERIES x
// SPATTN_SKIP_TILE_KEYS counted over seqlen_q x seqlen_kv (the longest
// sequence of a packed batch).
enum TileDecision : uint8_t { kTileNotVisited = 0, kTileKept = 1, kTileSkipped = 2 };

SPATTN_HOST_DEVICE inline int64_t tile_decision_index(int32_t batch, int32_t head, int32_t q_tile, int32_t kv_tile,
                                                      int32_t num_heads, int32_t seqlen_q, int32_t seqlen_kv) {
  const int64_t q_tiles = (seqlen_q + SPATTN_SKIP_TILE_QUERIES - 1) / SPATTN_SKIP_TILE_QUERIES;
  const int64_t kv_tiles = (seqlen_kv + SPATTN_SKIP_TILE_KEYS - 1) / SPATTN_SKIP_TILE_KEYS;
  return ((int64_t(batch) * num_heads + head) * q_tiles + q_tile) * kv_tiles + kv_tile;
}

}  // namespace spattn::attention
