// The entries into the VSA CUDA launchers (cuda/vsa/), defined only when the
// library is built with CUDA (SPATTN_HAVE_CUDA=1). No CUDA types.
#pragma once

#include "attention/vsa_problem.hpp"

namespace spattn::attention::vsa {

// Deliberately broken variants of the kernels, for the GPU tests to show that
// their checks catch a wrong selection or a wrong fine stage. kNone in the
// library.
enum class Mutation {
  kNone,
  kTiesToHigherIndex,  // selection: an equal score at the HIGHER index wins
  kDropLastCube,       // fine stage: the last kept cube is not attended to
};

// The stages of the forward pass, for the benchmark's per-stage times; the
// library always runs them all, in this order. Each stage reads what the
// earlier ones left in the workspace.
enum Stage : unsigned {
  kStageMeans = 1u,
  kStageScores = 2u,
  kStageSelect = 4u,
  kStageCoarse = 8u,
  kStageFine = 16u,
  kAllStages = 31u,
};

// Enqueues the forward pass of a validated problem (resolve_problem with
// gpu = true) on `stream` (a cudaStream_t). Throws spattn::Error:
// SPATTN_ERR_UNSUPPORTED when no sm_90 device is usable or the sm_90a kernels
// were not built, SPATTN_ERR_CUDA when a CUDA call fails. Asynchronous,
// allocates nothing.
void launch_forward_cuda(const Problem& problem, void* stream, const char* function,
                         Mutation mutation = Mutation::kNone, unsigned stages = kAllStages);

// Enqueues a relayout of device memory.
void launch_relayout_cuda(const Relayout& relayout, void* stream, const char* function);

}  // namespace spattn::attention::vsa
