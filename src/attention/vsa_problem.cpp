// Argument validation of the VSA entry points (forward, reference, geometry,
// workspace size, relayout).
#include "attention/vsa_problem.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "attention/arg_checks.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

namespace spattn::attention::vsa {
namespace {

using checks::invalid;

constexpr size_t kLayerParamsVsaSize = offsetof(spattn_layer_params, vsa_cube_shape) + 3 * sizeof(int32_t);
constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();
// The GPU selection keeps one score row per CTA in shared memory.
constexpr int32_t kMaxGpuCubes = 32768;

std::string triple(const int32_t v[3]) {
  return std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]);
}

// The cube grid of `grid` cut into `cube`; `what` names the two fields.
Geometry geometry(const int32_t grid[3], const int32_t cube[3], const std::string& grid_field,
                  const std::string& cube_field, const char* function) {
  static const char* const kAxes[3] = {"frames", "height", "width"};
  Geometry g;
  int64_t cubes = 1, volume = 1, raster = 1;
  for (int a = 0; a < 3; ++a) {
    if (grid[a] <= 0) {
      invalid(function, grid_field + "[" + std::to_string(a) + "] (" + kAxes[a] + ") is " +
                            std::to_string(grid[a]) + "; must be > 0");
    }
    if (cube[a] <= 0) {
      invalid(function, cube_field + "[" + std::to_string(a) + "] (" + kAxes[a] + ") is " +
                            std::to_string(cube[a]) + "; must be > 0");
    }
    g.grid[a] = grid[a];
    g.cube[a] = cube[a];
    g.cubes[a] = (grid[a] + cube[a] - 1) / cube[a];
    cubes *= g.cubes[a];
    volume *= cube[a];
    raster *= grid[a];
    if (cubes * volume > kMaxTokens || raster > kMaxTokens) {
      invalid(function, grid_field + " {" + triple(grid) + "} with " + cube_field + " {" + triple(cube) +
                            "} has more than 2^31 - 1 tokens (padded to whole cubes)");
    }
  }
  g.num_cubes = int32_t(cubes);
  g.volume = int32_t(volume);
  g.padded_tokens = cubes * volume;
  g.raster_tokens = raster;
  return g;
}

// a * b * ... in size_t, failing on overflow.
size_t checked_product(std::initializer_list<size_t> factors, const char* function) {
  size_t r = 1;
  for (size_t f : factors) {
    if (f != 0 && r > std::numeric_limits<size_t>::max() / f) {
      fail(SPATTN_ERR_LIMIT, std::string(function) + ": the workspace size does not fit in size_t");
    }
    r *= f;
  }
  return r;
}

size_t align256(size_t x) { return (x + 255) & ~size_t(255); }

void tensor(const void* data, const int64_t s[3], const char* name, const char* function, bool gpu) {
  const std::string field = std::string("args.") + name;
  require_arg(data, function, field.c_str());
  checks::strides(s, field + "_strides", function);
  if (gpu) checks::rows_16b(data, s, field, function);
}

TensorView view(const void* data, const int64_t s[3]) {
  TensorView v;
  v.data = data;
  v.batch_stride = s[0];
  v.token_stride = s[1];
  v.head_stride = s[2];
  return v;
}

}  // namespace

