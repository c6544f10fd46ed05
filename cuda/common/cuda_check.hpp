// Host-side CUDA error handling shared by the launchers: every failure
// becomes a spattn::Error naming the entry point.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.hpp"

namespace spattn::attention {

// SPATTN_ERR_CUDA with cudaGetErrorString when `error` is not cudaSuccess.
inline void check_cuda(cudaError_t error, const char* function, const char* what) {
  if (error != cudaSuccess) {
    fail(SPATTN_ERR_CUDA, std::string(function) + ": " + what + ": " + cudaGetErrorString(error));
  }
}

// The error of the launch just made (cudaGetLastError), as check_cuda.
inline void check_launch(const char* function, const char* kernel) {
  check_cuda(cudaGetLastError(), function, kernel);
}

// SPATTN_ERR_UNSUPPORTED when no CUDA device (or driver) is there.
inline void require_cuda_device(const char* function) {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver || count == 0) {
    (void)cudaGetLastError();
    fail(SPATTN_ERR_UNSUPPORTED,
         std::string(function) + ": no CUDA device is available (" + cudaGetErrorString(error) + ")");
  }
  check_cuda(error, function, "cudaGetDeviceCount");
}

}  // namespace spattn::attention
