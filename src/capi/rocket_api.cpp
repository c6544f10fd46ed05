// extern "C" entry points of RocketKV (spattn.h: "RocketKV"): the two phases,
// their pieces, workspace queries and CPU references.
#include <spattn/spattn.h>

#include <string>

#include "attention/rocket_problem.hpp"
#include "attention/rocket_reference.hpp"
#include "capi/guard.hpp"
#include "core/error.hpp"

#if SPATTN_HAVE_CUDA
#include "attention/rocket_cuda.hpp"
#endif

namespace {

using spattn::attention::RocketContextPiece;
using spattn::attention::RocketDecodePiece;

spattn_status run_context(const spattn_rocket_context_args* args, void* stream, RocketContextPiece piece,
                          const char* function) {
  return spattn::guarded([&] {
    const auto problem = spattn::attention::resolve_rocket_context(args, function);
    const bool needs_kept = piece == RocketContextPiece::kSelect || piece == RocketContextPiece::kCompact;
    spattn::attention::check_rocket_context_launch(problem, function, needs_kept);
#if SPATTN_HAVE_CUDA
    spattn::attention::launch_rocket_context_cuda(problem, piece, stream, function);
#else
    (void)stream;
    spattn::fail_without_cuda(function);
#endif
  });
}

spattn_status run_decode(const spattn_rocket_decode_args* args, void* stream, RocketDecodePiece piece,
                         const char* function) {
  return spattn::guarded([&] {
    const auto problem = spattn::attention::resolve_rocket_decode(args, function);
    const bool needs_selected = piece == RocketDecodePiece::kSelect || piece == RocketDecodePiece::kAttend;
    spattn::attention::check_rocket_decode_launch(problem, function, needs_selected);
#if SPATTN_HAVE_CUDA
    spattn::attention::launch_rocket_decode_cuda(problem, piece, stream, function);
#else
    (void)stream;
    spattn::fail_without_cuda(function);
#endif
  });
}

}  // namespace

extern "C" {

spattn_status spattn_rocket_context_workspace_size(const spattn_rocket_context_args* args, size_t* out_bytes) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_rocket_context_workspace_size";
    spattn::require_arg(out_bytes, kFunction, "out_bytes");
    *out_bytes = spattn::attention::resolve_rocket_context(args, kFunction).plan.bytes;
  });
}

spattn_status spattn_rocket_context(const spattn_rocket_context_args* args, void* stream) {
  return run_context(args, stream, RocketContextPiece::kAll, "spattn_rocket_context");
}

spattn_status spattn_rocket_context_select(const spattn_rocket_context_args* args, void* stream) {
  return run_context(args, stream, RocketContextPiece::kSelect, "spattn_rocket_context_select");
}

spattn_status spattn_rocket_context_compact(const spattn_rocket_context_args* args, void* stream) {
  return run_context(args, stream, RocketContextPiece::kCompact, "spattn_rocket_context_compact");
}

spattn_status spattn_rocket_context_build_kt(const spattn_rocket_context_args* args, void* stream) {
  return run_context(args, stream, RocketContextPiece::kBuildKt, "spattn_rocket_context_build_kt");
}

spattn_status spattn_rocket_context_reference(const spattn_rocket_context_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_rocket_context_reference";
    spattn::attention::reference_rocket_context(spattn::attention::resolve_rocket_context(args, kFunction),
                                                kFunction);
  });
}

spattn_status spattn_rocket_decode_workspace_size(const spattn_rocket_decode_args* args, size_t* out_bytes) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_rocket_decode_workspace_size";
    spattn::require_arg(out_bytes, kFunction, "out_bytes");
    *out_bytes = spattn::attention::resolve_rocket_decode(args, kFunction).plan.bytes;
  });
}

spattn_status spattn_rocket_decode(const spattn_rocket_decode_args* args, void* stream) {
  return run_decode(args, stream, RocketDecodePiece::kAll, "spattn_rocket_decode");
}

spattn_status spattn_rocket_decode_update_kt(const spattn_rocket_decode_args* args, void* stream) {
  return run_decode(args, stream, RocketDecodePiece::kUpdateKt, "spattn_rocket_decode_update_kt");
}

spattn_status spattn_rocket_decode_select(const spattn_rocket_decode_args* args, void* stream) {
  return run_decode(args, stream, RocketDecodePiece::kSelect, "spattn_rocket_decode_select");
}

spattn_status spattn_rocket_decode_attend(const spattn_rocket_decode_args* args, void* stream) {
  return run_decode(args, stream, RocketDecodePiece::kAttend, "spattn_rocket_decode_attend");
}

spattn_status spattn_rocket_decode_reference(const spattn_rocket_decode_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_rocket_decode_reference";
    spattn::attention::reference_rocket_decode(spattn::attention::resolve_rocket_decode(args, kFunction),
                                               kFunction);
  });
}

}  // extern "C"