Problem resolve_shape(const spattn_vsa_args* args, const char* function) {
  require_arg(args, function, "args");
  const spattn_vsa_args a = read_struct(args, function, "args");
  checks::dtype(a.dtype, "args.dtype", function);
  checks::positive(a.batch, "args.batch", function);
  checks::positive(a.num_heads, "args.num_heads", function);
  checks::positive(a.num_kv_heads, "args.num_kv_heads", function);
  checks::positive(a.head_dim, "args.head_dim", function);
  if (a.head_dim != 64 && a.head_dim != 128) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.head_dim is " + std::to_string(a.head_dim) +
                                     "; supported: 64, 128");
  }
  if (a.num_heads % a.num_kv_heads != 0) {
    invalid(function, "args.num_heads (" + std::to_string(a.num_heads) + ") is not a multiple of args.num_kv_heads (" +
                          std::to_string(a.num_kv_heads) + ")");
  }
  // Copied, not pointed at: the layer params are read into a local copy below.
  int32_t cube[3] = {a.cube_shape[0], a.cube_shape[1], a.cube_shape[2]};
  double sparsity = a.sparsity;
  std::string cube_field = "args.cube_shape", sparsity_field = "args.sparsity";
  if (a.layer_params != nullptr) {
    const spattn_layer_params lp = read_struct(a.layer_params, function, "args.layer_params");
    if (a.layer_params->struct_size < kLayerParamsVsaSize) {
      invalid(function, "args.layer_params->struct_size is " + std::to_string(lp.struct_size) +
                            "; a VSA layer needs at least " + std::to_string(kLayerParamsVsaSize) +
                            " (up to vsa_cube_shape: set it to sizeof(spattn_layer_params))");
    }
    if (lp.vsa_cube_shape[0] == 0 && lp.vsa_cube_shape[1] == 0 && lp.vsa_cube_shape[2] == 0) {
      invalid(function,
              "args.layer_params has no VSA parameters (vsa_cube_shape is 0, 0, 0): this layer is not a VSA layer");
    }
    std::copy(lp.vsa_cube_shape, lp.vsa_cube_shape + 3, cube);
    sparsity = lp.vsa_sparsity;
    cube_field = "args.layer_params->vsa_cube_shape";
    sparsity_field = "args.layer_params->vsa_sparsity";
  }
  if (!std::isfinite(sparsity) || sparsity < 0.0 || sparsity >= 1.0) {
    invalid(function, sparsity_field + " is " + std::to_string(sparsity) + "; must be in [0, 1)");
  }
  Problem p;
  p.dtype = a.dtype;
  p.batch = a.batch;
  p.num_heads = a.num_heads;
  p.num_kv_heads = a.num_kv_heads;
  p.head_dim = a.head_dim;
  p.geo = geometry(a.grid, cube, "args.grid", cube_field, function);
  p.geo.kept = kept_cubes(sparsity, p.geo.num_cubes);
  p.sparsity = sparsity;
  return p;
}

Problem resolve_problem(const spattn_vsa_args* args, const char* function, bool gpu) {
  Problem p = resolve_shape(args, function);
  const spattn_vsa_args& a = *args;
  tensor(a.q, a.q_strides, "q", function, gpu);
  tensor(a.k, a.k_strides, "k", function, gpu);
  tensor(a.v, a.v_strides, "v", function, gpu);
  tensor(a.out, a.out_strides, "out", function, gpu);
  if (a.gate != nullptr) tensor(a.gate, a.gate_strides, "gate", function, gpu);
  if (!std::isfinite(a.softmax_scale) || a.softmax_scale < 0.0f) {
    invalid(function, "args.softmax_scale is " + std::to_string(a.softmax_scale) +
                          "; must be finite and >= 0 (0: 1/sqrt(head_dim))");
  }
  p.q = view(a.q, a.q_strides);
  p.k = view(a.k, a.k_strides);
  p.v = view(a.v, a.v_strides);
  p.gate = view(a.gate, a.gate_strides);
  p.out = a.out;
  for (int i = 0; i < 3; ++i) p.out_strides[i] = a.out_strides[i];
  p.softmax_scale = a.softmax_scale != 0.0f
                        ? a.softmax_scale
                        : static_cast<float>(1.0 / std::sqrt(static_cast<double>(a.head_dim)));
  p.lse = a.lse;
  p.selected = a.selected_cubes;
  p.workspace = a.workspace;
  p.workspace_size = a.workspace_size;
  if (!gpu) return p;

  if (p.geo.volume != kGpuCubeVolume) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": the cube shape {" + triple(p.geo.cube) + "} has " +
                                     std::to_string(p.geo.volume) + " tokens; the GPU kernels need " +
                                     std::to_string(kGpuCubeVolume) + " (4x4x4, 2x4x8, 1x8x8, ...)");
  }
  if (p.geo.num_cubes > kMaxGpuCubes) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": " + std::to_string(p.geo.num_cubes) +
                                     " cubes; the GPU selection handles at most " + std::to_string(kMaxGpuCubes));
  }
  if (int64_t(p.batch) * p.num_heads > 65535) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.batch " + std::to_string(p.batch) +
                                     " times args.num_heads " + std::to_string(p.num_heads) +
                                     " must be at most 65535 for the CUDA kernels");
  }
  if (p.lse != nullptr) checks::aligned(p.lse, 4, "args.lse", function);
  if (p.selected != nullptr) checks::aligned(p.selected, 4, "args.selected_cubes", function);
  const size_t need = workspace_layout(p).total;
  if (p.workspace_size < need) {
    invalid(function, "args.workspace_size is " + std::to_string(p.workspace_size) +
                          " bytes; this problem needs " + std::to_string(need) + " (spattn_vsa_workspace_size)");
  }
  require_arg(p.workspace, function, "args.workspace");
  checks::aligned(p.workspace, 256, "args.workspace", function);
  return p;
}

