// CPU reference of index-sparse attention (spattn_sparse_attention_reference).
#pragma once

#include "attention/sparse_problem.hpp"

namespace spattn::attention {

// Runs `problem` on host pointers (cache, block table, seqlens, lists too):
// for each row, a float64 softmax over the set of its list's valid keys.
// Throws SPATTN_ERR_INVALID_ARGUMENT for an out-of-range or duplicate list
// entry (naming sequence, token, KV head and slot), and for cache lengths or
// pages out of range.
void reference_sparse(const SparseProblem& problem, const char* function);

}  // namespace spattn::attention
