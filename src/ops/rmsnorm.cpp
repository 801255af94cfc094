// rmsnorm: y = x * rsqrt(mean(x^2) + eps) * scale over the last axis, fp32 statistics.
// Legend: N rows (all leading dims flattened), D normalised axis.
#include "ops/rmsnorm.h"
#include "util/profiler.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sg {

namespace {
// The scale gradient is a sum over all N rows. Rows are split into this many fixed chunks
// (independent of the thread count), each summed in double, then the chunks are added in
// order: the result is bit-identical for any number of threads.
constexpr int64_t kScaleGradChunks = 64;

double sum_squares(const float* x, int64_t D) {
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < D; ++i) ss += static_cast<double>(x[i]) * x[i];
  return ss;
}
}  // namespace

void rmsnorm_forward(float* y_NxD, float* rstd_N, const float* x_NxD, const float* scale_D,
                     int64_t N, int64_t D) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* x = x_NxD + n * D;
    float* y = y_NxD + n * D;
    const float r = static_cast<float>(1.0 / std::sqrt(sum_squares(x, D) / D + kRmsNormEps));
    rstd_N[n] = r;
    for (int64_t i = 0; i < D; ++i) y[i] = x[i] * r * scale_D[i];
  }
}

// With r = rstd and c = sum_i dy_i s_i x_i over the row:
//   dx_j = r * (dy_j s_j - x_j r^2 c / D),   dscale_j = sum over rows of dy_j x_j r.
void rmsnorm_backward(float* dx_NxD, float* dscale_D, const float* dy_NxD, const float* x_NxD,
                      const float* scale_D, const float* rstd_N, int64_t N, int64_t D) {
  const int64_t chunks = std::min(N, kScaleGradChunks);
  const int64_t rows_per_chunk = chunks ? (N + chunks - 1) / chunks : 0;
  std::vector<double> partial_CxD(dscale_D ? chunks * D : 0, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t end = std::min(N, (c + 1) * rows_per_chunk);
    for (int64_t n = c * rows_per_chunk; n < end; ++n) {
      const float *x = x_NxD + n * D, *dy = dy_NxD + n * D;
      const float r = rstd_N[n];
      if (dx_NxD) {
        float* dx = dx_NxD + n * D;
        double dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t i = 0; i < D; ++i) dot += static_cast<double>(dy[i]) * scale_D[i] * x[i];
        const float k = static_cast<float>(dot * r * r / D);
        for (int64_t i = 0; i < D; ++i) dx[i] += r * (dy[i] * scale_D[i] - x[i] * k);
      }
      if (dscale_D) {
        double* p = partial_CxD.data() + c * D;
        for (int64_t i = 0; i < D; ++i) p[i] += static_cast<double>(dy[i]) * x[i] * r;
      }
    }
  }
  if (!dscale_D) return;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < D; ++i) {
    double sum = 0;
    for (int64_t c = 0; c < chunks; ++c) sum += partial_CxD[c * D + i];
    dscale_D[i] += static_cast<float>(sum);
  }
}

VarP rmsnorm(Tape& tape, const VarP& x, const VarP& scale) {
  ScopedTimer timer(OpKind::norm_rope);

  SG_CHECK(scale->value.rank() == 1, "rmsnorm: scale has shape ", shape_str(scale->value.shape()),
           ", expected [D]");
  const int64_t D = scale->value.dim(0);
  SG_CHECK(x->value.rank() >= 1 && x->value.dim(-1) == D, "rmsnorm: x has shape ",
           shape_str(x->value.shape()), ", expected [..., ", D, "] to match scale ",
           shape_str(scale->value.shape()));
  const int64_t N = x->value.numel() / std::max<int64_t>(D, 1);
  VarP y = make_var(Tensor::empty(x->value.shape()), tape.needs_grad(x, scale));
  Tensor rstd_N = Tensor::empty({N});
  rmsnorm_forward(y->value.data(), rstd_N.data(), x->value.data(), scale->value.data(), N, D);
  if (y->requires_grad)
    tape.record_backward(OpKind::norm_rope, y, [x, scale, y, rstd_N, N, D] {
      rmsnorm_backward(x->grad_if_needed(), scale->grad_if_needed(), y->grad.data(),
                       x->value.data(), scale->value.data(), rstd_N.data(), N, D);
    });
  return y;
}

}  // namespace sg
