// Validation and planning of the RocketKV calls.
#include "attention/rocket_problem.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "attention/arg_checks.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;
using checks::unsupported;

constexpr int32_t kMaxPageSize = 128;

std::string num(int64_t v) { return std::to_string(v); }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Byte offsets of consecutive workspace regions, each 16-byte aligned.
class Carver {
 public:
  int64_t take(size_t bytes) {
    const int64_t at = int64_t(end_);
    end_ += (bytes + 15) / 16 * 16;
    return at;
  }
  size_t end() const { return end_; }

 private:
  size_t end_ = 0;
};

RocketParams resolve_params(const spattn_rocket_config* config, int32_t head_dim, const char* function) {
  require_arg(config, function, "args.config");
  const spattn_rocket_config c = read_struct(config, function, "args.config");
  checks::positive(c.window_size, "args.config->window_size", function);
  checks::positive(c.kernel_size, "args.config->kernel_size", function);
  checks::positive(c.topk, "args.config->topk", function);
  checks::positive(c.prompt_budget, "args.config->prompt_budget", function);
  if (c.prompt_budget <= c.window_size) {
    invalid(function, "args.config->prompt_budget (" + num(c.prompt_budget) + ") must exceed window_size (" +
                          num(c.window_size) + "): the budget keeps the window and at least one prefix token");
  }
  if (c.page_size <= 0 || c.page_size > kMaxPageSize || (c.page_size & (c.page_size - 1)) != 0) {
    invalid(function, "args.config->page_size is " + num(c.page_size) + "; must be a power of two in [1, " +
                          num(kMaxPageSize) + "]");
  }
  if (c.kt_cache_dtype != SPATTN_KT_CACHE_FLOAT8_E5M2 && c.kt_cache_dtype != SPATTN_KT_CACHE_BFLOAT16) {
    invalid(function, "args.config->kt_cache_dtype is " + num(int(c.kt_cache_dtype)) +
                          "; expected SPATTN_KT_CACHE_FLOAT8_E5M2 (0) or SPATTN_KT_CACHE_BFLOAT16 (1)");
  }
  if (int64_t(c.topk) * c.page_size > INT32_MAX / 2) {
    invalid(function, "args.config->topk (" + num(c.topk) + ") times page_size is too large");
  }
  RocketParams r;
  r.window = c.window_size;
  r.kernel = c.kernel_size;
  r.budget = c.prompt_budget;
  r.page = c.page_size;
  r.topk = c.topk;
  r.topr = resolve_topr(c.topr, head_dim, function, "args.config->topr");
  r.kt_dtype = c.kt_cache_dtype;
  return r;
}

// Checks the fields both phases' args have (dtype, batch, num_heads, the
// caches, config, softmax_scale) and resolves them into the problem.
template <class Args, class Problem>
void resolve_common(const Args& a, const char* function, Problem& p) {
  const spattn_dtype dtype = a.dtype;
  const int32_t batch = a.batch, num_heads = a.num_heads;
  checks::dtype(dtype, "args.dtype", function);
  if (batch < 1 || batch > 65535) invalid(function, "args.batch is " + num(batch) + "; must be in [1, 65535]");
  if (num_heads < 1 || num_heads > 65535) {
    invalid(function, "args.num_heads is " + num(num_heads) + "; must be in [1, 65535]");
  }
  const KvCache kv = resolve_kv_cache(a.kv_cache, batch, dtype, function, "args.kv_cache");
  if (num_heads % kv.num_kv_heads != 0) {
    invalid(function, "args.num_heads (" + num(num_heads) + ") is not a multiple of args.kv_cache->num_kv_heads (" +
                          num(kv.num_kv_heads) + ")");
  }
  if (kv.head_dim != 64 && kv.head_dim != 128) {
    unsupported(function, "args.kv_cache->head_dim is " + num(kv.head_dim) + "; supported: 64, 128");
  }
  if (kv.head_dim_v != kv.head_dim) {
    unsupported(function, "args.kv_cache->head_dim_v " + num(kv.head_dim_v) + " differs from head_dim " +
                              num(kv.head_dim) + "; RocketKV needs equal key and value dims");
  }
  p.rocket = resolve_params(a.config, kv.head_dim, function);
  p.kt = resolve_kt_cache(a.kt_cache, kv, p.rocket, batch, function);
  if (!std::isfinite(a.softmax_scale) || a.softmax_scale < 0.0f) {
    invalid(function, "args.softmax_scale is " + std::to_string(a.softmax_scale) +
                          "; must be finite and >= 0 (0: 1/sqrt(head_dim))");
  }
  p.softmax_scale = a.softmax_scale != 0.0f ? a.softmax_scale : float(1.0 / std::sqrt(double(kv.head_dim)));
  p.kv = kv;
  p.dtype = dtype;
  p.batch = batch;
  p.num_heads = num_heads;
}

