// The entries into the CUDA launchers of the index-sparse family
// (cuda/sparse/, cuda/select/), defined only when the library is built with
// CUDA (SPATTN_HAVE_CUDA=1). No CUDA types. Each enqueues a validated problem
// on `stream` (a cudaStream_t), allocates nothing, never synchronizes, and
// throws spattn::Error: SPATTN_ERR_UNSUPPORTED when no CUDA device is usable,
// SPATTN_ERR_CUDA when a CUDA call fails.
#pragma once

#include "attention/dsa_indexer.hpp"
#include "attention/dsa_layer.hpp"
#include "attention/sparse_problem.hpp"
#include "attention/topk.hpp"

namespace spattn::attention {

// Which index-sparse attention kernel runs a problem. kAuto: the sm_90a wgmma
// kernel when the device is sm_90 and the problem is one it handles (MLA
// prefill shapes: cuda/sparse/sparse_mla_sm90.hpp), else the mma.sync kernel.
// The forced paths are for tests and benchmarks; kSm90 throws
// SPATTN_ERR_UNSUPPORTED when that kernel cannot run the problem.
enum class SparsePath { kAuto, kMmaSync, kSm90 };

void launch_sparse_cuda(const SparseProblem& problem, void* stream, const char* function,
                        SparsePath path = SparsePath::kAuto);
void launch_topk_cuda(const TopkProblem& problem, void* stream, const char* function);
void launch_indexer_cuda(const IndexerProblem& problem, void* stream, const char* function);
void launch_dsa_layer_cuda(const DsaLayerProblem& problem, void* stream, const char* function);

}  // namespace spattn::attention
