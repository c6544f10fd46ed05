// An index list of spattn_sparse_attention, read into shared memory in the
// form every CTA of the list agrees on: entries outside [0, L_kv) become
// kListHole, the valid entries come first in increasing order, and a key
// listed twice keeps one entry (the other becomes a hole). A list that is
// already increasing with its holes at the end (what spattn_topk writes) is
// taken as it is after one pass; any other is sorted in shared memory.
#pragma once

#include <spattn/spattn.h>

#include <cstdint>

namespace spattn::attention {

constexpr int32_t kListHole = 0x7fffffff;

// Sorts `n` (a power of two) ints of shared memory in increasing order.
template <int kThreads>
__device__ __forceinline__ void bitonic_sort(int32_t* a, int n) {
  for (int k = 2; k <= n; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < n; i += kThreads) {
        const int partner = i ^ j;
        if (partner > i) {
          const int32_t x = a[i], y = a[partner];
          const bool ascending = (i & k) == 0;
          if ((x > y) == ascending) {
            a[i] = y;
            a[partner] = x;
          }
        }
      }
      __syncthreads();
    }
  }
}

// Reads the `topk` entries of `src` into `list` (capacity `cap`, a power of
// two >= topk) and returns how many were in range: positions [0, count) then
// hold the keys in increasing order (repeats turned into holes), the rest
// holes. `scratch` is one shared int. Every thread of the CTA calls it.
template <int kThreads>
__device__ __forceinline__ int load_index_list(const int32_t* src, int topk, int cap, int lk, int32_t* list,
                                               int* scratch) {
  if (threadIdx.x == 0) *scratch = 0;
  for (int i = threadIdx.x; i < cap; i += kThreads) {
    const int32_t e = i < topk ? src[i] : -1;
    list[i] = (e >= 0 && e < lk) ? e : kListHole;
  }
  __syncthreads();
  bool ordered = true;
  int count = 0;
  for (int i = threadIdx.x; i < cap; i += kThreads) {
    const int32_t a = list[i];
    count += a != kListHole ? 1 : 0;
    if (i + 1 < cap) {
      const int32_t b = list[i + 1];
      ordered = ordered && (a < b || (a == kListHole && b == kListHole));
    }
  }
  if (count > 0) atomicAdd(scratch, count);
  const bool sorted = __syncthreads_and(ordered) != 0;
  const int total = *scratch;
  if (sorted) return total;
  bitonic_sort<kThreads>(list, cap);
  // Repeats: every entry equal to its predecessor becomes a hole (decided
  // for all positions first, then written).
  constexpr int kItems = (SPATTN_SPARSE_MAX_TOPK + kThreads - 1) / kThreads;
  static_assert(kItems <= 64, "one bit per item of this thread");
  uint64_t repeat = 0;
#pragma unroll
  for (int r = 0; r < kItems; ++r) {
    const int i = threadIdx.x + r * kThreads;
    if (i > 0 && i < cap && list[i] != kListHole && list[i] == list[i - 1]) repeat |= uint64_t(1) << r;
  }
  __syncthreads();
#pragma unroll
  for (int r = 0; r < kItems; ++r) {
    if ((repeat >> r) & 1) list[threadIdx.x + r * kThreads] = kListHole;
  }
  __syncthreads();
  return total;
}

}  // namespace spattn::attention