RocketContextPlan plan_context(const RocketContextProblem& p, bool own_kept) {
  RocketContextPlan plan;
  plan.group = p.num_heads / p.kv.num_kv_heads;
  plan.rows = p.rocket.window * plan.group;
  plan.row_tiles = int32_t(ceil_div(plan.rows, kRocketTileRows));
  plan.max_prefix = std::max(0, p.kv.max_seqlen_kv - p.rocket.window);
  plan.key_tiles = int32_t(ceil_div(plan.max_prefix, kRocketTileKeys));
  const int64_t ctas = int64_t(p.batch) * p.kv.num_kv_heads * plan.row_tiles;
  int64_t splits = std::min<int64_t>(plan.key_tiles, ceil_div(kRocketTargetCtas, ctas));
  splits = std::max<int64_t>(1, splits);
  plan.tiles_per_split = int32_t(ceil_div(std::max(plan.key_tiles, 1), splits));
  plan.num_splits = int32_t(ceil_div(std::max(plan.key_tiles, 1), plan.tiles_per_split));
  const size_t heads = size_t(p.batch) * p.kv.num_kv_heads;
  Carver w;
  plan.row_stats = w.take(heads * plan.row_tiles * plan.num_splits * kRocketTileRows * 2 * sizeof(float));
  plan.column_sums = w.take(heads * plan.row_tiles * size_t(plan.max_prefix) * sizeof(float));
  plan.pooled = w.take(heads * size_t(plan.max_prefix) * sizeof(float));
  if (own_kept) plan.kept = w.take(heads * size_t(p.rocket.budget) * sizeof(int32_t));
  plan.bytes = w.end();
  return plan;
}

RocketDecodePlan plan_decode(const RocketDecodeProblem& p, bool own_selected) {
  RocketDecodePlan plan;
  plan.group = p.num_heads / p.kv.num_kv_heads;
  plan.max_entries = int32_t(ceil_div(p.kv.max_seqlen_kv, p.rocket.page));
  plan.max_selected = p.rocket.topk * p.rocket.page;
  const size_t heads = size_t(p.batch) * p.kv.num_kv_heads;
  Carver w;
  plan.entry_chunks = int32_t(ceil_div(plan.max_entries, kRocketEntryChunk));
  plan.bounds = w.take(size_t(p.batch) * p.num_heads * size_t(plan.max_entries) * sizeof(float));
  plan.chunk_stats = w.take(size_t(p.batch) * p.num_heads * size_t(plan.entry_chunks) * 2 * sizeof(float));
  plan.entry_scores = w.take(heads * size_t(plan.max_entries) * sizeof(float));
  plan.top_entries = w.take(heads * size_t(p.rocket.topk) * sizeof(int32_t));
  if (own_selected) plan.selected = w.take(heads * size_t(plan.max_selected) * sizeof(int32_t));
  plan.attention = w.take(sparse_workspace_bytes(rocket_attention(p, nullptr, nullptr)));
  plan.bytes = w.end();
  return plan;
}

void require_workspace(void* workspace, size_t size, size_t needed, const char* query, const char* function) {
  if (size < needed) {
    invalid(function, "args.workspace_size is " + std::to_string(size) + "; this call needs " +
                          std::to_string(needed) + " bytes (" + query + ")");
  }
  if (needed > 0 && (workspace == nullptr || reinterpret_cast<uintptr_t>(workspace) % 16 != 0)) {
    invalid(function, std::string("args.workspace is ") + (workspace == nullptr ? "NULL" : "not 16-byte aligned") +
                          "; this call needs " + std::to_string(needed) + " bytes of it");
  }
}

void require_aligned_int32(const void* p, const char* field, const char* function) {
  if (p != nullptr && reinterpret_cast<uintptr_t>(p) % 4 != 0) {
    invalid(function, std::string(field) + " is not 4-byte aligned");
  }
}

}  // namespace

int32_t resolve_topr(double topr, int32_t head_dim, const char* function, const char* field) {
  if (!std::isfinite(topr) || topr <= 0.0) {
    invalid(function, std::string(field) + " is " + std::to_string(topr) + "; must be > 0");
  }
  if (topr < 1.0) return std::max<int32_t>(1, int32_t(std::floor(topr * head_dim)));
  if (topr != std::floor(topr)) {
    invalid(function, std::string(field) + " is " + std::to_string(topr) +
                          "; a count of dims must be an integer (or give a fraction of head_dim below 1)");
  }
  return int32_t(std::min<double>(topr, head_dim));
}

