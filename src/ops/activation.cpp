#include "ops/activation.h"

#include <type_traits>
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

namespace {

// The activation is a template argument so the switch in act_forward / act_grad
// folds away and the loops vectorise.
template <Activation A>
void activation_forward(float* y, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = act_forward(A, x[i]);
}

template <Activation A>
void activation_backward(float* dx, const float* dy, const float* x, int64_t n, bool accumulate) {
  if (accumulate) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * act_grad(A, x[i]);
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * act_grad(A, x[i]);
  }
}

template <typename F>
void dispatch(Activation a, F&& f) {
  switch (a) {
    case Activation::identity: return f(std::integral_constant<Activation, Activation::identity>{});
    case Activation::gelu: return f(std::integral_constant<Activation, Activation::gelu>{});
    case Activation::relu: return f(std::integral_constant<Activation, Activation::relu>{});
    case Activation::swish: return f(std::integral_constant<Activation, Activation::swish>{});
    case Activation::sigmoid: return f(std::integral_constant<Activation, Activation::sigmoid>{});
  }
}

}  // namespace

VarP activation(Tape& tape, const VarP& x, Activation a) {
  ScopedTimer timer(OpKind::elementwise);
  const int64_t n = x->value.numel();
  VarP y = make_var(Tensor::empty(x->value.shape()), tape.needs_grad(x));
  dispatch(a, [&](auto A) { activation_forward<A()>(y->value.data(), x->value.data(), n); });
  if (y->requires_grad)
    tape.record_backward(OpKind::elementwise, y, [x, y, a, n] {
      bool accumulate = false;
      float* dx = x->grad_for(accumulate);
      dispatch(a, [&](auto A) {
        activation_backward<A()>(dx, y->grad.data(), x->value.data(), n, accumulate);
      });
    });
  return y;
}

}  // namespace sg
