// Index-sparse attention (spattn_sparse_attention_args), validated, with its
// plan: which rows share a list, how the lists are split. What the CUDA
// launcher (cuda/sparse/) and the CPU reference both consume.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>

#include "attention/attention_problem.hpp"
#include "attention/kv_cache.hpp"

namespace spattn::attention {

// Rows of one CTA tile (query heads of a KV head, times the step's queries
// when lists are shared across query tokens).
constexpr int32_t kSparseTileRows = 64;
// The automatic split rule aims at this many CTAs (a constant, never the
// device's SM count, so that splits depend on the shape only).
constexpr int32_t kSparseTargetCtas = 256;
constexpr int32_t kSparseMaxSplits = 64;

// Where the lists are: list of (b, t, g) at data + b*s[0] + t*s[1] + g*s[2].
struct IndexLists {
  const int32_t* data = nullptr;
  int64_t strides[3] = {0, 0, 0};  // batch, query token, KV head (elements)
  int32_t topk = 0;

  const int32_t* list(int64_t b, int64_t t, int64_t g) const {
    return data + b * strides[0] + t * strides[1] + g * strides[2];
  }
};

struct SparsePlan {
  bool per_query = true;     // lists differ across query tokens (index_strides[1] != 0)
  int32_t group = 0;         // query heads per KV head
  int32_t rows = 0;          // rows sharing one list: group, or seqlen_q * group
  int32_t row_tiles = 0;     // ceil(rows / kSparseTileRows)
  int64_t ctas = 0;          // CTAs of one split
  int32_t runs = 0;          // ceil(topk / SPATTN_SPARSE_SPLIT_KEYS)
  int32_t num_splits = 1;
  int32_t runs_per_split = 0;
};

struct SparseProblem {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t seqlen_q = 0;
  const int32_t* cu_seqlens_q = nullptr;
  TensorView q;
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  KvCache kv;
  IndexLists lists;
  bool causal = false;
  float softmax_scale = 0.0f;  // resolved: never 0
  float* lse = nullptr;
  void* workspace = nullptr;
  size_t workspace_size = 0;
  SparsePlan plan;

  bool packed() const { return cu_seqlens_q != nullptr; }
  bool mla() const { return kv.head_dim == 576; }
};

// Checks every field of `args` and plans the launch. Throws spattn::Error
// naming `function` and the field. Device contents are not read.
SparseProblem resolve_sparse(const spattn_sparse_attention_args* args, const char* function);

// The plan of a resolved problem (split rule of spattn.h); requested_splits 0: automatic.
SparsePlan plan_sparse(const SparseProblem& problem, int32_t requested_splits);

// Bytes of workspace the splits need: 0 for a single split.
size_t sparse_workspace_bytes(const SparseProblem& problem);

// The kernels' extra needs (alignment, grid limits, workspace). Throws
// SPATTN_ERR_INVALID_ARGUMENT / SPATTN_ERR_UNSUPPORTED naming the field.
void check_sparse_launch(const SparseProblem& problem, const char* function);

}  // namespace spattn::attention
