// CPU reference of Video Sparse Attention and of the relayout between raster
// and cube order (definitions at spattn_vsa_args in include/spattn/spattn.h).
#pragma once

#include "attention/vsa_problem.hpp"

namespace spattn::attention::vsa {

// Runs `problem` on host pointers: the means, scores and selection exactly
// as the GPU computes them (vsa_rules.hpp), the attention in double.
void reference_forward(const Problem& problem);

// Moves a host tensor between raster and cube order.
void reference_relayout(const Relayout& relayout);

}  // namespace spattn::attention::vsa
