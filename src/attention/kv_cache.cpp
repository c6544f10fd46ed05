// Validation of spattn_kv_cache and the host reader of the CPU references.
#include "attention/kv_cache.hpp"

#include <cmath>
#include <cstddef>
#include <string>

#include "attention/arg_checks.hpp"
#include "attention/fp8.hpp"
#include "attention/half_float.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention {
namespace {

using checks::invalid;

std::string name(const char* field, const char* member) { return std::string(field) + "->" + member; }

float resolve_scale(float scale, const KvCache& c, const char* function, const std::string& what) {
  if (!std::isfinite(scale) || scale < 0.0f) {
    invalid(function, what + " is " + std::to_string(scale) + "; must be finite and >= 0 (0: 1)");
  }
  if (scale == 0.0f) return 1.0f;
  if (!c.fp8() && scale != 1.0f) {
    invalid(function, what + " is " + std::to_string(scale) +
                          "; only FP8 caches are scaled (give 0 or 1 for a 16-bit cache)");
  }
  return scale;
}

void check_strides(const int64_t strides[3], const char* function, const std::string& what,
                   bool paged) {
  static const char* const kContiguous[3] = {"batch", "token", "head"};
  static const char* const kPaged[3] = {"page", "slot", "head"};
  for (int i = 0; i < 3; ++i) {
    if (strides[i] < 0) {
      invalid(function, what + "[" + std::to_string(i) + "] (" + (paged ? kPaged[i] : kContiguous[i]) +
                            " stride) is " + std::to_string(strides[i]) + "; strides must be >= 0");
    }
  }
}

}  // namespace

KvCache resolve_kv_cache(const spattn_kv_cache* cache, int32_t batch, spattn_dtype query_dtype,
                         const char* function, const char* field) {
  require_arg(cache, function, field);
  const spattn_kv_cache a = read_struct(cache, function, field);
  KvCache c;
  if (a.layout != SPATTN_KV_LAYOUT_CONTIGUOUS && a.layout != SPATTN_KV_LAYOUT_PAGED) {
    invalid(function, name(field, "layout") + " is " + std::to_string(int(a.layout)) +
                          "; expected SPATTN_KV_LAYOUT_CONTIGUOUS (0) or SPATTN_KV_LAYOUT_PAGED (1)");
  }
  c.layout = a.layout;
  if (a.dtype != query_dtype && a.dtype != SPATTN_DTYPE_FLOAT8_E4M3) {
    invalid(function, name(field, "dtype") + " is " + std::to_string(int(a.dtype)) +
                          "; a KV cache holds the queries' dtype (" + std::to_string(int(query_dtype)) +
                          ") or SPATTN_DTYPE_FLOAT8_E4M3 (3)");
  }
  c.dtype = a.dtype;
  if (a.num_kv_heads <= 0) {
    invalid(function, name(field, "num_kv_heads") + " is " + std::to_string(a.num_kv_heads) + "; must be > 0");
  }
  c.num_kv_heads = a.num_kv_heads;
  if (a.head_dim <= 0 || a.head_dim_v < 0) {
    invalid(function, name(field, "head_dim") + " / head_dim_v are " + std::to_string(a.head_dim) + " / " +
                          std::to_string(a.head_dim_v) + "; head_dim must be > 0 and head_dim_v >= 0 (0: head_dim)");
  }
  c.head_dim = a.head_dim;
  c.head_dim_v = a.head_dim_v == 0 ? a.head_dim : a.head_dim_v;
  require_arg(a.k, function, name(field, "k").c_str());
  require_arg(a.v, function, name(field, "v").c_str());
  c.k = a.k;
  c.v = a.v;
  check_strides(a.k_strides, function, name(field, "k_strides"), c.paged());
  check_strides(a.v_strides, function, name(field, "v_strides"), c.paged());
  for (int i = 0; i < 3; ++i) {
    c.k_strides[i] = a.k_strides[i];
    c.v_strides[i] = a.v_strides[i];
  }
  c.k_scale = resolve_scale(a.k_scale, c, function, name(field, "k_scale"));
  c.v_scale = resolve_scale(a.v_scale, c, function, name(field, "v_scale"));
  if (a.max_seqlen_kv < 0) {
    invalid(function, name(field, "max_seqlen_kv") + " is " + std::to_string(a.max_seqlen_kv) + "; must be >= 0");
  }
  c.max_seqlen_kv = a.max_seqlen_kv;
  c.seqlens_kv = a.seqlens_kv;
  if (!c.paged()) return c;

  const int32_t ps = a.page_size;
  if (ps != 16 && ps != 32 && ps != 64 && ps != 128) {
    invalid(function, name(field, "page_size") + " is " + std::to_string(ps) + "; supported: 16, 32, 64, 128");
  }
  if (a.num_pages <= 0) {
    invalid(function, name(field, "num_pages") + " is " + std::to_string(a.num_pages) + "; must be > 0");
  }
  require_arg(a.block_table, function, name(field, "block_table").c_str());
  const int64_t needed = (int64_t(a.max_seqlen_kv) + ps - 1) / ps;
  if (a.max_pages_per_seq < needed || a.max_pages_per_seq <= 0) {
    invalid(function, name(field, "max_pages_per_seq") + " is " + std::to_string(a.max_pages_per_seq) +
                          "; max_seqlen_kv " + std::to_string(a.max_seqlen_kv) + " with page_size " +
                          std::to_string(ps) + " needs at least " + std::to_string(needed > 0 ? needed : 1));
  }
  if (int64_t(batch) * a.max_pages_per_seq > INT32_MAX) {
    invalid(function, name(field, "max_pages_per_seq") + " times the batch exceeds 2^31 - 1 entries");
  }
  c.page_size = ps;
  c.num_pages = a.num_pages;
  c.block_table = a.block_table;
  c.max_pages_per_seq = a.max_pages_per_seq;
  return c;
}

