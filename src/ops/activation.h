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
// do not without -ffast-math. Below -88, exp(-x) overflows fp32: sigmoid is exactly 0
// there (vexp would clamp).
inline float sigmoidf(float x) { return x < -88.0f ? 0.0f : 1.0f / (1.0f + vexp(-x)); }

// gelu uses the tanh approximation (spec §2.1), written as 0.5 x (1 + tanh(u)) = x sigmoid(2u)
// so that 1 + tanh(u) does not cancel for negative u. gelu_arg(x) = 2u.
inline float gelu_arg(float x) { return 2 * 0.7978845608028654f * (x + 0.044715f * x * x * x); }

inline float act_forward(Activation a, float x) {
  switch (a) {
    case Activation::identity: return x;
    case Activation::relu: return x > 0 ? x : 0.0f;
    case Activation::sigmoid: return sigmoidf(x);
    case Activation::swish: return x * sigmoidf(x);
    case Activation::gelu: return x * sigmoidf(gelu_arg(x));
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
      // d/dx x s(v) = s + x s (1 - s) v', with 1 - s = exp(-v) s computed without
      // cancellation. Past |v| = 80 the second term is below fp32 resolution and
      // x * v' may overflow, so the slope is exactly 0 or 1 there.
      const float v = gelu_arg(x), e = vexp(-v), s = 1.0f / (1.0f + e);
      const float dv = 2 * 0.7978845608028654f * (1 + 3 * 0.044715f * x * x);
      if (std::fabs(v) > 80) return v > 0 ? 1.0f : 0.0f;
      return s + x * (e * s * s) * dv;
    }
  }
  return 1.0f;
}

// Autograd op: y = act(x) elementwise.
VarP activation(Tape& tape, const VarP& x, Activation a);

}  // namespace sg
