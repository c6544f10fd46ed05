// CPU reference of the skip-softmax flash-attention forward pass: the same
// tiles and skip decisions as the CUDA kernel, on host memory.
#pragma once

#include "attention/attention_problem.hpp"

namespace spattn::attention {

// Runs `problem` on host pointers (cu_seqlens too). Throws spattn::Error on
// inconsistent packed offsets.
void reference_forward(const Problem& problem, const char* function);

}  // namespace spattn::attention
