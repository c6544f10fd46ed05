// CPU reference of Video Sparse Attention, written for clarity; per batch
// element and head:
//  - cube means: float32 sums in slot order over the valid slots, divided by
//    the count, rounded to the storage type (vsa_rules.hpp: the same
//    operations as the GPU's, so the same bits);
//  - selection scores: float32 fused multiply-add chains over the rounded
//    means, dimensions in increasing order; the kept_cubes best key cubes of
//    each query cube by score_key / outranks (the GPU's rule);
//  - coarse attention over the rounded means in double, its output rounded
//    to the storage type (the GPU runs it on the dense attention kernel,
//    which rounds its output);
//  - fine attention in double over the valid tokens of the kept cubes, LSE
//    in double; out = coarse * gate + fine in double, rounded once.
// Pad slots are never read; pad rows of out get 0 and LSE -inf.
#include "attention/vsa_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "attention/half_float.hpp"

namespace spattn::attention::vsa {
namespace {

// A row of `dim` 16-bit elements of a strided tensor.
const uint16_t* row_at(const TensorView& t, int64_t batch, int64_t token, int64_t head) {
  return static_cast<const uint16_t*>(t.data) + batch * t.batch_stride + token * t.token_stride +
         head * t.head_stride;
}

uint16_t* row_at(void* data, const int64_t s[3], int64_t batch, int64_t token, int64_t head) {
  return static_cast<uint16_t*>(data) + batch * s[0] + token * s[1] + head * s[2];
}

// Cube means of one tensor of batch element b: [cube][head][dim], each the
// float value of the rounded mean.
std::vector<float> cube_means(const Problem& p, const TensorView& t, int64_t b, int32_t heads) {
  const Geometry& g = p.geo;
  const int32_t dim = p.head_dim;
  std::vector<float> means(size_t(g.num_cubes) * heads * dim);
  for (int32_t c = 0; c < g.num_cubes; ++c) {
    const int32_t valid = cube_valid(g, c);
    for (int32_t h = 0; h < heads; ++h) {
      for (int32_t d = 0; d < dim; ++d) {
        float sum = 0.0f;
        for (int32_t s = 0; s < valid; ++s) {
          sum = mean_add(sum, storage_to_float(row_at(t, b, int64_t(c) * g.volume + s, h)[d], p.bf16()));
        }
        const float mean = mean_finish(sum, valid);
        means[(size_t(c) * heads + h) * dim + d] = storage_to_float(float_to_storage(mean, p.bf16()), p.bf16());
      }
    }
  }
  return means;
}

struct BatchState {
  std::vector<float> qm, km, vm;  // rounded cube means
};

// The kept key cubes of query cube i, head h, in increasing index order.
std::vector<int32_t> select(const Problem& p, const BatchState& s, int32_t h, int32_t i) {
  const int32_t C = p.geo.num_cubes, dim = p.head_dim;
  const int32_t kvh = h / (p.num_heads / p.num_kv_heads);
  const float* q = &s.qm[(size_t(i) * p.num_heads + h) * dim];
  std::vector<uint32_t> key(static_cast<size_t>(C));
  for (int32_t j = 0; j < C; ++j) {
    const float* k = &s.km[(size_t(j) * p.num_kv_heads + kvh) * dim];
    float acc = 0.0f;
    for (int32_t d = 0; d < dim; ++d) acc = score_step(acc, q[d], k[d]);
    key[size_t(j)] = score_key(acc);
  }
  std::vector<int32_t> order(static_cast<size_t>(C));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + p.geo.kept, order.end(),
                    [&](int32_t a, int32_t b) { return outranks(key[size_t(a)], a, key[size_t(b)], b); });
  order.resize(size_t(p.geo.kept));
  std::sort(order.begin(), order.end());
  return order;
}

// Softmax-weighted sum of value rows: out[d] = sum_j w_j v_j[d] / sum_j w_j
// with w_j = exp(logit_j - max); returns the log-sum-exp of the logits.
double attend(const std::vector<double>& logits, const std::vector<const float*>& values, int32_t dim,
              std::vector<double>& out) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  std::fill(out.begin(), out.end(), 0.0);
  for (size_t j = 0; j < logits.size(); ++j) {
    const double w = std::exp(logits[j] - mx);
    sum += w;
    for (int32_t d = 0; d < dim; ++d) out[size_t(d)] += w * double(values[j][d]);
  }
  for (int32_t d = 0; d < dim; ++d) out[size_t(d)] /= sum;
  return mx + std::log(sum);
}

double dot(const float* a, const float* b, int32_t dim) {
  double acc = 0.0;
  for (int32_t d = 0; d < dim; ++d) acc += double(a[d]) * double(b[d]);
  return acc;
}

// Coarse attention of query cube i, head h, rounded to the storage type.
std::vector<float> coarse(const Problem& p, const BatchState& s, int32_t h, int32_t i) {
  const int32_t C = p.geo.num_cubes, dim = p.head_dim;
  const int32_t kvh = h / (p.num_heads / p.num_kv_heads);
  const float* q = &s.qm[(size_t(i) * p.num_heads + h) * dim];
  std::vector<double> logits(static_cast<size_t>(C));
  std::vector<const float*> values(static_cast<size_t>(C));
  for (int32_t j = 0; j < C; ++j) {
    logits[size_t(j)] = double(p.softmax_scale) * dot(q, &s.km[(size_t(j) * p.num_kv_heads + kvh) * dim], dim);
    values[size_t(j)] = &s.vm[(size_t(j) * p.num_kv_heads + kvh) * dim];
  }
  std::vector<double> out(static_cast<size_t>(dim));
  attend(logits, values, dim, out);
  std::vector<float> rounded(static_cast<size_t>(dim));
  for (int32_t d = 0; d < dim; ++d) {
    rounded[size_t(d)] = storage_to_float(float_to_storage(float(out[size_t(d)]), p.bf16()), p.bf16());
  }
  return rounded;
}

