// CPU references of RocketKV's two phases (spattn_rocket_context_reference,
// spattn_rocket_decode_reference), and the pieces they are made of, exposed
// for the tests' hand-computed cases.
#pragma once

#include <cstdint>
#include <vector>

#include "attention/rocket_problem.hpp"

namespace spattn::attention {

namespace rocket {

// 1-D max pooling of width `kernel` (stride 1, PyTorch's padding
// floor(kernel / 2)), restricted to x's range: out[j] = max of x[t] for t in
// [j - floor(kernel/2), j - floor(kernel/2) + kernel - 1] and [0, n).
std::vector<double> max_pool(const std::vector<double>& x, int32_t kernel);

// The positions of the k largest scores (spattn_topk's rule: ties lower
// first), in increasing order; fewer when fewer are candidates. The scores
// are rounded to float first, as the kernels hold them.
std::vector<int32_t> top_k(const std::vector<double>& scores, int32_t k);

// A value rounded to the KT cache's dtype (round to nearest even; E5M2
// saturated at +-57344), and the stored bits back.
float round_kt(float x, spattn_kt_cache_dtype dtype);

// The G * W window rows' softmax over the prefix keys, summed per key:
// S[j] for j < prefix. q: G heads x W queries x D floats (row-major,
// [head][query][dim]); keys: [prefix][D] stored values; `scale` multiplies
// q . k_stored (softmax_scale * k_scale).
std::vector<double> window_scores(const std::vector<float>& q, int32_t rows, const std::vector<float>& keys,
                                  int32_t prefix, int32_t dim, double scale);

// The query dims of the bound: the r dims of largest sum over the group's
// heads of |q_{h,d}| (q: [G][D]), ties lower first, in increasing order.
std::vector<int32_t> bound_dims(const std::vector<float>& q, int32_t group, int32_t dim, int32_t r);

}  // namespace rocket

void reference_rocket_context(const RocketContextProblem& problem, const char* function);
void reference_rocket_decode(const RocketDecodeProblem& problem, const char* function);

}  // namespace spattn::attention
