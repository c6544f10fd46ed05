// The entries into the RocketKV launchers (cuda/select/rocket_*.cu), defined
// only when the library is built with CUDA (SPATTN_HAVE_CUDA=1). No CUDA types.
#pragma once

#include "attention/rocket_problem.hpp"

namespace spattn::attention {

// Enqueue a validated (and launch-checked) phase on `stream` (a
// cudaStream_t). Throw spattn::Error: SPATTN_ERR_UNSUPPORTED when no CUDA
// device is usable, SPATTN_ERR_CUDA when a CUDA call fails. Asynchronous:
// allocate nothing and never synchronize.
void launch_rocket_context_cuda(const RocketContextProblem& problem, RocketContextPiece piece, void* stream,
                                const char* function);
void launch_rocket_decode_cuda(const RocketDecodeProblem& problem, RocketDecodePiece piece, void* stream,
                               const char* function);

}  // namespace spattn::attention
