// Host side of the Hopper tensor-memory accelerator (TMA): the driver's
// cuTensorMapEncodeTiled, reached through the runtime so that the library
// does not link libcuda, and the 4-D maps the kernels describe their
// tensors with. Device side: tma_load_4d in common/sm90_ptx.cuh.
#pragma once

#include <cuda.h>  // CUtensorMap and its enums only
#include <cuda_runtime.h>

#include <cstdint>

namespace spattn::attention {

using EncodeTiled = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                 const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                 CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

// cuTensorMapEncodeTiled, looked up once; nullptr when the driver has none.
inline EncodeTiled encode_tiled() {
  static const EncodeTiled fn = [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult result{};
#if CUDART_VERSION >= 12050
    const cudaError_t e =
        cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &result);
#else
    const cudaError_t e = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &ptr, cudaEnableDefault, &result);
#endif
    if (e != cudaSuccess || result != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return EncodeTiled(nullptr);
    }
    return reinterpret_cast<EncodeTiled>(ptr);
  }();
  return fn;
}

// A 4-D map (columns, rows, heads, outer) over `data` with the element
// strides of its rows, heads and outer index, boxes of box_cols x box_rows of
// one head and one outer index. False when TMA cannot describe the tensor
// (strides not multiples of 16 bytes, or no driver entry point).
inline bool make_map_4d(CUtensorMap* map, CUtensorMapDataType type, int element_bytes, const void* data,
                        const cuuint64_t dims[4], const int64_t elem_strides[3], int box_cols, int box_rows,
                        CUtensorMapSwizzle swizzle) {
  const EncodeTiled encode = encode_tiled();
  if (encode == nullptr) return false;
  cuuint64_t strides[3];
  for (int i = 0; i < 3; ++i) {
    // A stride of an extent-1 dimension is never used; TMA still wants a
    // positive multiple of 16 bytes there.
    const cuuint64_t bytes = cuuint64_t(elem_strides[i]) * element_bytes;
    strides[i] = dims[i + 1] == 1 && bytes < 16 ? 16 : bytes;
    if (strides[i] % 16 != 0 || strides[i] == 0 || strides[i] >= (cuuint64_t(1) << 40)) return false;
  }
  const cuuint32_t box[4] = {cuuint32_t(box_cols), cuuint32_t(box_rows), 1, 1};
  const cuuint32_t element_strides[4] = {1, 1, 1, 1};
  return encode(map, type, 4, const_cast<void*>(data), dims, strides, box, element_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

}  // namespace spattn::attention
