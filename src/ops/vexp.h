// Vectorisable fp32 exp for the softmax loops of attention and cross-entropy: std::exp
// does not vectorise without -ffast-math, and these loops run once per score / logit.
// Cephes expf: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-7 polynomial,
// about 1 ulp. Pure arithmetic, so a loop calling it vectorises and is bit-reproducible.
#pragma once
#include <bit>
#include <cstdint>

namespace sg {

// exp(x) for x in [-87.3, 88]; inputs outside are clamped there (2^n stays a normal float),
// so exp of a very negative argument is ~1e-38 rather than 0.
inline float vexp(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;  // round(x / ln2) via 1.5*2^23
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;    // ln2 split in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

}  // namespace sg
