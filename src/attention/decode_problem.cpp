// Validation and planning of a decode step.
#include "attention/decode_problem.hpp"

#include <cmath>
#include <string>

#include "attention/arg_checks.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

int32_t ceil_div(int64_t a, int64_t b) { return int32_t((a + b - 1) / b); }

DecodePlan plan(const spattn_decode_args& a, const KvCache& kv) {
  DecodePlan p;
  p.group = a.num_heads / kv.num_kv_heads;
  p.rows = a.seqlen_q * p.group;
  p.row_tiles = ceil_div(p.rows, kDecodeTileRows);
  p.max_tiles = ceil_div(kv.max_seqlen_kv, SPATTN_SKIP_TILE_KEYS);
  int32_t splits = a.num_splits;
  if (splits == 0) {
    const int64_t ctas = int64_t(a.batch) * kv.num_kv_heads * p.row_tiles;
    const int64_t by_length = (int64_t(p.max_tiles) + kDecodeMinTilesPerSplit - 1) / kDecodeMinTilesPerSplit;
    const int64_t target = kv.fp8() && p.rows <= 16 ? kDecodeTargetCtasFp8 : kDecodeTargetCtas;
    splits = int32_t(std::min<int64_t>(by_length, (target + ctas - 1) / ctas));
  }
  splits = std::max(1, std::min(splits, std::max(p.max_tiles, 1)));
  p.tiles_per_split = ceil_div(p.max_tiles, splits);
  p.num_splits = p.tiles_per_split > 0 ? ceil_div(p.max_tiles, p.tiles_per_split) : 1;
  return p;
}

}  // namespace

DecodeProblem resolve_decode(const spattn_decode_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_decode_args a = read_struct(args, function, "args");
  checks::dtype(a.dtype, "args.dtype", function);
  checks::in_range(a.batch, 1, 65535, "args.batch", function);
  checks::in_range(a.num_heads, 1, 65535, "args.num_heads", function);
  checks::in_range(a.seqlen_q, 1, SPATTN_DECODE_MAX_QUERIES, "args.seqlen_q", function);
  require_arg(a.q, function, "args.q");
  require_arg(a.out, function, "args.out");
  checks::strides(a.q_strides, "args.q_strides", function);
  checks::strides(a.out_strides, "args.out_strides", function);

  DecodeProblem p;
  p.kv = resolve_kv_cache(a.kv_cache, a.batch, a.dtype, function, "args.kv_cache");
  if (a.num_heads % p.kv.num_kv_heads != 0) {
    invalid(function, "args.num_heads (" + std::to_string(a.num_heads) +
                          ") is not a multiple of args.kv_cache->num_kv_heads (" +
                          std::to_string(p.kv.num_kv_heads) + ")");
  }
  if (p.kv.head_dim != 64 && p.kv.head_dim != 128) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.kv_cache->head_dim is " +
                                     std::to_string(p.kv.head_dim) + "; supported: 64, 128");
  }
  if (p.kv.head_dim_v != p.kv.head_dim) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.kv_cache->head_dim_v " +
                                     std::to_string(p.kv.head_dim_v) + " differs from head_dim " +
                                     std::to_string(p.kv.head_dim) + "; decode needs equal key and value dims");
  }
  if (!std::isfinite(a.softmax_scale) || a.softmax_scale < 0.0f) {
    invalid(function, "args.softmax_scale is " + std::to_string(a.softmax_scale) +
                          "; must be finite and >= 0 (0: 1/sqrt(head_dim))");
  }
  if (a.causal != 0 && a.causal != 1) {
    invalid(function, "args.causal is " + std::to_string(a.causal) + "; expected 0 or 1");
  }
  if (a.skip_seqlen_kv < 0) {
    invalid(function, "args.skip_seqlen_kv is " + std::to_string(a.skip_seqlen_kv) + "; must be >= 0 (0: each sequence's own)");
  }
  checks::in_range(a.num_splits, 0, kDecodeMaxSplits, "args.num_splits", function);

  p.dtype = a.dtype;
  p.batch = a.batch;
  p.num_heads = a.num_heads;
  p.seqlen_q = a.seqlen_q;
  p.q = TensorView{a.q, a.q_strides[0], a.q_strides[1], a.q_strides[2]};
  p.out = a.out;
  for (int i = 0; i < 3; ++i) p.out_strides[i] = a.out_strides[i];
  p.softmax_scale = a.softmax_scale != 0.0f
                        ? a.softmax_scale
                        : static_cast<float>(1.0 / std::sqrt(static_cast<double>(p.kv.head_dim)));
  p.causal = a.causal != 0;
  p.threshold_scale_factor = resolve_threshold(a.layer_params, a.threshold_scale_factor, function, nullptr);
  p.skip_seqlen_kv = a.skip_seqlen_kv;
  p.lse = a.lse;
  p.tile_counters = a.tile_counters;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  p.plan = plan(a, p.kv);
  return p;
}

size_t decode_workspace_bytes(const DecodeProblem& p) {
  if (p.plan.num_splits <= 1) return 0;
  const size_t rows = size_t(p.batch) * p.num_heads * p.seqlen_q * p.plan.num_splits;
  const size_t o_bytes = (rows * size_t(p.kv.head_dim_v) * sizeof(float) + 15) / 16 * 16;
  return o_bytes + rows * sizeof(float);
}

void check_decode_launch(const DecodeProblem& p, const char* function) {
  check_kv_cache_alignment(p.kv, function, "args.kv_cache");
  const int64_t q_s[3] = {p.q.batch_stride, p.q.token_stride, p.q.head_stride};
  checks::rows_16b(p.q.data, q_s, "args.q", function);
  checks::rows_16b(p.out, p.out_strides, "args.out", function);
  if (p.lse != nullptr && reinterpret_cast<uintptr_t>(p.lse) % 4 != 0) {
    invalid(function, "args.lse is not 4-byte aligned");
  }
  if (p.tile_counters != nullptr && reinterpret_cast<uintptr_t>(p.tile_counters) % 8 != 0) {
    invalid(function, "args.tile_counters is not 8-byte aligned");
  }
  const size_t needed = decode_workspace_bytes(p);
  if (p.workspace_size < needed) {
    invalid(function, "args.workspace_size is " + std::to_string(p.workspace_size) + "; this call needs " +
                          std::to_string(needed) + " bytes (spattn_decode_workspace_size)");
  }
  if (needed > 0 && (p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % 16 != 0)) {
    invalid(function, std::string("args.workspace is ") + (p.workspace == nullptr ? "NULL" : "not 16-byte aligned") +
                          "; this call needs " + std::to_string(needed) + " bytes of it");
  }
  if (int64_t(p.kv.num_kv_heads) * p.plan.row_tiles > 65535) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": num_kv_heads times the row tiles (" +
                                     std::to_string(int64_t(p.kv.num_kv_heads) * p.plan.row_tiles) +
                                     ") exceeds 65535, the CUDA grid limit");
  }
}

}  // namespace spattn::attention
