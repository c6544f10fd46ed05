// CPU reference of a decode step: the same row tiles, key tiles, splits and
// skip decisions as the CUDA kernel (cuda/decode/), on host memory.
#pragma once

#include "attention/decode_problem.hpp"

namespace spattn::attention {

// Runs `problem` on host pointers (cache, block table and seqlens too).
// Throws spattn::Error for sequence lengths or page ids out of range.
void reference_decode(const DecodeProblem& problem, const char* function);

}  // namespace spattn::attention
