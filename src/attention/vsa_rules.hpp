// The rules of Video Sparse Attention that the CPU reference and the CUDA
// kernels must apply identically (the public definition is at
// spattn_vsa_args in include/spattn/spattn.h): the cube geometry (which
// raster token sits in which cube slot, how many slots of a ragged cube are
// valid), the number of kept cubes, the exact float32 arithmetic of the cube
// means and selection scores, and the ranking with its tie-break. Plain
// C++ usable from host and device code; no CUDA types.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define SPATTN_VSA_HD __host__ __device__ __forceinline__
#else
#define SPATTN_VSA_HD inline
#endif

namespace spattn::attention::vsa {

// Slots per cube the GPU kernels handle: one 64-row wgmma tile.
constexpr int32_t kGpuCubeVolume = 64;

// The cube grid of a latent grid. Coordinates are (frames, height, width).
struct Geometry {
  int32_t grid[3] = {0, 0, 0};   // tokens along each axis
  int32_t cube[3] = {0, 0, 0};   // cube shape in tokens
  int32_t cubes[3] = {0, 0, 0};  // ceil(grid / cube)
  int32_t num_cubes = 0;
  int32_t volume = 0;            // slots per cube
  int64_t padded_tokens = 0;     // num_cubes * volume
  int64_t raster_tokens = 0;     // grid[0] * grid[1] * grid[2]
  int32_t kept = 0;              // key cubes kept per query cube
};

// Extents of cube `c` along each axis (ragged on the far edges).
SPATTN_VSA_HD void cube_extents(const Geometry& g, int32_t c, int32_t e[3], int32_t origin[3]) {
  const int32_t cw = c % g.cubes[2];
  const int32_t ch = (c / g.cubes[2]) % g.cubes[1];
  const int32_t ct = c / (g.cubes[2] * g.cubes[1]);
  const int32_t coord[3] = {ct, ch, cw};
  for (int a = 0; a < 3; ++a) {
    origin[a] = coord[a] * g.cube[a];
    const int32_t left = g.grid[a] - origin[a];
    e[a] = left < g.cube[a] ? left : g.cube[a];
  }
}

// Valid (non-pad) slots of cube `c`: the product of its extents.
SPATTN_VSA_HD int32_t cube_valid(const Geometry& g, int32_t c) {
  int32_t e[3], o[3];
  cube_extents(g, c, e, o);
  return e[0] * e[1] * e[2];
}

// The raster token of valid slot `slot` (< cube_valid) of cube `c`: valid
// tokens are stored in raster order inside the cube (frame, row, column).
SPATTN_VSA_HD int64_t raster_token(const Geometry& g, int32_t c, int32_t slot) {
  int32_t e[3], o[3];
  cube_extents(g, c, e, o);
  const int32_t lw = slot % e[2];
  const int32_t lh = (slot / e[2]) % e[1];
  const int32_t lt = slot / (e[2] * e[1]);
  return (int64_t(o[0] + lt) * g.grid[1] + (o[1] + lh)) * g.grid[2] + (o[2] + lw);
}

// Key cubes each query cube keeps: ceil((1 - sparsity) * C), computed as
// C - floor(sparsity * C + 1e-6) so that a product within 1e-6 of an integer
// counts as that integer, and at least 1.
SPATTN_VSA_HD int32_t kept_cubes(double sparsity, int32_t num_cubes) {
  const double dropped = floor(sparsity * double(num_cubes) + 1e-6);
  const int32_t kept = num_cubes - int32_t(dropped);
  return kept < 1 ? 1 : kept;
}

// One step of a cube mean's float32 sum (slot order, each addition rounded).
// Written as a function so that no compiler contracts it with anything.
SPATTN_VSA_HD float mean_add(float sum, float x) { return sum + x; }

// The mean from the sum: IEEE float32 division by the valid count.
SPATTN_VSA_HD float mean_finish(float sum, int32_t count) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(sum, float(count));
#else
  return sum / float(count);
#endif
}

// One step of a selection score: fused multiply-add, dimensions in
// increasing order from an accumulator of 0.
SPATTN_VSA_HD float score_step(float acc, float q, float k) { return fmaf(q, k, acc); }

// Ranking key of a score: larger key = larger score, -0 and +0 equal.
SPATTN_VSA_HD uint32_t score_key(float s) {
  const float canonical = s + 0.0f;  // -0 + 0 = +0 (round to nearest)
  uint32_t u;
  memcpy(&u, &canonical, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Whether key cube a (key ka) outranks key cube b (key kb): larger key, or
// an equal key at the lower cube index.
SPATTN_VSA_HD bool outranks(uint32_t ka, int32_t a, uint32_t kb, int32_t b) {
  return ka > kb || (ka == kb && a < b);
}

}  // namespace spattn::attention::vsa
