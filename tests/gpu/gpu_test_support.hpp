// Device-side helpers for the GPU tests: device detection (tests skip with a
// message without a device) and a device buffer owning its allocation.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace gpu_test {

inline bool have_device() {
  int n = 0;
  const bool ok = cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
  if (!ok) (void)cudaGetLastError();
  return ok;
}

// Compute capability 9.0: the device the sm_90a kernels run on.
inline bool sm90_device() {
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return major == 9 && minor == 0;
}

// `count` elements of T (plus `slack` bytes), optionally filled from a host
// vector or with a byte pattern.
template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceBuffer(size_t count, size_t slack = 16) : n(count) {
    if (cudaMalloc(&ptr, count * sizeof(T) + slack) != cudaSuccess) ptr = nullptr;
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    if (ptr != nullptr && !host.empty()) cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  void fill_bytes(int byte) { cudaMemset(ptr, byte, n * sizeof(T)); }
  std::vector<T> get(size_t count) const {
    std::vector<T> h(count);
    if (count > 0) cudaMemcpy(h.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
  std::vector<T> get() const { return get(n); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace gpu_test

#define GPU_TEST_SKIP_WITHOUT_DEVICE()                                              \
  do {                                                                              \
    if (!gpu_test::have_device()) GTEST_SKIP() << "no CUDA device: GPU test skipped"; \
  } while (0)
