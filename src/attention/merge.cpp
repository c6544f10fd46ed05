// Validation and CPU version of spattn_attention_merge.
#include "attention/merge.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "attention/arg_checks.hpp"
#include "attention/attention_problem.hpp"
#include "attention/half_float.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

void require_value_dtype(spattn_dtype dtype, const char* field, const char* function) {
  if (dtype != SPATTN_DTYPE_FLOAT32 && dtype != SPATTN_DTYPE_FLOAT16 && dtype != SPATTN_DTYPE_BFLOAT16) {
    invalid(function, std::string("args.") + field + " is " + std::to_string(int(dtype)) +
                          "; expected SPATTN_DTYPE_FLOAT16 (1), _BFLOAT16 (2) or _FLOAT32 (4)");
  }
}

int64_t element_bytes(spattn_dtype dtype) { return dtype == SPATTN_DTYPE_FLOAT32 ? 4 : 2; }

double load(const void* base, int64_t offset, spattn_dtype dtype) {
  if (dtype == SPATTN_DTYPE_FLOAT32) return static_cast<const float*>(base)[offset];
  return storage_to_float(static_cast<const uint16_t*>(base)[offset], dtype == SPATTN_DTYPE_BFLOAT16);
}

void store(void* base, int64_t offset, spattn_dtype dtype, double value) {
  if (dtype == SPATTN_DTYPE_FLOAT32) {
    static_cast<float*>(base)[offset] = float(value);
  } else {
    static_cast<uint16_t*>(base)[offset] = float_to_storage(float(value), dtype == SPATTN_DTYPE_BFLOAT16);
  }
}

}  // namespace

MergeProblem resolve_merge(const spattn_merge_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_merge_args a = read_struct(args, function, "args");
  checks::in_range(a.num_parts, 1, SPATTN_MERGE_MAX_PARTS, "args.num_parts", function);
  checks::in_range(a.batch, 1, INT32_MAX, "args.batch", function);
  checks::in_range(a.seqlen, 1, INT32_MAX, "args.seqlen", function);
  checks::in_range(a.num_heads, 1, INT32_MAX, "args.num_heads", function);
  checks::in_range(a.head_dim, 1, 1024, "args.head_dim", function);
  require_value_dtype(a.parts_dtype, "parts_dtype", function);
  require_value_dtype(a.out_dtype, "out_dtype", function);
  require_arg(a.parts, function, "args.parts");
  require_arg(a.part_lse, function, "args.part_lse");
  require_arg(a.out, function, "args.out");
  checks::strides(a.part_strides, "args.part_strides", function);
  checks::strides(a.out_strides, "args.out_strides", function);
  MergeProblem p;
  p.num_parts = a.num_parts;
  p.batch = a.batch;
  p.seqlen = a.seqlen;
  p.num_heads = a.num_heads;
  p.head_dim = a.head_dim;
  p.parts_dtype = a.parts_dtype;
  p.out_dtype = a.out_dtype;
  for (int32_t i = 0; i < a.num_parts; ++i) {
    const std::string index = "[" + std::to_string(i) + "]";
    require_arg(a.parts[i], function, ("args.parts" + index).c_str());
    require_arg(a.part_lse[i], function, ("args.part_lse" + index).c_str());
    p.parts[i] = a.parts[i];
    p.part_lse[i] = a.part_lse[i];
  }
  for (int i = 0; i < 3; ++i) {
    p.part_strides[i] = a.part_strides[i];
    p.out_strides[i] = a.out_strides[i];
  }
  p.out = a.out;
  p.lse = a.lse;
  return p;
}

void check_merge_launch(const MergeProblem& p, const char* function) {
  const int64_t part_bytes = element_bytes(p.parts_dtype), out_bytes = element_bytes(p.out_dtype);
  for (int32_t i = 0; i < p.num_parts; ++i) {
    if (reinterpret_cast<uintptr_t>(p.parts[i]) % part_bytes != 0 ||
        reinterpret_cast<uintptr_t>(p.part_lse[i]) % 4 != 0) {
      invalid(function, "args.parts[" + std::to_string(i) + "] / part_lse[" + std::to_string(i) +
                            "] are not aligned to their element size");
    }
  }
  if (reinterpret_cast<uintptr_t>(p.out) % out_bytes != 0 ||
      (p.lse != nullptr && reinterpret_cast<uintptr_t>(p.lse) % 4 != 0)) {
    invalid(function, "args.out / args.lse are not aligned to their element size");
  }
  if (int64_t(p.batch) * p.seqlen * p.num_heads > INT32_MAX) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": batch * seqlen * num_heads exceeds 2^31 - 1 rows");
  }
}

void reference_merge(const MergeProblem& p) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> lse(size_t(p.num_parts)), o(size_t(p.head_dim));
  for (int32_t b = 0; b < p.batch; ++b) {
    for (int32_t t = 0; t < p.seqlen; ++t) {
      for (int32_t h = 0; h < p.num_heads; ++h) {
        const int64_t lse_index = (int64_t(b) * p.num_heads + h) * p.seqlen + t;
        double lse_max = -inf;
        for (int32_t i = 0; i < p.num_parts; ++i) {
          lse[size_t(i)] = p.part_lse[i][lse_index];
          lse_max = std::max(lse_max, lse[size_t(i)]);
        }
        std::fill(o.begin(), o.end(), 0.0);
        double merged = -inf;
        if (lse_max > -inf) {
          double total = 0.0;
          for (double l : lse) total += std::exp(l - lse_max);
          merged = lse_max + std::log(total);
          const int64_t offset = b * p.part_strides[0] + t * p.part_strides[1] + h * p.part_strides[2];
          for (int32_t i = 0; i < p.num_parts; ++i) {
            const double w = std::exp(lse[size_t(i)] - merged);
            if (w == 0.0) continue;
            for (int32_t d = 0; d < p.head_dim; ++d) o[size_t(d)] += w * load(p.parts[i], offset + d, p.parts_dtype);
          }
        }
        const int64_t out_offset = b * p.out_strides[0] + t * p.out_strides[1] + h * p.out_strides[2];
        for (int32_t d = 0; d < p.head_dim; ++d) store(p.out, out_offset + d, p.out_dtype, o[size_t(d)]);
        if (p.lse != nullptr) p.lse[lse_index] = float(merged);
      }
    }
  }
}

}  // namespace spattn::attention
