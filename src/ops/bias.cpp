// Legend: N rows, F features.
#include "ops/bias.h"
#include "util/profiler.h"

#include <omp.h>

namespace sg {

void bias_forward(float* y_NxF, const float* x_NxF, const float* b_F, int64_t N, int64_t F) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) y_NxF[n * F + f] = x_NxF[n * F + f] + b_F[f];
}

void bias_backward(float* db_F, const float* dy_NxF, int64_t N, int64_t F) {
  // Each thread owns a contiguous column range and walks the rows in order, so every
  // column's sum has the same order whatever the thread count.
#pragma omp parallel
  {
    const int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t f0 = F * t / T, f1 = F * (t + 1) / T;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t f = f0; f < f1; ++f) db_F[f] += dy_NxF[n * F + f];
  }
}

VarP bias_add(Tape& tape, const VarP& x, const VarP& b) {
  ScopedTimer timer(OpKind::elementwise);

  const int64_t F = b->value.numel();
  SG_CHECK(b->value.rank() == 1 && x->value.rank() >= 1 && x->value.dim(-1) == F,
           "bias_add: x has shape ", shape_str(x->value.shape()), ", bias ",
           shape_str(b->value.shape()), ", expected [..., F] and [F]");
  const int64_t N = x->value.numel() / F;
  VarP y = make_var(Tensor::empty(x->value.shape()), tape.needs_grad(x, b));
  bias_forward(y->value.data(), x->value.data(), b->value.data(), N, F);
  if (y->requires_grad)
    tape.record_backward(OpKind::elementwise, y, [x, b, y, N, F] {
      const float* dy = y->grad.data();
      if (x->requires_grad) {
        float* dx = x->grad_or_zeros().data();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < N * F; ++i) dx[i] += dy[i];
      }
      if (b->requires_grad) bias_backward(b->grad_or_zeros().data(), dy, N, F);
    });
  return y;
}

}  // namespace sg
