// FP8 E4M3 (the OCP "fn" variant: bias 7, max 448, subnormal step 2^-9, no
// infinities, NaN = S.1111.111) and E5M2 (bias 15, max 57344, subnormal step
// 2^-16, IEEE-style infinities and NaNs), written once for the host
// references, the tests and the kernels.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "attention/skip_rule.hpp"  // SPATTN_HOST_DEVICE

namespace spattn::attention {

SPATTN_HOST_DEVICE inline uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
#endif
}

SPATTN_HOST_DEVICE inline float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// The E4M3 value nearest to a finite x >= 0, as a float: round to nearest
// even, saturated at 448.
SPATTN_HOST_DEVICE inline float round_e4m3(float x) {
  x = fminf(x, 448.0f);
  const float subnormal = rintf(x * 512.0f) * (1.0f / 512.0f);  // below 2^-6: fixed step 2^-9
  uint32_t u = float_bits(x);
  u += 0x7FFFFu + ((u >> 20) & 1u);  // round the 23-bit mantissa to 3 bits, ties to even
  const float normal = bits_float(u & 0xFFF00000u);
  return x < 0.015625f ? subnormal : normal;  // both computed: no branch in a kernel
}

// The value of an E4M3 byte (NaN bytes give NaN).
SPATTN_HOST_DEVICE inline float e4m3_to_float(uint8_t byte) {
  const uint32_t exponent = (byte >> 3) & 0xFu;
  const uint32_t mantissa = byte & 0x7u;
  float magnitude;
  if (exponent == 0xFu && mantissa == 0x7u) {
    magnitude = NAN;
  } else if (exponent == 0) {
    magnitude = float(mantissa) * (1.0f / 512.0f);
  } else {
    magnitude = bits_float(((exponent + 120u) << 23) | (mantissa << 20));
  }
  return (byte & 0x80u) ? -magnitude : magnitude;
}

// The E4M3 byte of a finite x: round to nearest even, saturated at +-448.
SPATTN_HOST_DEVICE inline uint8_t float_to_e4m3(float x) {
  const uint8_t sign = x < 0.0f ? 0x80u : 0x00u;
  const float r = round_e4m3(fabsf(x));
  if (r < 0.015625f) return uint8_t(sign | uint8_t(r * 512.0f));  // subnormal or 0: mantissa only
  const uint32_t u = float_bits(r);
  const uint32_t exponent = ((u >> 23) & 0xFFu) - 120u;
  return uint8_t(sign | (exponent << 3) | ((u >> 20) & 0x7u));
}

// The E5M2 value nearest to a finite x >= 0, as a float: round to nearest
// even, saturated at 57344 (the largest finite E5M2) instead of overflowing.
SPATTN_HOST_DEVICE inline float round_e5m2(float x) {
  x = fminf(x, 57344.0f);
  const float subnormal = rintf(x * 65536.0f) * (1.0f / 65536.0f);  // below 2^-14: fixed step 2^-16
  uint32_t u = float_bits(x);
  u += 0xFFFFFu + ((u >> 21) & 1u);  // round the 23-bit mantissa to 2 bits, ties to even
  const float normal = bits_float(u & 0xFFE00000u);
  return x < 0.00006103515625f ? subnormal : normal;  // both computed: no branch in a kernel
}

// The value of an E5M2 byte.
SPATTN_HOST_DEVICE inline float e5m2_to_float(uint8_t byte) {
  const uint32_t exponent = (byte >> 2) & 0x1Fu;
  const uint32_t mantissa = byte & 0x3u;
  float magnitude;
  if (exponent == 0x1Fu) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else if (exponent == 0) {
    magnitude = float(mantissa) * (1.0f / 65536.0f);
  } else {
    magnitude = bits_float(((exponent + 112u) << 23) | (mantissa << 21));
  }
  return (byte & 0x80u) ? -magnitude : magnitude;
}

// The E5M2 byte of a finite x: round to nearest even, saturated at +-57344.
SPATTN_HOST_DEVICE inline uint8_t float_to_e5m2(float x) {
  const uint8_t sign = x < 0.0f ? 0x80u : 0x00u;
  const float r = round_e5m2(fabsf(x));
  if (r < 0.00006103515625f) return uint8_t(sign | uint8_t(r * 65536.0f));  // subnormal or 0
  const uint32_t u = float_bits(r);
  const uint32_t exponent = ((u >> 23) & 0xFFu) - 112u;
  return uint8_t(sign | (exponent << 2) | ((u >> 21) & 0x3u));
}

}  // namespace spattn::attention
