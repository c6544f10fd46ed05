// Device-side helpers for GPU kernel tests (see tests/README.md): every CUDA
// call checked, device buffers that upload, poison and download, a stream,
// CUDA-graph capture, and the "usable GPU" test that, with the
// require-GPU switch of kernel_check.hpp, skips in CI and fails on the device.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_check.hpp"

namespace kernel_check {

// Throws (gtest reports it as a failure of the test, with the message) when
// a CUDA call fails; clears the sticky error state first.
inline void cuda_ok(cudaError_t error, const char* what) {
  if (error != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(error) + ": " + cudaGetErrorString(error));
  }
}

#define KERNEL_CHECK_CUDA(expr) ::kernel_check::cuda_ok((expr), #expr)

// "" when a CUDA device can be used, else why not.
inline std::string gpu_unusable_reason() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string("no usable CUDA device (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")";
  }
  if (count == 0) return "no CUDA device";
  return "";
}

// At the top of every GPU test: skips it without a GPU (fails it when
// SPATTN_TEST_REQUIRE_GPU is set).
#define KERNEL_CHECK_REQUIRE_GPU()                                                    \
  do {                                                                                \
    const std::string kernel_check_gpu_ = ::kernel_check::gpu_unusable_reason();      \
    if (!kernel_check_gpu_.empty()) KERNEL_CHECK_SKIP_OR_FAIL(kernel_check_gpu_ + ": GPU test skipped"); \
  } while (0)

// Compute capability of the current device, e.g. 90; 0 when unknown.
inline int device_compute_capability() {
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return major * 10 + minor;
}

// A device array of n elements of T.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    KERNEL_CHECK_CUDA(cudaMalloc(&ptr_, std::max<size_t>(n, 1) * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (ptr_ != nullptr && cudaFree(ptr_) != cudaSuccess) ADD_FAILURE() << "cudaFree failed";
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return ptr_; }
  size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    if (host.size() > n_) throw std::runtime_error("DeviceBuffer::upload: more elements than the buffer holds");
    KERNEL_CHECK_CUDA(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  // Every byte set to `byte` (0xff: NaN for 16- and 32-bit floats).
  void fill_bytes(int byte) { KERNEL_CHECK_CUDA(cudaMemset(ptr_, byte, n_ * sizeof(T))); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    KERNEL_CHECK_CUDA(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

class Stream {
 public:
  Stream() { KERNEL_CHECK_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (cudaStreamDestroy(s_) != cudaSuccess) ADD_FAILURE() << "cudaStreamDestroy failed";
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void sync() const { KERNEL_CHECK_CUDA(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

// Runs `enqueue(stream)` (which returns the launch's status, a
// spattn_status or anything comparable to `ok`) captured into a CUDA graph,
// then replays the graph once. Returns enqueue's status; the graph is only
// launched when it is `ok`.
template <class Enqueue, class Status>
Status capture_and_replay(const Stream& stream, Enqueue&& enqueue, Status ok) {
  cudaGraph_t graph = nullptr;
  KERNEL_CHECK_CUDA(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
  const Status status = enqueue(stream.get());
  KERNEL_CHECK_CUDA(cudaStreamEndCapture(stream.get(), &graph));
  if (status == ok) {
    cudaGraphExec_t exec = nullptr;
    KERNEL_CHECK_CUDA(cudaGraphInstantiate(&exec, graph, 0));
    KERNEL_CHECK_CUDA(cudaGraphLaunch(exec, stream.get()));
    KERNEL_CHECK_CUDA(cudaGraphExecDestroy(exec));
  }
  KERNEL_CHECK_CUDA(cudaGraphDestroy(graph));
  return status;
}

}  // namespace kernel_check
