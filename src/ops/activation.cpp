#include "ops/activation.h"
#include "util/profiler.h"

namespace sg {

Activation parse_activation(const std::string& name) {
  if (name == "identity") return Activation::identity;
  if (name == "gelu") return Activation::gelu;
  if (name == "relu") return Activation::relu;
  if (name == "swish") return Activation::swish;
  if (name == "sigmoid") return Activation::sigmoid;
  fail("unknown activation '", name, "' (allowed: identity, gelu, relu, swish, sigmoid)");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::identity: return "identity";
    case Activation::gelu: return "gelu";
    case Activation::relu: return "relu";
    case Activation::swish: return "swish";
    case Activation::sigmoid: return "sigmoid";
  }
  return "?";
}

VarP activation(Tape& tape, const VarP& x, Activation a) {
  ScopedTimer timer(OpKind::elementwise);
  const int64_t n = x->value.numel();
  VarP y = make_var(Tensor::empty(x->value.shape()), tape.needs_grad(x));
  const float* x_ = x->value.data();
  float* y_ = y->value.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y_[i] = act_forward(a, x_[i]);
  if (y->requires_grad)
    tape.record([x, y, a, n] {
    ScopedTimer timer(OpKind::elementwise);
      if (!y->has_grad()) return;
      float* dx = x->grad_or_zeros().data();
      const float *dy = y->grad.data(), *xv = x->value.data();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * act_grad(a, xv[i]);
    });
  return y;
}

}  // namespace sg
