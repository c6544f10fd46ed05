// Relayout between raster and cube order (spattn_vsa_relayout): one thread
// per 16 bytes (8 elements) of a cube-order slot, reading or writing the
// raster token that the slot holds (vsa_rules.hpp, raster_token); the
// gather writes zeros to pad slots, the scatter skips them.
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/vsa_cuda.hpp"
#include "attention/vsa_rules.hpp"
#include "common/cuda_check.hpp"

namespace spattn::attention::vsa {
namespace {

constexpr int kThreads = 256;

struct RelayoutParams {
  const uint16_t* src;
  uint16_t* dst;
  int64_t src_stride[3];
  int64_t dst_stride[3];
  Geometry geo;
  int32_t heads;
  int32_t chunks;  // 16-byte pieces per row: head_dim / 8
  int32_t to_cubes;
};

__global__ void __launch_bounds__(kThreads) relayout_kernel(const RelayoutParams p) {
  const int64_t b = blockIdx.y;
  const int64_t per_batch = p.geo.padded_tokens * p.heads * p.chunks;
  for (int64_t x = blockIdx.x * int64_t(kThreads) + threadIdx.x; x < per_batch; x += int64_t(gridDim.x) * kThreads) {
    const int32_t chunk = int32_t(x % p.chunks);
    const int32_t h = int32_t((x / p.chunks) % p.heads);
    const int64_t slot_token = x / (int64_t(p.chunks) * p.heads);
    const int32_t c = int32_t(slot_token / p.geo.volume);
    const int32_t slot = int32_t(slot_token % p.geo.volume);
    const bool valid = slot < cube_valid(p.geo, c);
    const int64_t raster = valid ? raster_token(p.geo, c, slot) : 0;
    const int64_t src_token = p.to_cubes ? raster : slot_token;
    const int64_t dst_token = p.to_cubes ? slot_token : raster;
    if (!valid && !p.to_cubes) continue;  // scatter: pad slots go nowhere
    uint4 v = make_uint4(0, 0, 0, 0);      // gather: pad slots get zeros
    if (valid) {
      v = *reinterpret_cast<const uint4*>(p.src + b * p.src_stride[0] + src_token * p.src_stride[1] +
                                          h * p.src_stride[2] + chunk * 8);
    }
    *reinterpret_cast<uint4*>(p.dst + b * p.dst_stride[0] + dst_token * p.dst_stride[1] + h * p.dst_stride[2] +
                              chunk * 8) = v;
  }
}

}  // namespace

void launch_relayout_cuda(const Relayout& r, void* stream, const char* function) {
  require_cuda_device(function);
  RelayoutParams p;
  p.src = static_cast<const uint16_t*>(r.src.data);
  p.dst = static_cast<uint16_t*>(r.dst);
  p.src_stride[0] = r.src.batch_stride;
  p.src_stride[1] = r.src.token_stride;
  p.src_stride[2] = r.src.head_stride;
  for (int i = 0; i < 3; ++i) p.dst_stride[i] = r.dst_strides[i];
  p.geo = r.geo;
  p.heads = r.num_heads;
  p.chunks = r.head_dim / 8;
  p.to_cubes = r.to_cubes ? 1 : 0;
  const int64_t work = r.geo.padded_tokens * r.num_heads * p.chunks;
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  const dim3 grid(unsigned(blocks < 65536 ? blocks : 65536), unsigned(r.batch));
  relayout_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(p);
  cuda_check(cudaGetLastError(), function, "VSA relayout kernel launch");
}

}  // namespace spattn::attention::vsa
