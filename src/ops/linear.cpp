#include "ops/linear.h"

namespace sg {

namespace {
MatmulPrecision g_precision = MatmulPrecision::fp32;
}

void set_matmul_precision(MatmulPrecision p) { g_precision = p; }
MatmulPrecision matmul_precision() { return g_precision; }

// Reference loops; the engine issue replaces them with cached oneDNN primitives.
void linear_forward(float* y_NxO, const float* x_NxI, const float* w_OxI, int64_t N, int64_t I,
                    int64_t O) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      float acc = 0;
      for (int64_t i = 0; i < I; ++i) acc += x_NxI[n * I + i] * w_OxI[o * I + i];
      y_NxO[n * O + o] = acc;
    }
}

void linear_backward(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                     const float* w_OxI, int64_t N, int64_t I, int64_t O) {
  if (dx_NxI) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t i = 0; i < I; ++i) dx_NxI[n * I + i] += dy_NxO[n * O + o] * w_OxI[o * I + i];
  }
  if (dw_OxI) {
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < I; ++i) dw_OxI[o * I + i] += dy_NxO[n * O + o] * x_NxI[n * I + i];
  }
}

VarP linear(Tape& tape, const VarP& x, const VarP& w) {
  SG_CHECK(w->value.rank() == 2, "linear: weight has shape ", shape_str(w->value.shape()),
           ", expected [out, in]");
  const int64_t O = w->value.dim(0), I = w->value.dim(1);
  SG_CHECK(x->value.rank() >= 1 && x->value.dim(-1) == I, "linear: x has shape ",
           shape_str(x->value.shape()), ", expected [..., ", I, "] to match weight ",
           shape_str(w->value.shape()));
  const int64_t N = x->value.numel() / I;
  Shape out_shape = x->value.shape();
  out_shape.back() = O;
  VarP y = make_var(Tensor::empty(out_shape), tape.needs_grad(x, w));
  linear_forward(y->value.data(), x->value.data(), w->value.data(), N, I, O);
  if (y->requires_grad)
    tape.record([x, w, y, N, I, O] {
      if (!y->has_grad()) return;
      linear_backward(x->requires_grad ? x->grad_or_zeros().data() : nullptr,
                      w->requires_grad ? w->grad_or_zeros().data() : nullptr, y->grad.data(),
                      x->value.data(), w->value.data(), N, I, O);
    });
  return y;
}

}  // namespace sg
