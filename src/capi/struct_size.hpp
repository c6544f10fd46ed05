// The extensible-struct rule of spattn.h ("Conventions"), in one place:
// every entry point that takes a caller's struct, now and later, reads it
// with read_struct or fills it with write_struct.
//
// A caller sets struct_size to sizeof(the struct) of the header it was
// built with. The library accepts any struct_size from the struct's first
// published layout up and uses exactly the fields of the newest published
// layout that fits in struct_size (never part of a field): fields an older
// caller's struct lacks read as 0 (every appended field is defined so that
// 0 keeps the older behavior), and output fields it lacks are not written.
// Bytes past the library's own layout (a caller with a newer header) are
// neither read nor written. Below the first layout: SPATTN_ERR_INVALID_ARGUMENT.
//
// Appending a field to a struct: append its end to the struct's kEnds below
// (a static_assert fails until then), and document what 0 means for it.
// A new struct: add a PublishedLayouts specialization (read_struct and
// write_struct do not compile for a struct without one).
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.hpp"

// The smallest struct_size that holds `field` of `type` entirely.
#define SPATTN_FIELD_END(type, field) (offsetof(type, field) + sizeof(static_cast<type*>(nullptr)->field))

namespace spattn {

// For each public extensible struct: its name and the end of its last field
// in every published layout, oldest first.
template <class T>
struct PublishedLayouts;

template <>
struct PublishedLayouts<spattn_skip_softmax_config> {
  static constexpr const char* kName = "spattn_skip_softmax_config";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_skip_softmax_config, quantize_p)};  // 0.1.0
};

template <>
struct PublishedLayouts<spattn_rocket_config> {
  static constexpr const char* kName = "spattn_rocket_config";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_rocket_config, seq_len_threshold)};  // 0.1.0
};

template <>
struct PublishedLayouts<spattn_dsa_config> {
  static constexpr const char* kName = "spattn_dsa_config";
  static constexpr size_t kEnds[] = {
      SPATTN_FIELD_END(spattn_dsa_config, seq_len_threshold),              // 0.1.0
      SPATTN_FIELD_END(spattn_dsa_config, index_share_for_mtp_iteration),  // 0.2: TensorRT-LLM's current fields
  };
};

template <>
struct PublishedLayouts<spattn_layer_params> {
  static constexpr const char* kName = "spattn_layer_params";
  static constexpr size_t kEnds[] = {
      SPATTN_FIELD_END(spattn_layer_params, quantize_p),      // 0.1.0
      SPATTN_FIELD_END(spattn_layer_params, vsa_cube_shape),  // 0.2: + vsa_sparsity, vsa_cube_shape (0: not VSA)
  };
};

template <>
struct PublishedLayouts<spattn_attention_args> {
  static constexpr const char* kName = "spattn_attention_args";
  static constexpr size_t kEnds[] = {
      SPATTN_FIELD_END(spattn_attention_args, tile_counters),  // 0.1.0
      SPATTN_FIELD_END(spattn_attention_args, total_kv),       // + total_q, total_kv (0: unknown)
      SPATTN_FIELD_END(spattn_attention_args, skip_seqlen_kv), // 0.2: + kv_cache (NULL: k/v), skip_seqlen_kv (0: own)
  };
};