std::vector<float> read_row(const TensorView& t, int64_t b, int64_t token, int32_t h, int32_t dim, bool bf16) {
  std::vector<float> r(static_cast<size_t>(dim));
  const uint16_t* src = row_at(t, b, token, h);
  for (int32_t d = 0; d < dim; ++d) r[size_t(d)] = storage_to_float(src[d], bf16);
  return r;
}

void run_query_cube(const Problem& p, const BatchState& s, int64_t b, int32_t h, int32_t i) {
  const Geometry& g = p.geo;
  const int32_t dim = p.head_dim;
  const bool bf = p.bf16();
  const int32_t kvh = h / (p.num_heads / p.num_kv_heads);
  const std::vector<int32_t> kept = select(p, s, h, i);
  if (p.selected != nullptr) {
    int32_t* row = p.selected + ((b * p.num_heads + h) * int64_t(g.num_cubes) + i) * g.kept;
    std::copy(kept.begin(), kept.end(), row);
  }
  const std::vector<float> oc = coarse(p, s, h, i);

  // The keys and values of the kept cubes' valid slots.
  std::vector<std::vector<float>> keys, values;
  for (int32_t j : kept) {
    for (int32_t slot = 0; slot < cube_valid(g, j); ++slot) {
      const int64_t token = int64_t(j) * g.volume + slot;
      keys.push_back(read_row(p.k, b, token, kvh, dim, bf));
      values.push_back(read_row(p.v, b, token, kvh, dim, bf));
    }
  }
  std::vector<const float*> value_rows;
  for (const auto& v : values) value_rows.push_back(v.data());

  const int32_t valid = cube_valid(g, i);
  std::vector<double> logits(keys.size()), fine(static_cast<size_t>(dim));
  for (int32_t slot = 0; slot < g.volume; ++slot) {
    const int64_t token = int64_t(i) * g.volume + slot;
    uint16_t* out = row_at(p.out, p.out_strides, b, token, h);
    float* lse = p.lse != nullptr ? p.lse + (b * p.num_heads + h) * g.padded_tokens + token : nullptr;
    if (slot >= valid) {  // pad row
      std::fill(out, out + dim, uint16_t(0));
      if (lse != nullptr) *lse = -std::numeric_limits<float>::infinity();
      continue;
    }
    const std::vector<float> q = read_row(p.q, b, token, h, dim, bf);
    for (size_t j = 0; j < keys.size(); ++j) logits[j] = double(p.softmax_scale) * dot(q.data(), keys[j].data(), dim);
    const double row_lse = attend(logits, value_rows, dim, fine);
    if (lse != nullptr) *lse = float(row_lse);
    const uint16_t* gate = p.gate.data != nullptr ? row_at(p.gate, b, token, h) : nullptr;
    for (int32_t d = 0; d < dim; ++d) {
      const double gd = gate != nullptr ? double(storage_to_float(gate[d], bf)) : 1.0;
      out[d] = float_to_storage(float(double(oc[size_t(d)]) * gd + fine[size_t(d)]), bf);
    }
  }
}

}  // namespace

void reference_forward(const Problem& p) {
  for (int64_t b = 0; b < p.batch; ++b) {
    BatchState s;
    s.qm = cube_means(p, p.q, b, p.num_heads);
    s.km = cube_means(p, p.k, b, p.num_kv_heads);
    s.vm = cube_means(p, p.v, b, p.num_kv_heads);
    for (int32_t h = 0; h < p.num_heads; ++h) {
      for (int32_t i = 0; i < p.geo.num_cubes; ++i) run_query_cube(p, s, b, h, i);
    }
  }
}

void reference_relayout(const Relayout& r) {
  const Geometry& g = r.geo;
  for (int64_t b = 0; b < r.batch; ++b) {
    for (int32_t c = 0; c < g.num_cubes; ++c) {
      const int32_t valid = cube_valid(g, c);
      for (int32_t slot = 0; slot < g.volume; ++slot) {
        const int64_t cube_token = int64_t(c) * g.volume + slot;
        for (int32_t h = 0; h < r.num_heads; ++h) {
          if (r.to_cubes) {
            uint16_t* dst = row_at(r.dst, r.dst_strides, b, cube_token, h);
            if (slot < valid) {
              std::copy_n(row_at(r.src, b, raster_token(g, c, slot), h), r.head_dim, dst);
            } else {
              std::fill_n(dst, r.head_dim, uint16_t(0));
            }
          } else if (slot < valid) {
            uint16_t* dst = row_at(r.dst, r.dst_strides, b, raster_token(g, c, slot), h);
            std::copy_n(row_at(r.src, b, cube_token, h), r.head_dim, dst);
          }
        }
      }
    }
  }
}

}  // namespace spattn::attention::vsa
