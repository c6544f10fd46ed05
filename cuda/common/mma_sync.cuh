// The mma.sync-generation building blocks (sm_80 and later) that the
// portable prefill kernel and the decode kernel share: cp.async copies,
// ldmatrix, the m16n8k16 matrix instruction per element type, and the XOR
// swizzle of 16-bit [rows][D] shared-memory tiles.
#pragma once

#include <cstdint>

namespace spattn::attention {

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy; src_bytes 0 fills the destination with zeros.
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

template <bool kBf16>
struct Elem;

template <>
struct Elem<true> {
  __device__ __forceinline__ static void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

template <>
struct Elem<false> {
  __device__ __forceinline__ static void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

// ---------------------------------------------------------------------------
// Shared-memory tiles: [128 rows][D] of 16-bit elements, 16-byte chunks of a
// row XOR-swizzled by (row & 7) so ldmatrix phases hit distinct banks.

template <int D>
__device__ __forceinline__ int swizzled(int row, int col) {
  return row * D + ((((col >> 3) ^ (row & 7))) << 3) + (col & 7);
}

// ---------------------------------------------------------------------------
// A warp's S = Q K^T on swizzled 16-bit tiles (the decode kernel and
// RocketKV's window scores).

// The A fragments of the warp's 16 rows [row0, row0 + 16) of a [rows][D]
// tile at shared address `base`, for the D / 16 k-steps.
template <int D>
__device__ __forceinline__ void load_q_fragments(uint32_t (&qa)[D / 16][4], uint32_t base, int row0, int lane) {
  const int mat = lane / 8, mat_row = lane % 8;
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc) {
    ldmatrix_x4(qa[kc], base + 2u * swizzled<D>(row0 + mat_row + (mat & 1) * 8, kc * 16 + (mat >> 1) * 8));
  }
}

// s += Q K^T for the warp's rows and the kNT 8-key column tiles of keys
// [key0, key0 + 8 kNT) of a [keys][D] tile at shared address `kbase` (s in
// the m16n8 accumulator layout; the caller zeroes it).
template <bool kBf16, int D, int kNT>
__device__ __forceinline__ void warp_qk(float (&s)[kNT][4], const uint32_t (&qa)[D / 16][4], uint32_t kbase,
                                        int key0, int lane) {
  const int mat = lane / 8, mat_row = lane % 8;
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc) {
#pragma unroll
    for (int np = 0; np < kNT / 2; ++np) {
      uint32_t bk[4];
      const int key = key0 + np * 16 + mat_row + (mat >> 1) * 8;
      ldmatrix_x4(bk, kbase + 2u * swizzled<D>(key, kc * 16 + (mat & 1) * 8));
      Elem<kBf16>::mma(s[2 * np], qa[kc], bk[0], bk[1]);
      Elem<kBf16>::mma(s[2 * np + 1], qa[kc], bk[2], bk[3]);
    }
  }
}

}  // namespace spattn::attention