KtCache resolve_kt_cache(const spattn_kt_cache* cache, const KvCache& kv, const RocketParams& rocket,
                         int32_t batch, const char* function) {
  require_arg(cache, function, "args.kt_cache");
  const spattn_kt_cache a = read_struct(cache, function, "args.kt_cache");
  KtCache c;
  if (a.layout != SPATTN_KV_LAYOUT_CONTIGUOUS && a.layout != SPATTN_KV_LAYOUT_PAGED) {
    invalid(function, "args.kt_cache->layout is " + num(int(a.layout)) +
                          "; expected SPATTN_KV_LAYOUT_CONTIGUOUS (0) or SPATTN_KV_LAYOUT_PAGED (1)");
  }
  c.layout = a.layout;
  if (a.dtype != rocket.kt_dtype) {
    invalid(function, "args.kt_cache->dtype is " + num(int(a.dtype)) + "; the config's kt_cache_dtype is " +
                          num(int(rocket.kt_dtype)));
  }
  c.dtype = a.dtype;
  if (a.num_kv_heads != kv.num_kv_heads || a.head_dim != kv.head_dim) {
    invalid(function, "args.kt_cache has " + num(a.num_kv_heads) + " KV heads of dim " + num(a.head_dim) +
                          "; the KV cache has " + num(kv.num_kv_heads) + " of dim " + num(kv.head_dim));
  }
  c.num_kv_heads = a.num_kv_heads;
  c.head_dim = a.head_dim;
  require_arg(a.data, function, "args.kt_cache->data");
  c.data = a.data;
  static const char* const kContiguous[3] = {"batch", "entry", "head"};
  static const char* const kPaged[3] = {"block", "entry in block", "head"};
  for (int i = 0; i < 3; ++i) {
    if (a.strides[i] < 0) {
      invalid(function, "args.kt_cache->strides[" + num(i) + "] (" + (c.paged() ? kPaged[i] : kContiguous[i]) +
                            " stride) is " + num(a.strides[i]) + "; strides must be >= 0");
    }
    c.strides[i] = a.strides[i];
  }
  const int64_t needed = ceil_div(kv.max_seqlen_kv, rocket.page);
  if (a.max_entries < needed || a.max_entries <= 0) {
    invalid(function, "args.kt_cache->max_entries is " + num(a.max_entries) + "; max_seqlen_kv " +
                          num(kv.max_seqlen_kv) + " with page_size " + num(rocket.page) + " needs at least " +
                          num(std::max<int64_t>(needed, 1)));
  }
  c.max_entries = a.max_entries;
  if (!c.paged()) return c;
  checks::positive(a.entries_per_block, "args.kt_cache->entries_per_block", function);
  checks::positive(a.num_blocks, "args.kt_cache->num_blocks", function);
  require_arg(a.block_table, function, "args.kt_cache->block_table");
  if (int64_t(a.entries_per_block) * a.max_blocks_per_seq < a.max_entries || a.max_blocks_per_seq <= 0) {
    invalid(function, "args.kt_cache->max_blocks_per_seq is " + num(a.max_blocks_per_seq) + "; " +
                          num(a.max_entries) + " entries in blocks of " + num(a.entries_per_block) +
                          " need at least " + num(ceil_div(a.max_entries, a.entries_per_block)));
  }
  if (int64_t(batch) * a.max_blocks_per_seq > INT32_MAX) {
    invalid(function, "args.kt_cache->max_blocks_per_seq times the batch exceeds 2^31 - 1 entries");
  }
  c.entries_per_block = a.entries_per_block;
  c.num_blocks = a.num_blocks;
  c.block_table = a.block_table;
  c.max_blocks_per_seq = a.max_blocks_per_seq;
  return c;
}

RocketContextProblem resolve_rocket_context(const spattn_rocket_context_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_rocket_context_args a = read_struct(args, function, "args");
  RocketContextProblem p;
  resolve_common(a, function, p);
  require_arg(a.q_window, function, "args.q_window");
  checks::strides(a.q_strides, "args.q_strides", function);
  p.q = TensorView{a.q_window, a.q_strides[0], a.q_strides[1], a.q_strides[2]};
  p.seqlens_out = a.seqlens_out;
  p.kept_indices = a.kept_indices;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  p.plan = plan_context(p, a.kept_indices == nullptr);
  return p;
}

RocketDecodeProblem resolve_rocket_decode(const spattn_rocket_decode_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_rocket_decode_args a = read_struct(args, function, "args");
  RocketDecodeProblem p;
  resolve_common(a, function, p);
  require_arg(a.q, function, "args.q");
  require_arg(a.out, function, "args.out");
  checks::strides(a.q_strides, "args.q_strides", function);
  checks::strides(a.out_strides, "args.out_strides", function);
  p.q = TensorView{a.q, a.q_strides[0], a.q_strides[1], a.q_strides[2]};
  p.out = a.out;
  for (int i = 0; i < 3; ++i) p.out_strides[i] = a.out_strides[i];
  if (int64_t(p.rocket.topk) * p.rocket.page > SPATTN_SPARSE_MAX_TOPK) {
    unsupported(function, "args.config->topk (" + num(p.rocket.topk) + ") times page_size (" + num(p.rocket.page) +
                              ") is above " + num(SPATTN_SPARSE_MAX_TOPK) +
                              ", the most keys the index-sparse attention takes per list");
  }
  p.lse = a.lse;
  p.selected_indices = a.selected_indices;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  p.plan = plan_decode(p, a.selected_indices == nullptr);
  return p;
}

