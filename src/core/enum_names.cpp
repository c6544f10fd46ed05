#include "core/enum_names.hpp"

namespace spattn {

const char* algorithm_name(spattn_algorithm algorithm) {
  switch (algorithm) {
    case SPATTN_ALGORITHM_NONE: return "none";
    case SPATTN_ALGORITHM_SKIP_SOFTMAX: return "skip_softmax";
    case SPATTN_ALGORITHM_ROCKET: return "rocket";
    case SPATTN_ALGORITHM_DSA: return "dsa";
    case SPATTN_ALGORITHM_VSA: return "vsa";
    case SPATTN_ALGORITHM_MAX_ENUM: break;
  }
  return nullptr;
}

const char* phase_name(spattn_phase phase) {
  switch (phase) {
    case SPATTN_PHASE_PREFILL: return "prefill";
    case SPATTN_PHASE_DECODE: return "decode";
    case SPATTN_PHASE_MAX_ENUM: break;
  }
  return nullptr;
}

const char* source_name(spattn_source source) {
  switch (source) {
    case SPATTN_SOURCE_NONE: return "none";
    case SPATTN_SOURCE_USER: return "user";
    case SPATTN_SOURCE_CHECKPOINT: return "checkpoint";
    case SPATTN_SOURCE_FORMULA: return "formula";
    case SPATTN_SOURCE_MAX_ENUM: break;
  }
  return nullptr;
}

const char* disabled_reason_name(spattn_disabled_reason reason) {
  switch (reason) {
    case SPATTN_DISABLED_NOT: return "not";
    case SPATTN_DISABLED_NOT_CONFIGURED: return "not_configured";
    case SPATTN_DISABLED_IGNORED: return "ignored";
    case SPATTN_DISABLED_TIMESTEP: return "timestep";
    case SPATTN_DISABLED_NOT_TARGET: return "not_target";
    case SPATTN_DISABLED_ZERO_THRESHOLD: return "zero_threshold";
    case SPATTN_DISABLED_MAX_ENUM: break;
  }
  return nullptr;
}

const char* phase_key_name(spattn_phase_key key) {
  switch (key) {
    case SPATTN_PHASE_KEY_DENSE: return "dense";
    case SPATTN_PHASE_KEY_SPARSE: return "sparse";
    case SPATTN_PHASE_KEY_MAX_ENUM: break;
  }
  return nullptr;
}

const char* kt_cache_dtype_name(spattn_kt_cache_dtype dtype) {
  switch (dtype) {
    case SPATTN_KT_CACHE_FLOAT8_E5M2: return "float8_e5m2";
    case SPATTN_KT_CACHE_BFLOAT16: return "bfloat16";
    case SPATTN_KT_CACHE_MAX_ENUM: break;
  }
  return nullptr;
}

const char* indexer_k_dtype_name(spattn_indexer_k_dtype dtype) {
  switch (dtype) {
    case SPATTN_INDEXER_K_FP8: return "fp8";
    case SPATTN_INDEXER_K_FP4: return "fp4";
    case SPATTN_INDEXER_K_MAX_ENUM: break;
  }
  return nullptr;
}

}  // namespace spattn
