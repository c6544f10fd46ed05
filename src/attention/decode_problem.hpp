// One decode step (spattn_decode_args), validated, with its plan: how rows
// are tiled and the keys split. What the CUDA launcher and the CPU reference
// both consume, so that they make the same decisions.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>

#include "attention/attention_problem.hpp"
#include "attention/kv_cache.hpp"

namespace spattn::attention {

// Rows of a decode tile: the step's queries times the query heads of one KV
// head, at most this many per tile.
constexpr int32_t kDecodeTileRows = 128;
// The automatic split rule aims at this many CTAs: one wave of the decode
// kernel on a 132-SM Hopper part (batch 1 at 32k keys: 1.7x faster than two
// waves, run 33); twice as many where two CTAs share an SM (FP8 caches with
// up to 16 rows per KV head). Constants of the shape, so that the splits, and
// with them the skip decisions, never depend on the device.
constexpr int32_t kDecodeTargetCtas = 128;
constexpr int32_t kDecodeTargetCtasFp8 = 256;
// ... with at least this many key tiles per split (a split's first tile is
// never skipped: shorter splits would leave skip-softmax little to skip).
constexpr int32_t kDecodeMinTilesPerSplit = 4;
constexpr int32_t kDecodeMaxSplits = 1024;

struct DecodePlan {
  int32_t group = 0;            // query heads per KV head
  int32_t rows = 0;             // seqlen_q * group
  int32_t row_tiles = 0;        // ceil(rows / kDecodeTileRows)
  int32_t max_tiles = 0;        // key tiles of the longest sequence
  int32_t num_splits = 1;       // >= 1
  int32_t tiles_per_split = 0;  // every split but the last; 0 when max_tiles is 0
};

struct DecodeProblem {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t seqlen_q = 0;
  TensorView q;
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  KvCache kv;
  float softmax_scale = 0.0f;  // resolved: never 0
  bool causal = false;
  double threshold_scale_factor = 0.0;
  int32_t skip_seqlen_kv = 0;
  float* lse = nullptr;
  unsigned long long* tile_counters = nullptr;
  void* workspace = nullptr;
  size_t workspace_size = 0;
  DecodePlan plan;
  // Tests only (not in the C API): when set, each visited key tile's decision
  // is written here (TileDecision of skip_rule.hpp: kept or skipped), at
  // [batch][num_kv_heads][row_tiles][max_tiles] (tiles never visited are left
  // as they were). Host memory for the reference, device memory for the kernel.
  uint8_t* debug_decisions = nullptr;
};

// Index of tile t of (b, kv_head, row_tile) in DecodeProblem::debug_decisions.
SPATTN_HOST_DEVICE inline int64_t decision_index(int32_t num_kv_heads, int32_t row_tiles, int32_t max_tiles,
                                                 int32_t b, int32_t kv_head, int32_t row_tile, int32_t tile) {
  return ((int64_t(b) * num_kv_heads + kv_head) * row_tiles + row_tile) * max_tiles + tile;
}

// Checks every field of `args` and plans the launch. Throws spattn::Error
// naming `function` and the field. Device contents are not read.
DecodeProblem resolve_decode(const spattn_decode_args* args, const char* function);

// Bytes of workspace the splits need: 0 for a single split.
size_t decode_workspace_bytes(const DecodeProblem& problem);

// The kernels' extra needs (alignment, grid limits, a large enough
// workspace). Throws SPATTN_ERR_INVALID_ARGUMENT / _UNSUPPORTED.
void check_decode_launch(const DecodeProblem& problem, const char* function);

}  // namespace spattn::attention