void check_kv_cache_alignment(const KvCache& c, const char* function, const char* field) {
  const int64_t row_elements = 16 / c.element_bytes();
  const struct {
    const void* data;
    const int64_t* strides;
    const char* pool;
    const char* strides_name;
  } items[2] = {{c.k, c.k_strides, "k", "k_strides"}, {c.v, c.v_strides, "v", "v_strides"}};
  for (const auto& item : items) {
    if (reinterpret_cast<uintptr_t>(item.data) % 16 != 0) {
      invalid(function, name(field, item.pool) + " is not 16-byte aligned; the kernels load 16-byte rows");
    }
    for (int i = 0; i < 3; ++i) {
      if (item.strides[i] % row_elements != 0) {
        invalid(function, name(field, item.strides_name) + "[" + std::to_string(i) + "] is " +
                              std::to_string(item.strides[i]) + "; the kernels need multiples of " +
                              std::to_string(row_elements) + " elements (16-byte rows)");
      }
    }
  }
  if ((c.head_dim * c.element_bytes()) % 16 != 0 || (c.head_dim_v * c.element_bytes()) % 16 != 0) {
    invalid(function, name(field, "head_dim") + " rows must be whole 16-byte chunks");
  }
}

KvCacheReader::KvCacheReader(const KvCache& cache, int32_t batch, const char* function, const char* field)
    : cache_(cache), seqlens_(size_t(batch), cache.max_seqlen_kv) {
  for (int32_t b = 0; b < batch; ++b) {
    if (cache.seqlens_kv != nullptr) {
      const int32_t len = cache.seqlens_kv[b];
      if (len < 0 || len > cache.max_seqlen_kv) {
        invalid(function, name(field, "seqlens_kv") + "[" + std::to_string(b) + "] is " + std::to_string(len) +
                              "; must be in [0, max_seqlen_kv = " + std::to_string(cache.max_seqlen_kv) + "]");
      }
      seqlens_[size_t(b)] = len;
    }
    if (!cache.paged()) continue;
    const int32_t pages = (seqlens_[size_t(b)] + cache.page_size - 1) / cache.page_size;
    for (int32_t i = 0; i < pages; ++i) {
      const int32_t page = cache.block_table[int64_t(b) * cache.max_pages_per_seq + i];
      if (page < 0 || page >= cache.num_pages) {
        invalid(function, name(field, "block_table") + "[" + std::to_string(b) + "][" + std::to_string(i) +
                              "] is page " + std::to_string(page) + "; must be in [0, num_pages = " +
                              std::to_string(cache.num_pages) + ")");
      }
    }
  }
}

std::vector<float> KvCacheReader::rows(bool values, int32_t b, int32_t head) const {
  const void* base = values ? cache_.v : cache_.k;
  const int32_t dim = values ? cache_.head_dim_v : cache_.head_dim;
  const int32_t len = seqlen(b);
  std::vector<float> out(size_t(len) * dim);
  for (int32_t j = 0; j < len; ++j) {
    const int64_t offset = row_offset(values, b, j, head);
    float* row = &out[size_t(j) * dim];
    if (cache_.fp8()) {
      const uint8_t* src = static_cast<const uint8_t*>(base) + offset;
      for (int32_t d = 0; d < dim; ++d) row[d] = e4m3_to_float(src[d]);
    } else {
      const uint16_t* src = static_cast<const uint16_t*>(base) + offset;
      const bool bf16 = cache_.dtype == SPATTN_DTYPE_BFLOAT16;
      for (int32_t d = 0; d < dim; ++d) row[d] = storage_to_float(src[d], bf16);
    }
  }
  return out;
}

int64_t KvCacheReader::row_offset(bool values, int32_t b, int32_t j, int32_t head) const {
  const int64_t* strides = values ? cache_.v_strides : cache_.k_strides;
  if (cache_.paged()) {
    const int32_t page = cache_.block_table[int64_t(b) * cache_.max_pages_per_seq + j / cache_.page_size];
    return page * strides[0] + (j % cache_.page_size) * strides[1] + head * strides[2];
  }
  return b * strides[0] + j * strides[1] + head * strides[2];
}

std::vector<float> KvCacheReader::keys(int32_t b, int32_t head) const {
  return rows(false, b, head);
}

std::vector<float> KvCacheReader::values(int32_t b, int32_t head) const {
  return rows(true, b, head);
}

}  // namespace spattn::attention
