// One Video Sparse Attention problem (spattn_vsa_args), validated and
// resolved, and one relayout (spattn_vsa_layout_args): what the CUDA
// launchers and the CPU reference consume. Plain C++; no CUDA types.
#pragma once

#include <spattn/spattn.h>

#include <cstddef>
#include <cstdint>

#include "attention/attention_problem.hpp"
#include "attention/vsa_rules.hpp"

namespace spattn::attention::vsa {

struct Problem {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  Geometry geo;
  double sparsity = 0.0;
  TensorView q, k, v, gate;  // gate.data may be NULL (gate 1)
  void* out = nullptr;
  int64_t out_strides[3] = {0, 0, 0};
  float softmax_scale = 0.0f;  // resolved: never 0
  float* lse = nullptr;
  int32_t* selected = nullptr;
  void* workspace = nullptr;
  size_t workspace_size = 0;

  bool bf16() const { return dtype == SPATTN_DTYPE_BFLOAT16; }
};

// Checks the shape fields of `args` (dtype, counts, head_dim, grid, cube
// shape, sparsity, layer_params) and resolves the geometry. Pointers are not
// looked at: this is all spattn_vsa_get_geometry and _workspace_size need.
Problem resolve_shape(const spattn_vsa_args* args, const char* function);

// resolve_shape, then the tensor pointers and strides (and the softmax
// scale). `gpu`: also the kernel's requirements (alignment, strides
// multiples of 8, cube volume 64, workspace large enough).
Problem resolve_problem(const spattn_vsa_args* args, const char* function, bool gpu);

// Scratch memory of the GPU forward pass, carved from one buffer: every
// piece 256-byte aligned. Offsets in bytes from the workspace start.
struct WorkspaceLayout {
  size_t q_means = 0;   // dtype [batch][C][num_heads][head_dim]
  size_t k_means = 0;   // dtype [batch][C][num_kv_heads][head_dim]
  size_t v_means = 0;
  size_t coarse = 0;    // dtype [batch][C][num_heads][head_dim]
  size_t scores = 0;    // float [batch][num_heads][C][C]
  size_t selected = 0;  // int32 [batch][num_heads][C][kept]
  size_t total = 0;
};

WorkspaceLayout workspace_layout(const Problem& p);

// One relayout, validated. `gpu`: also alignment and strides multiples of 8.
struct Relayout {
  spattn_dtype dtype = SPATTN_DTYPE_BFLOAT16;
  bool to_cubes = true;
  int32_t batch = 0;
  int32_t num_heads = 0;
  int32_t head_dim = 0;
  Geometry geo;
  TensorView src;
  void* dst = nullptr;
  int64_t dst_strides[3] = {0, 0, 0};
};

Relayout resolve_relayout(const spattn_vsa_layout_args* args, const char* function, bool gpu);

}  // namespace spattn::attention::vsa