WorkspaceLayout workspace_layout(const Problem& p) {
  static const char* const kFunction = "spattn_vsa_workspace_size";
  const size_t b = size_t(p.batch), c = size_t(p.geo.num_cubes), d = size_t(p.head_dim);
  const size_t q_means = checked_product({b, c, size_t(p.num_heads), d, 2}, kFunction);
  const size_t kv_means = checked_product({b, c, size_t(p.num_kv_heads), d, 2}, kFunction);
  const size_t scores = checked_product({b, size_t(p.num_heads), c, c, 4}, kFunction);
  const size_t selected = checked_product({b, size_t(p.num_heads), c, size_t(p.geo.kept), 4}, kFunction);
  WorkspaceLayout w;
  size_t at = 0;
  auto take = [&](size_t bytes) {
    const size_t offset = at;
    if (bytes > std::numeric_limits<size_t>::max() - 512 - at) {
      fail(SPATTN_ERR_LIMIT, std::string(kFunction) + ": the workspace size does not fit in size_t");
    }
    at = align256(at + bytes);
    return offset;
  };
  w.q_means = take(q_means);
  w.k_means = take(kv_means);
  w.v_means = take(kv_means);
  w.coarse = take(q_means);
  w.scores = take(scores);
  w.selected = take(selected);
  w.total = at;
  return w;
}

Relayout resolve_relayout(const spattn_vsa_layout_args* args, const char* function, bool gpu) {
  require_arg(args, function, "args");
  const spattn_vsa_layout_args a = read_struct(args, function, "args");
  checks::dtype(a.dtype, "args.dtype", function);
  if (a.direction != SPATTN_VSA_TO_CUBES && a.direction != SPATTN_VSA_TO_RASTER) {
    invalid(function, "args.direction is " + std::to_string(int(a.direction)) +
                          "; expected SPATTN_VSA_TO_CUBES (0) or SPATTN_VSA_TO_RASTER (1)");
  }
  checks::positive(a.batch, "args.batch", function);
  checks::positive(a.num_heads, "args.num_heads", function);
  checks::positive(a.head_dim, "args.head_dim", function);
  Relayout r;
  r.dtype = a.dtype;
  r.to_cubes = a.direction == SPATTN_VSA_TO_CUBES;
  r.batch = a.batch;
  r.num_heads = a.num_heads;
  r.head_dim = a.head_dim;
  r.geo = geometry(a.grid, a.cube_shape, "args.grid", "args.cube_shape", function);
  require_arg(a.src, function, "args.src");
  require_arg(a.dst, function, "args.dst");
  checks::strides(a.src_strides, "args.src_strides", function);
  checks::strides(a.dst_strides, "args.dst_strides", function);
  if (gpu) {
    if (a.head_dim % 8 != 0) {
      invalid(function, "args.head_dim is " + std::to_string(a.head_dim) +
                            "; the kernel moves 16-byte pieces: a multiple of 8");
    }
    checks::rows_16b(a.src, a.src_strides, "args.src", function);
    checks::rows_16b(a.dst, a.dst_strides, "args.dst", function);
    if (a.batch > 65535) {
      fail(SPATTN_ERR_UNSUPPORTED, std::string(function) + ": args.batch " + std::to_string(a.batch) +
                                       " must be at most 65535 for the CUDA kernel");
    }
  }
  r.src = view(a.src, a.src_strides);
  r.dst = a.dst;
  for (int i = 0; i < 3; ++i) r.dst_strides[i] = a.dst_strides[i];
  return r;
}

}  // namespace spattn::attention::vsa
