// Counter-based random numbers (Philox4x32-10): element i of a fill is a pure
// function of (seed, stream, i), so results never depend on the thread count or on
// the order in which tensors are initialised. Streams separate independent uses;
// stream_of("layers.0.ffn.w1.weight") gives each parameter its own.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "tensor/tensor.h"

namespace sg {

struct RngKey {
  uint64_t seed = 0;
  uint64_t stream = 0;
};

uint64_t stream_of(std::string_view name);  // FNV-1a hash of a name
std::array<uint32_t, 4> philox(RngKey key, uint64_t counter);
double uniform01(RngKey key, uint64_t counter);  // in (0, 1), 53-bit resolution

void fill_uniform(Tensor& t, RngKey key, float lo, float hi);
void fill_normal(Tensor& t, RngKey key, float mean, float std);
// Normal cut to [-2, 2] standard deviations. rescale=true divides by the std of the
// cut distribution so the result has standard deviation `std` (spec §3 linear init);
// rescale=false keeps the raw cut values scaled by `std` (router keys).
void fill_truncated_normal(Tensor& t, RngKey key, float std, bool rescale = true);

// Draws an index with probability proportional to probs[i] (unnormalised, >= 0).
int64_t sample_categorical(const float* probs, int64_t n, RngKey key, uint64_t counter);

}  // namespace sg
