// extern "C" entry points of the index-sparse family: index-sparse attention,
// top-k selection, the DSA lightning indexer and the whole DSA layer, each
// with its CPU reference.
#include <spattn/spattn.h>

#include <string>

#include "attention/dsa_indexer.hpp"
#include "attention/dsa_layer.hpp"
#include "attention/sparse_problem.hpp"
#include "attention/sparse_reference.hpp"
#include "attention/topk.hpp"
#include "capi/guard.hpp"
#include "core/error.hpp"

#if SPATTN_HAVE_CUDA
#include "attention/index_sparse_cuda.hpp"
#endif

namespace att = spattn::attention;

extern "C" {

spattn_status spattn_sparse_attention_num_splits(const spattn_sparse_attention_args* args, int32_t* out_splits) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_sparse_attention_num_splits";
    spattn::require_arg(out_splits, kFunction, "out_splits");
    *out_splits = att::resolve_sparse(args, kFunction).plan.num_splits;
  });
}

spattn_status spattn_sparse_attention_workspace_size(const spattn_sparse_attention_args* args, size_t* out_bytes) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_sparse_attention_workspace_size";
    spattn::require_arg(out_bytes, kFunction, "out_bytes");
    *out_bytes = att::sparse_workspace_bytes(att::resolve_sparse(args, kFunction));
  });
}

spattn_status spattn_sparse_attention(const spattn_sparse_attention_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_sparse_attention";
    const att::SparseProblem problem = att::resolve_sparse(args, kFunction);
#if SPATTN_HAVE_CUDA
    att::check_sparse_launch(problem, kFunction);
    att::launch_sparse_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_sparse_attention_reference(const spattn_sparse_attention_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_sparse_attention_reference";
    att::reference_sparse(att::resolve_sparse(args, kFunction), kFunction);
  });
}

spattn_status spattn_topk(const spattn_topk_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_topk";
    const att::TopkProblem problem = att::resolve_topk(args, kFunction);
#if SPATTN_HAVE_CUDA
    att::check_topk_launch(problem, kFunction);
    att::launch_topk_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_topk_reference(const spattn_topk_args* args) {
  return spattn::guarded([&] { att::reference_topk(att::resolve_topk(args, "spattn_topk_reference")); });
}

spattn_status spattn_dsa_indexer(const spattn_dsa_indexer_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_dsa_indexer";
    const att::IndexerProblem problem = att::resolve_indexer(args, kFunction, true);
#if SPATTN_HAVE_CUDA
    att::check_indexer_launch(problem, kFunction);
    att::launch_indexer_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_dsa_indexer_reference(const spattn_dsa_indexer_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_dsa_indexer_reference";
    att::reference_indexer(att::resolve_indexer(args, kFunction, true), kFunction);
  });
}

spattn_status spattn_dsa_layer_workspace_size(const spattn_dsa_layer_args* args, size_t* out_bytes) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_dsa_layer_workspace_size";
    spattn::require_arg(out_bytes, kFunction, "out_bytes");
    *out_bytes = att::resolve_dsa_layer(args, kFunction).layout.total;
  });
}

spattn_status spattn_dsa_layer(const spattn_dsa_layer_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_dsa_layer";
    const att::DsaLayerProblem problem = att::resolve_dsa_layer(args, kFunction);
#if SPATTN_HAVE_CUDA
    att::check_dsa_layer_launch(problem, kFunction);
    att::launch_dsa_layer_cuda(problem, stream, kFunction);
#else
    (void)stream;
    (void)problem;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_dsa_layer_reference(const spattn_dsa_layer_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_dsa_layer_reference";
    att::reference_dsa_layer(att::resolve_dsa_layer(args, kFunction), kFunction);
  });
}

}  // extern "C"
