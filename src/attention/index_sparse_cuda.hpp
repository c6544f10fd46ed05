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

void launch_sparse_cuda(const SparseProblem& problem, void* stream, const char* function);
void launch_topk_cuda(const TopkProblem& problem, void* stream, const char* function);
void launch_indexer_cuda(const IndexerProblem& problem, void* stream, const char* function);
void launch_dsa_layer_cuda(const DsaLayerProblem& problem, void* stream, const char* function);

}  // namespace spattn::attention
