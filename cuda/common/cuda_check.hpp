// Host-side CUDA error handling that every launcher shares: a failed CUDA
// call becomes spattn::Error(SPATTN_ERR_CUDA) naming the entry point and the
// call; no usable device becomes SPATTN_ERR_UNSUPPORTED.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.hpp"

namespace spattn::attention {

inline void cuda_check(cudaError_t error, const char* function, const char* what) {
  if (error != cudaSuccess) {
    fail(SPATTN_ERR_CUDA, std::string(function) + ": " + what + ": " + cudaGetErrorString(error));
  }
}

inline void require_cuda_device(const char* function) {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver || count == 0) {
    (void)cudaGetLastError();
    fail(SPATTN_ERR_UNSUPPORTED,
         std::string(function) + ": no CUDA device is available (" + cudaGetErrorString(error) + ")");
  }
  cuda_check(error, function, "cudaGetDeviceCount");
}

// Launches `kernel` with `smem_bytes` of dynamic shared memory (raising the
// kernel's limit first) and checks the launch.
template <class Kernel, class... Args>
void launch_checked(Kernel kernel, dim3 grid, dim3 block, int smem_bytes, cudaStream_t stream,
                    const char* function, const Args&... args) {
  cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes), function,
             "cudaFuncSetAttribute");
  kernel<<<grid, block, smem_bytes, stream>>>(args...);
  cuda_check(cudaGetLastError(), function, "kernel launch");
}

}  // namespace spattn::attention
