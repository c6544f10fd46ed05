// Tensor maps for the sm_90a kernels (see tma_map.hpp).
#include "common/tma_map.hpp"

#include <cuda_runtime.h>

namespace spattn::attention::sm90 {
namespace {

using EncodeTiled = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*,
                                 const cuuint64_t*, const cuuint64_t*, const cuuint32_t*,
                                 const cuuint32_t*, CUtensorMapInterleave, CUtensorMapSwizzle,
                                 CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

// cuTensorMapEncodeTiled from the driver, found through the runtime so that
// the library does not link libcuda. Looked up once; nullptr if unavailable.
EncodeTiled encode_tiled() {
  static const EncodeTiled fn = [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult result{};
#if CUDART_VERSION >= 12050
    const cudaError_t e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000,
                                                           cudaEnableDefault, &result);
#else
    const cudaError_t e =
        cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &ptr, cudaEnableDefault, &result);
#endif
    if (e != cudaSuccess || result != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return EncodeTiled(nullptr);
    }
    return reinterpret_cast<EncodeTiled>(ptr);
  }();
  return fn;
}

}  // namespace

bool make_map(CUtensorMap* map, const TensorView& t, bool bf16, int dim, int tokens, int heads, int batch,
              int box_rows) {
  const EncodeTiled encode = encode_tiled();
  if (encode == nullptr) return false;
  const cuuint64_t dims[4] = {cuuint64_t(dim), cuuint64_t(tokens), cuuint64_t(heads),
                              cuuint64_t(batch)};
  const int64_t elem_strides[3] = {t.token_stride, t.head_stride, t.batch_stride};
  cuuint64_t strides[3];
  for (int i = 0; i < 3; ++i) {
    // A stride of an extent-1 dimension is never used; TMA still wants a
    // positive multiple of 16 bytes there.
    strides[i] = dims[i + 1] == 1 && elem_strides[i] * 2 < 16 ? 16 : cuuint64_t(elem_strides[i]) * 2;
    if (strides[i] % 16 != 0 || strides[i] == 0 || strides[i] >= (cuuint64_t(1) << 40)) return false;
  }
  const cuuint32_t box[4] = {64, cuuint32_t(box_rows), 1, 1};
  const cuuint32_t element_strides[4] = {1, 1, 1, 1};
  const CUresult r =
      encode(map, bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 4,
             const_cast<void*>(t.data), dims, strides, box, element_strides,
             CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS;
}

}  // namespace spattn::attention::sm90
