// The caller's KV cache (spattn_kv_cache), validated: what every attention
// entry point that reads a cache (decode, chunked prefill, the index-sparse
// kernels) and their CPU references consume. Plain C++, no CUDA types.
#pragma once

#include <spattn/spattn.h>

#include <cstdint>
#include <vector>

namespace spattn::attention {

struct KvCache {
  spattn_kv_layout layout = SPATTN_KV_LAYOUT_CONTIGUOUS;
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t head_dim_v = 0;  // resolved: never 0
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t k_strides[3] = {0, 0, 0};
  int64_t v_strides[3] = {0, 0, 0};
  float k_scale = 1.0f;  // resolved: 0 -> 1
  float v_scale = 1.0f;
  const int32_t* seqlens_kv = nullptr;
  int32_t max_seqlen_kv = 0;
  int32_t page_size = 0;  // paged only
  int32_t num_pages = 0;
  const int32_t* block_table = nullptr;
  int32_t max_pages_per_seq = 0;

  bool paged() const { return layout == SPATTN_KV_LAYOUT_PAGED; }
  bool fp8() const { return dtype == SPATTN_DTYPE_FLOAT8_E4M3; }
  int32_t element_bytes() const { return fp8() ? 1 : 2; }
};

// Checks every field of `cache` (`field` names it in messages, e.g.
// "args.kv_cache") against a batch of `batch` sequences whose queries have
// dtype `query_dtype`, and resolves the defaults. Device contents (seqlens,
// block table) are not read. Throws spattn::Error.
KvCache resolve_kv_cache(const spattn_kv_cache* cache, int32_t batch, spattn_dtype query_dtype,
                         const char* function, const char* field);

// The kernels' extra needs: 16-byte aligned pools and rows. Throws
// SPATTN_ERR_INVALID_ARGUMENT naming the field.
void check_kv_cache_alignment(const KvCache& cache, const char* function, const char* field);

// Host-side access for the CPU references, on host pointers: validates each
// sequence's length and every block-table entry it uses (errors name the
// sequence and the entry), and reads stored values as floats (FP8 values
// not yet scaled: the scales are applied by the algorithms, as the kernels
// do).
class KvCacheReader {
 public:
  KvCacheReader(const KvCache& cache, int32_t batch, const char* function, const char* field);

  int32_t seqlen(int32_t b) const { return seqlens_[size_t(b)]; }
  // Keys [0, seqlen(b)) of KV head `head` of sequence b: [seqlen][head_dim].
  std::vector<float> keys(int32_t b, int32_t head) const;
  // Values: [seqlen][head_dim_v].
  std::vector<float> values(int32_t b, int32_t head) const;
  // Element offset of token j's row of KV head `head` of sequence b in the K
  // (kValues false) or V pool; j below the sequence's block-table pages.
  int64_t row_offset(bool values, int32_t b, int32_t j, int32_t head) const;

 private:
  std::vector<float> rows(bool values, int32_t b, int32_t head) const;
  const KvCache& cache_;
  std::vector<int32_t> seqlens_;
};

}  // namespace spattn::attention
