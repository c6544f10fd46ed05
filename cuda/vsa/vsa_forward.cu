// The VSA forward pass on the GPU: the stages in order on the caller's
// stream, every intermediate in the caller's workspace
// (src/attention/vsa_problem.hpp, WorkspaceLayout):
//   1. cube means of q, k, v (vsa_coarse.cu)          -> workspace
//   2. selection scores (vsa_coarse.cu)                -> workspace
//   3. selection (vsa_coarse.cu)                       -> args.selected_cubes or workspace
//   4. coarse attention over the means: the library's dense attention
//      (cuda/prefill/), threshold 0                    -> workspace
//   5. fine stage + combine + LSE (vsa_fine_sm90.cu)   -> out, lse
// Nothing is read back to the host, so the whole sequence can be captured in
// a CUDA graph.
#include <cuda_runtime.h>

#include <string>

#include "attention/attention_cuda.hpp"
#include "attention/vsa_cuda.hpp"
#include "common/cuda_check.hpp"
#include "prefill/attention_forward_sm90.hpp"
#include "vsa/vsa_stages.hpp"

namespace spattn::attention::vsa {
namespace {

// The coarse stage as a dense attention problem over the cube means:
// C query cubes x C key cubes, BSHD contiguous, dense (threshold 0).
attention::Problem coarse_problem(const Problem& p, const uint16_t* q_means, const uint16_t* k_means,
                                  const uint16_t* v_means, uint16_t* coarse) {
  const int64_t C = p.geo.num_cubes, D = p.head_dim;
  attention::Problem c;
  c.dtype = p.dtype;
  c.batch = p.batch;
  c.num_heads = p.num_heads;
  c.num_kv_heads = p.num_kv_heads;
  c.head_dim = p.head_dim;
  c.seqlen_q = p.geo.num_cubes;
  c.seqlen_kv = p.geo.num_cubes;
  c.q = TensorView{q_means, C * p.num_heads * D, p.num_heads * D, D};
  c.k = TensorView{k_means, C * p.num_kv_heads * D, p.num_kv_heads * D, D};
  c.v = TensorView{v_means, C * p.num_kv_heads * D, p.num_kv_heads * D, D};
  c.out = coarse;
  c.out_strides[0] = C * p.num_heads * D;
  c.out_strides[1] = p.num_heads * D;
  c.out_strides[2] = D;
  c.softmax_scale = p.softmax_scale;
  return c;
}

}  // namespace

void launch_forward_cuda(const Problem& p, void* stream_ptr, const char* function, Mutation mutation,
                         unsigned stages) {
  require_cuda_device(function);
  int device = 0;
  cuda_check(cudaGetDevice(&device), function, "cudaGetDevice");
  if (!sm90::device_supported(device)) {
    fail(SPATTN_ERR_UNSUPPORTED,
         std::string(function) + ": the VSA fine stage needs an sm_90 (Hopper) device and a library built for 90a");
  }
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const WorkspaceLayout w = workspace_layout(p);
  uint8_t* ws = static_cast<uint8_t*>(p.workspace);
  auto at = [&](size_t offset) { return reinterpret_cast<uint16_t*>(ws + offset); };
  uint16_t* q_means = at(w.q_means);
  uint16_t* k_means = at(w.k_means);
  uint16_t* v_means = at(w.v_means);
  uint16_t* coarse = at(w.coarse);
  float* scores = reinterpret_cast<float*>(ws + w.scores);
  int32_t* selected = p.selected != nullptr ? p.selected : reinterpret_cast<int32_t*>(ws + w.selected);

  if (stages & kStageMeans) {
    launch_means(p, p.q, p.num_heads, q_means, stream, function);
    launch_means(p, p.k, p.num_kv_heads, k_means, stream, function);
    launch_means(p, p.v, p.num_kv_heads, v_means, stream, function);
  }
  if (stages & kStageScores) launch_scores(p, q_means, k_means, scores, stream, function);
  if (stages & kStageSelect) launch_select(p, scores, selected, mutation, stream, function);
  if (stages & kStageCoarse) {
    attention::launch_forward_cuda(coarse_problem(p, q_means, k_means, v_means, coarse), stream, function);
  }
  if ((stages & kStageFine) && !launch_fine_sm90(p, coarse, selected, mutation, stream, function)) {
    fail(SPATTN_ERR_UNSUPPORTED, std::string(function) +
                                     ": the tensors' strides cannot be described to the TMA unit (16-byte "
                                     "multiples below 2^40 bytes)");
  }
}

}  // namespace spattn::attention::vsa
