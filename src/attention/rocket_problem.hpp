// RocketKV (spattn_rocket_context_args, spattn_rocket_decode_args), validated,
// with the plans and workspace layouts that the CUDA launchers, the workspace
// queries and the CPU references share. Plain C++, no CUDA types.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>

#include "attention/attention_problem.hpp"
#include "attention/kv_cache.hpp"
#include "attention/sparse_problem.hpp"

namespace spattn::attention {

// The config's numbers, checked against the layer's shape.
struct RocketParams {
  int32_t window = 0;      // W
  int32_t kernel = 0;      // K, the pooling width
  int32_t budget = 0;      // B > W
  int32_t page = 0;        // P, a power of two
  int32_t topk = 0;        // entries selected per decode step
  int32_t topr = 0;        // query dims of the bound, resolved: 1 .. head_dim
  spattn_kt_cache_dtype kt_dtype = SPATTN_KT_CACHE_FLOAT8_E5M2;
};

// The caller's KT cache (spattn_kt_cache), validated.
struct KtCache {
  spattn_kv_layout layout = SPATTN_KV_LAYOUT_CONTIGUOUS;
  spattn_kt_cache_dtype dtype = SPATTN_KT_CACHE_FLOAT8_E5M2;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  void* data = nullptr;
  int64_t strides[3] = {0, 0, 0};
  int32_t max_entries = 0;
  int32_t entries_per_block = 0;  // paged only
  int32_t num_blocks = 0;
  const int32_t* block_table = nullptr;
  int32_t max_blocks_per_seq = 0;

  bool paged() const { return layout == SPATTN_KV_LAYOUT_PAGED; }
  bool e5m2() const { return dtype == SPATTN_KT_CACHE_FLOAT8_E5M2; }
  int32_t element_bytes() const { return e5m2() ? 1 : 2; }
};

// Where each context-phase intermediate lives in the workspace (byte offsets;
// -1: not used) and how the window scores are tiled. Rows of a KV head are
// the W window queries times its G query heads (row = query * G + head in the
// group), cut into tiles of kRocketTileRows; keys (the prefix) into tiles of
// kRocketTileKeys, grouped in splits of tiles_per_split tiles.
struct RocketContextPlan {
  int32_t group = 0;            // G
  int32_t rows = 0;             // W * G
  int32_t row_tiles = 0;
  int32_t max_prefix = 0;       // max_seqlen_kv - W, at least 0
  int32_t key_tiles = 0;        // ceil(max_prefix / kRocketTileKeys)
  int32_t num_splits = 1;
  int32_t tiles_per_split = 0;
  int64_t row_stats = -1;       // float2 [batch][kv heads][row tiles][splits][kRocketTileRows]: (max, sum)
  int64_t column_sums = -1;     // float [batch][kv heads][row tiles][max_prefix]
  int64_t pooled = -1;          // float [batch][kv heads][max_prefix]
  int64_t kept = -1;            // int32 [batch][kv heads][budget], when args.kept_indices is NULL
  size_t bytes = 0;
};

constexpr int32_t kRocketTileRows = 128;
constexpr int32_t kRocketTileKeys = 128;
// The window scores aim at this many CTAs per pass (a constant: the splits
// never depend on the device).
constexpr int32_t kRocketTargetCtas = 256;
// Widest pooling window the kernels take (the CPU reference takes any).
constexpr int32_t kRocketMaxKernelSize = 1024;
// Decode: KT entries per CTA of the bound kernel (4 per warp: many CTAs
// even for one sequence, one memory latency per warp).
constexpr int32_t kRocketEntryChunk = 32;
// Decode: most query heads per KV head (their queries sit in shared memory).
constexpr int32_t kRocketMaxGroup = 128;

struct RocketContextProblem {
  RocketParams rocket;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  TensorView q;  // the window queries
  KvCache kv;
  KtCache kt;
  float softmax_scale = 0.0f;  // resolved: never 0
  int32_t* seqlens_out = nullptr;
  int32_t* kept_indices = nullptr;  // the caller's, or NULL
  void* workspace = nullptr;
  size_t workspace_size = 0;
  RocketContextPlan plan;
};

// The decode step's intermediates in the workspace (byte offsets; -1: not
// used). Entries: max_entries = ceil(max_seqlen_kv / P).
struct RocketDecodePlan {
  int32_t group = 0;
  int32_t max_entries = 0;
  int32_t max_selected = 0;   // topk * P: the length of each selected-token list
  int32_t entry_chunks = 0;   // ceil(max_entries / kRocketEntryChunk)
  int64_t bounds = -1;        // float [batch][num_heads][max_entries]: c * bound * log2(e)
  int64_t chunk_stats = -1;   // float2 [batch][num_heads][entry_chunks]: max, sum of exp2 per chunk
  int64_t entry_scores = -1;  // float [batch][kv heads][max_entries]: the group mean of the softmax
  int64_t top_entries = -1;   // int32 [batch][kv heads][topk]
  int64_t selected = -1;      // int32 [batch][kv heads][max_selected], when args.selected_indices is NULL
  int64_t attention = -1;     // the index-sparse attention's own workspace
  size_t bytes = 0;
};

struct RocketDecodeProblem {
  RocketParams rocket;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  TensorView q;
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  KvCache kv;
  KtCache kt;
  float softmax_scale = 0.0f;
  float* lse = nullptr;
  int32_t* selected_indices = nullptr;  // the caller's, or NULL
  void* workspace = nullptr;
  size_t workspace_size = 0;
  RocketDecodePlan plan;
};

// What a launch runs: the whole phase, or one of its pieces (spattn.h).
enum class RocketContextPiece { kAll, kSelect, kCompact, kBuildKt };
enum class RocketDecodePiece { kAll, kUpdateKt, kSelect, kAttend };

// Checks the caller's KT cache against the KV cache and the config; throws
// naming args.kt_cache's field.
KtCache resolve_kt_cache(const spattn_kt_cache* cache, const KvCache& kv, const RocketParams& rocket,
                         int32_t batch, const char* function);
// The kernels' 16-byte rows.
void check_kt_cache_alignment(const KtCache& kt, const char* function);

// Check every field and plan. Throw spattn::Error naming `function` and the
// field. Device contents are not read.
RocketContextProblem resolve_rocket_context(const spattn_rocket_context_args* args, const char* function);
RocketDecodeProblem resolve_rocket_decode(const spattn_rocket_decode_args* args, const char* function);

// The number of query dims of the bound for a topr value and head_dim (see
// spattn.h); throws for a non-integer topr >= 1, naming `field`.
int32_t resolve_topr(double topr, int32_t head_dim, const char* function, const char* field);

// The decode step's attention: the index-sparse attention (the dsa family's)
// of each query head over its KV head's list in `lists` ([batch][kv heads]
// [topk * page_size] int32, -1 padded; device or host memory), with
// `workspace` its scratch (NULL to size it).
SparseProblem rocket_attention(const RocketDecodeProblem& p, const int32_t* lists, void* workspace);

// The kernels' extra needs (alignment, grid limits, a large enough
// workspace, the pieces' required outputs). `piece` names what is launched
// ("select", ...) for the messages; `needs_*` says which optional outputs the
// piece requires. Throw SPATTN_ERR_INVALID_ARGUMENT / _UNSUPPORTED.
void check_rocket_context_launch(const RocketContextProblem& p, const char* function, bool needs_kept);
void check_rocket_decode_launch(const RocketDecodeProblem& p, const char* function, bool needs_selected);

}  // namespace spattn::attention
