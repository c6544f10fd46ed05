// Tensor maps for the sm_90a attention kernels (see tma_map.hpp).
#include "common/tma_map.hpp"

#include "common/tma.hpp"

namespace spattn::attention::sm90 {

bool make_map(CUtensorMap* map, const TensorView& t, bool bf16, int dim, int tokens, int heads, int batch,
              int box_rows) {
  const cuuint64_t dims[4] = {cuuint64_t(dim), cuuint64_t(tokens), cuuint64_t(heads), cuuint64_t(batch)};
  const int64_t elem_strides[3] = {t.token_stride, t.head_stride, t.batch_stride};
  return make_map_4d(map, bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, t.data, dims,
                     elem_strides, 64, box_rows, CU_TENSOR_MAP_SWIZZLE_128B);
}

}  // namespace spattn::attention::sm90
