// The stages of the VSA forward pass on the GPU (cuda/vsa/), each enqueued
// on `stream` by vsa_forward.cu in order; pointers into the caller's
// workspace (src/attention/vsa_problem.hpp, WorkspaceLayout).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "attention/vsa_cuda.hpp"
#include "attention/vsa_problem.hpp"

namespace spattn::attention::vsa {

// Cube means of one cube-order tensor of `heads` heads into `means`
// ([batch][num_cubes][heads][head_dim], dtype, contiguous): float32 sums in
// slot order, IEEE division, rounded (vsa_rules.hpp).
void launch_means(const Problem& p, const TensorView& t, int32_t heads, uint16_t* means, cudaStream_t stream,
                  const char* function);

// Selection scores [batch][num_heads][C][C] (float) from the means: exact
// FMA chains in increasing dimension order (vsa_rules.hpp, score_step).
void launch_scores(const Problem& p, const uint16_t* q_means, const uint16_t* k_means, float* scores,
                   cudaStream_t stream, const char* function);

// The kept cubes of every query cube, [batch][num_heads][C][kept], each row
// increasing (vsa_rules.hpp: score_key, outranks).
void launch_select(const Problem& p, const float* scores, int32_t* selected, Mutation mutation, cudaStream_t stream,
                   const char* function);

// The sm_90a fine stage with the output combine (out = coarse * gate + fine)
// and the LSE. False (nothing launched) when TMA cannot describe a tensor.
bool launch_fine_sm90(const Problem& p, const uint16_t* coarse, const int32_t* selected, Mutation mutation,
                      cudaStream_t stream, const char* function);

}  // namespace spattn::attention::vsa