SparseProblem rocket_attention(const RocketDecodeProblem& p, const int32_t* lists, void* workspace) {
  SparseProblem a;
  a.dtype = p.dtype;
  a.batch = p.batch;
  a.num_heads = p.num_heads;
  a.seqlen_q = 1;
  a.q = p.q;
  a.out = p.out;
  for (int i = 0; i < 3; ++i) a.out_strides[i] = p.out_strides[i];
  a.kv = p.kv;
  const int32_t max_selected = p.rocket.topk * p.rocket.page;
  a.lists.data = lists;
  a.lists.strides[0] = int64_t(p.kv.num_kv_heads) * max_selected;
  a.lists.strides[1] = 0;
  a.lists.strides[2] = max_selected;
  a.lists.topk = max_selected;
  a.causal = false;  // every listed token is at or before the new one
  a.softmax_scale = p.softmax_scale;
  a.lse = p.lse;
  a.workspace = workspace;
  a.plan = plan_sparse(a, 0);
  a.workspace_size = sparse_workspace_bytes(a);
  return a;
}

void check_kt_cache_alignment(const KtCache& kt, const char* function) {
  const int64_t row_elements = 16 / kt.element_bytes();
  if (reinterpret_cast<uintptr_t>(kt.data) % 16 != 0) {
    invalid(function, "args.kt_cache->data is not 16-byte aligned; the kernels write 16-byte rows");
  }
  for (int i = 0; i < 3; ++i) {
    if (kt.strides[i] % row_elements != 0) {
      invalid(function, "args.kt_cache->strides[" + num(i) + "] is " + num(kt.strides[i]) +
                            "; the kernels need multiples of " + num(row_elements) + " elements (16-byte rows)");
    }
  }
}

void check_rocket_context_launch(const RocketContextProblem& p, const char* function, bool needs_kept) {
  check_kv_cache_alignment(p.kv, function, "args.kv_cache");
  check_kt_cache_alignment(p.kt, function);
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  checks::rows_16b(p.q.data, q_s, "args.q_window", function);
  require_aligned_int32(p.seqlens_out, "args.seqlens_out", function);
  require_aligned_int32(p.kept_indices, "args.kept_indices", function);
  if (needs_kept && p.kept_indices == nullptr) {
    invalid(function, "args.kept_indices is NULL; this piece of the context phase reads or writes it");
  }
  if (p.rocket.kernel > kRocketMaxKernelSize) {
    unsupported(function, "args.config->kernel_size is " + num(p.rocket.kernel) + "; the kernels pool at most " +
                              num(kRocketMaxKernelSize) + " wide");
  }
  if (int64_t(p.kv.num_kv_heads) * p.plan.row_tiles > 65535) {
    unsupported(function, "num_kv_heads times the window's row tiles exceeds 65535, the CUDA grid limit");
  }
  require_workspace(p.workspace, p.workspace_size, p.plan.bytes, "spattn_rocket_context_workspace_size", function);
}

void check_rocket_decode_launch(const RocketDecodeProblem& p, const char* function, bool needs_selected) {
  check_kv_cache_alignment(p.kv, function, "args.kv_cache");
  check_kt_cache_alignment(p.kt, function);
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  checks::rows_16b(p.q.data, q_s, "args.q", function);
  checks::rows_16b(p.out, p.out_strides, "args.out", function);
  if (p.lse != nullptr && reinterpret_cast<uintptr_t>(p.lse) % 4 != 0) {
    invalid(function, "args.lse is not 4-byte aligned");
  }
  require_aligned_int32(p.selected_indices, "args.selected_indices", function);
  if (p.plan.group > kRocketMaxGroup) {
    unsupported(function, "num_heads / num_kv_heads is " + num(p.plan.group) + "; the decode kernels take at most " +
                              num(kRocketMaxGroup) + " query heads per KV head");
  }
  check_sparse_launch(rocket_attention(p, p.selected_indices, p.workspace), function);
  if (needs_selected && p.selected_indices == nullptr) {
    invalid(function, "args.selected_indices is NULL; this piece of the decode step reads or writes it");
  }
  require_workspace(p.workspace, p.workspace_size, p.plan.bytes, "spattn_rocket_decode_workspace_size", function);
}

}  // namespace spattn::attention