template <>
struct PublishedLayouts<spattn_vsa_config> {
  static constexpr const char* kName = "spattn_vsa_config";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_vsa_config, disabled_until_timestep)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_vsa_args> {
  static constexpr const char* kName = "spattn_vsa_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_vsa_args, workspace_size)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_vsa_layout_args> {
  static constexpr const char* kName = "spattn_vsa_layout_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_vsa_layout_args, dst_strides)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_vsa_geometry> {
  static constexpr const char* kName = "spattn_vsa_geometry";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_vsa_geometry, padded_tokens)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_kv_cache> {
  static constexpr const char* kName = "spattn_kv_cache";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_kv_cache, max_pages_per_seq)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_decode_args> {
  static constexpr const char* kName = "spattn_decode_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_decode_args, num_splits)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_merge_args> {
  static constexpr const char* kName = "spattn_merge_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_merge_args, lse)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_sparse_attention_args> {
  static constexpr const char* kName = "spattn_sparse_attention_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_sparse_attention_args, num_splits)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_topk_args> {
  static constexpr const char* kName = "spattn_topk_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_topk_args, index_row_stride)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_dsa_indexer_args> {
  static constexpr const char* kName = "spattn_dsa_indexer_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_dsa_indexer_args, logits_row_stride)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_dsa_layer_args> {
  static constexpr const char* kName = "spattn_dsa_layer_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_dsa_layer_args, workspace_size)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_kt_cache> {
  static constexpr const char* kName = "spattn_kt_cache";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_kt_cache, max_blocks_per_seq)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_rocket_context_args> {
  static constexpr const char* kName = "spattn_rocket_context_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_rocket_context_args, workspace_size)};  // 0.2
};

template <>
struct PublishedLayouts<spattn_rocket_decode_args> {
  static constexpr const char* kName = "spattn_rocket_decode_args";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(spattn_rocket_decode_args, workspace_size)};  // 0.2
};

namespace detail {

template <class T>
constexpr bool layouts_are_consistent() {
  constexpr size_t n = sizeof(PublishedLayouts<T>::kEnds) / sizeof(size_t);
  const size_t* ends = PublishedLayouts<T>::kEnds;
  if (ends[0] < SPATTN_FIELD_END(T, struct_size)) return false;
  for (size_t i = 1; i < n; ++i)
    if (ends[i] <= ends[i - 1]) return false;
  // The newest layout ends at the struct's last field: only padding follows.
  return ends[n - 1] <= sizeof(T) && sizeof(T) - ends[n - 1] < alignof(T);
}

}  // namespace detail

// The number of bytes of the caller's struct the library uses: the end of
// the newest published layout within `struct_size`. Throws
// SPATTN_ERR_INVALID_ARGUMENT naming `function` and `argument` when
// struct_size is below the first published layout.
template <class T>
size_t struct_bytes(uint32_t struct_size, const char* function, const char* argument) {
  static_assert(detail::layouts_are_consistent<T>(),
                "PublishedLayouts<T>::kEnds must be increasing and end at the struct's last field: "
                "append the end of every appended field");
  using L = PublishedLayouts<T>;
  size_t bytes = 0;
  for (size_t end : L::kEnds)
    if (end <= struct_size) bytes = end;
  if (bytes == 0) {
    fail(SPATTN_ERR_INVALID_ARGUMENT,
         std::string(function) + ": " + argument + ": " + L::kName + ".struct_size is " +
             std::to_string(struct_size) + ", expected at least " + std::to_string(L::kEnds[0]) +
             " (its first published layout; set it to sizeof(" + L::kName + "))");
  }
  return bytes;
}

// A caller's input struct in today's layout: the fields its struct_size
// covers, 0 in the fields it does not.
template <class T>
T read_struct(const T* in, const char* function, const char* argument) {
  const size_t bytes = struct_bytes<T>(in->struct_size, function, argument);
  T copy;
  std::memset(&copy, 0, sizeof copy);
  std::memcpy(&copy, in, bytes);
  return copy;
}

// Checks that `out` can take a result before any work is done (so that a
// bad struct_size is reported first); write_struct checks again.
template <class T>
void require_struct(const T* out, const char* function, const char* argument) {
  (void)struct_bytes<T>(out->struct_size, function, argument);
}

// Writes the fields of `value` that the caller's struct has; out->struct_size
// keeps the caller's value, and nothing past its layout is touched.
template <class T>
void write_struct(T* out, const T& value, const char* function, const char* argument) {
  const uint32_t struct_size = out->struct_size;
  const size_t bytes = struct_bytes<T>(struct_size, function, argument);
  std::memcpy(static_cast<void*>(out), &value, bytes);
  out->struct_size = struct_size;
}

}  // namespace spattn
