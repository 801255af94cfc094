// Pointwise activations: scalar forward and derivative, shared by every layer that
// applies one (mlp, sgatlin, peer), plus an autograd op over whole tensors.
#pragma once
#include <cmath>
#include <string>

#include "autograd/tape.h"
#include "ops/vexp.h"

namespace sg {

enum class Activation { identity, gelu, relu, swish, sigmoid };

Activation parse_activation(const std::string& name);  // throws listing the allowed names
const char* activation_name(Activation a);

// Built on vexp (pure arithmetic) so loops over them vectorise; std::exp and std::tanh
// do not without -ffast-math. tanh(u) = 1 - 2 / (exp(2u) + 1): absolute error ~1e-7.
// Below -88, exp(-x) overflows fp32: sigmoid is exactly 0 there (vexp would clamp).
inline float sigmoidf(float x) { return x < -88.0f ? 0.0f : 1.0f / (1.0f + vexp(-x)); }
inline float tanhf_fast(float u) { return 1.0f - 2.0f / (vexp(2.0f * u) + 1.0f); }

// gelu uses the tanh approximation (spec §2.1).
inline float act_forward(Activation a, float x) {
  switch (a) {
    case Activation::identity: return x;
    case Activation::relu: return x > 0 ? x : 0.0f;
    case Activation::sigmoid: return sigmoidf(x);
    case Activation::swish: return x * sigmoidf(x);
    case Activation::gelu: {
      const float c = 0.7978845608028654f;  // sqrt(2/pi)
      return 0.5f * x * (1.0f + tanhf_fast(c * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

// d act(x) / dx.
inline float act_grad(Activation a, float x) {
  switch (a) {
    case Activation::identity: return 1.0f;
    case Activation::relu: return x > 0 ? 1.0f : 0.0f;
    case Activation::sigmoid: {
      const float s = sigmoidf(x);
      return s * (1 - s);
    }
    case Activation::swish: {
      const float s = sigmoidf(x);
      return s * (1 + x * (1 - s));
    }
    case Activation::gelu: {
      const float c = 0.7978845608028654f;
      const float u = c * (x + 0.044715f * x * x * x);
      const float t = std::tanh(u), sech2 = 1 - t * t;
      // Saturated tanh: the second term is 0, but x * x can overflow (|x| > 1.8e19) to 0 * inf.
      if (sech2 == 0) return 0.5f * (1 + t);
      return 0.5f * (1 + t) + 0.5f * x * sech2 * c * (1 + 3 * 0.044715f * x * x);
    }
  }
  return 1.0f;
}

// Autograd op: y = act(x) elementwise.
VarP activation(Tape& tape, const VarP& x, Activation a);

}  // namespace sg
