// Top-k of one row in one CTA, by radix selection on the order-preserving
// 32-bit keys of src/attention/topk_rule.hpp: four 8-bit passes over the
// row find the k-th largest key T and how many of the keys equal to T are
// taken (the lowest columns first); a last pass writes the selected columns
// in increasing order (a block-wide scan of "greater than T" and "equal to
// T" counts). Rows with at most k candidates skip the passes. The row is
// read through a functor, so the same piece serves spattn_topk (a score
// matrix), the DSA layer (its chunk of indexer scores) and RocketKV (page
// scores).
#pragma once

#include <cstdint>

#include "attention/topk_rule.hpp"

namespace spattn::attention {

template <int kThreads>
struct TopkShared {
  static constexpr int kWarps = kThreads / 32;
  int hist[256];
  int warp_sums[kWarps][2];
  int digit, need_after, count;
};

// Block-wide exclusive scan of two counts per thread; returns the totals.
template <int kThreads>
__device__ __forceinline__ int2 block_scan2(int2 mine, int2& before, TopkShared<kThreads>& sh) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int2 incl = mine;
#pragma unroll
  for (int off = 1; off < 32; off <<= 1) {
    const int x = __shfl_up_sync(0xffffffffu, incl.x, off);
    const int y = __shfl_up_sync(0xffffffffu, incl.y, off);
    if (lane >= off) {
      incl.x += x;
      incl.y += y;
    }
  }
  if (lane == 31) {
    sh.warp_sums[warp][0] = incl.x;
    sh.warp_sums[warp][1] = incl.y;
  }
  __syncthreads();
  int2 base = make_int2(0, 0), total = make_int2(0, 0);
#pragma unroll
  for (int w = 0; w < TopkShared<kThreads>::kWarps; ++w) {
    if (w < warp) {
      base.x += sh.warp_sums[w][0];
      base.y += sh.warp_sums[w][1];
    }
    total.x += sh.warp_sums[w][0];
    total.y += sh.warp_sums[w][1];
  }
  __syncthreads();  // warp_sums free again
  before = make_int2(base.x + incl.x - mine.x, base.y + incl.y - mine.y);
  return total;
}

// Selects the top k of row scores `score(j)`, j < n, into out[0, k) (-1 in
// the unused slots). `all_keys`: take columns 0 .. n-1 without reading the
// scores (a sequence whose keys all fit in the selection). Every thread of
// the CTA calls it with the same arguments.
template <int kThreads, class Score>
__device__ void cta_topk(Score score, int n, int k, bool all_keys, int32_t* out, TopkShared<kThreads>& sh) {
  constexpr int kItems = 4;
  constexpr int kChunk = kThreads * kItems;
  // Candidates.
  int count = 0;
  if (all_keys) {
    count = n;
  } else {
    if (threadIdx.x == 0) sh.count = 0;
    __syncthreads();
    int mine = 0;
    for (int j = threadIdx.x; j < n; j += kThreads) mine += topk_candidate(score(j)) ? 1 : 0;
    if (mine > 0) atomicAdd(&sh.count, mine);
    __syncthreads();
    count = sh.count;
  }
  // The threshold: key T and how many keys equal to T are taken; with at
  // most k candidates, T = 0 (below every candidate's key) takes them all.
  uint32_t prefix = 0, mask = 0;
  int need = 0;
  if (count > k) {
    need = k;
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int i = threadIdx.x; i < 256; i += kThreads) sh.hist[i] = 0;
      __syncthreads();
      for (int j = threadIdx.x; j < n; j += kThreads) {
        const float x = score(j);
        if (!topk_candidate(x)) continue;
        const uint32_t key = topk_key(x);
        if ((key & mask) == prefix) atomicAdd(&sh.hist[(key >> shift) & 255u], 1);
      }
      __syncthreads();
      if (threadIdx.x < 32) {
        // Lane l owns digits 255 - 8l .. 248 - 8l (largest first).
        const int lane = threadIdx.x;
        int own = 0;
#pragma unroll
        for (int d = 0; d < 8; ++d) own += sh.hist[255 - 8 * lane - d];
        int incl = own;
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
          const int x = __shfl_up_sync(0xffffffffu, incl, off);
          if (lane >= off) incl += x;
        }
        const int excl = incl - own;
        if (excl < need && need <= incl) {
          int above = excl;
          for (int d = 0; d < 8; ++d) {
            const int digit = 255 - 8 * lane - d;
            const int c = sh.hist[digit];
            if (above + c >= need) {
              sh.digit = digit;
              sh.need_after = need - above;
              break;
            }
            above += c;
          }
        }
      }
      __syncthreads();
      prefix |= uint32_t(sh.digit) << shift;
      mask |= 255u << shift;
      need = sh.need_after;
      __syncthreads();
    }
  }
  const int selected = count < k ? count : k;
  // Selected columns in increasing order: a column is taken when its key is
  // above T, or equal to T and among the first `need` such columns.
  int2 running = make_int2(0, 0);  // (above T, equal to T) in earlier chunks
  for (int c0 = 0; c0 < n && running.x + min(running.y, need) < selected; c0 += kChunk) {
    uint8_t cls[kItems];  // 0: not taken, 1: above T, 2: equal to T
    int2 mine = make_int2(0, 0);
#pragma unroll
    for (int it = 0; it < kItems; ++it) {
      const int j = c0 + threadIdx.x * kItems + it;
      cls[it] = 0;
      if (j < n) {
        if (all_keys) {
          cls[it] = 1;
        } else {
          const float x = score(j);
          if (topk_candidate(x)) {
            const uint32_t key = topk_key(x);
            cls[it] = key > prefix ? 1 : (key == prefix ? 2 : 0);
          }
        }
      }
      mine.x += cls[it] == 1 ? 1 : 0;
      mine.y += cls[it] == 2 ? 1 : 0;
    }
    int2 before;
    const int2 total = block_scan2<kThreads>(mine, before, sh);
    before.x += running.x;
    before.y += running.y;
#pragma unroll
    for (int it = 0; it < kItems; ++it) {
      const int j = c0 + threadIdx.x * kItems + it;
      const bool take = cls[it] == 1 || (cls[it] == 2 && before.y < need);
      if (take) out[before.x + min(before.y, need)] = j;
      before.x += cls[it] == 1 ? 1 : 0;
      before.y += cls[it] == 2 ? 1 : 0;
    }
    running.x += total.x;
    running.y += total.y;
  }
  for (int s = selected + threadIdx.x; s < k; s += kThreads) out[s] = -1;
}

}  // namespace spattn::attention
