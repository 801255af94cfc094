// Legend: N rows, F hidden width.
#include "ops/glu.h"

#include <algorithm>

#include "ops/activation.h"
#include "util/profiler.h"

namespace sg {

void glu_forward(float* h_NxF, const float* z_Nx2F, int64_t N, int64_t F) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      const float g = std::min(z_Nx2F[n * 2 * F + f], kGluLimit);
      const float l = std::clamp(z_Nx2F[n * 2 * F + F + f], -kGluLimit, kGluLimit);
      h_NxF[n * F + f] = g * sigmoidf(kGluAlpha * g) * (l + 1);
    }
}

void glu_backward(float* dz_Nx2F, const float* dh_NxF, const float* z_Nx2F, int64_t N, int64_t F) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      const float graw = z_Nx2F[n * 2 * F + f], lraw = z_Nx2F[n * 2 * F + F + f];
      const float g = std::min(graw, kGluLimit), l = std::clamp(lraw, -kGluLimit, kGluLimit);
      const float sig = sigmoidf(kGluAlpha * g), dh = dh_NxF[n * F + f];
      if (graw <= kGluLimit)
        dz_Nx2F[n * 2 * F + f] += dh * (l + 1) * sig * (1 + kGluAlpha * g * (1 - sig));
      if (lraw >= -kGluLimit && lraw <= kGluLimit) dz_Nx2F[n * 2 * F + F + f] += dh * g * sig;
    }
}

VarP glu(Tape& tape, const VarP& z) {
  ScopedTimer timer(OpKind::elementwise);

  const int64_t F2 = z->value.dim(-1);
  SG_CHECK(F2 % 2 == 0, "glu: z has shape ", shape_str(z->value.shape()),
           ", expected an even last dimension [..., 2F]");
  const int64_t F = F2 / 2, N = z->value.numel() / F2;
  Shape out = z->value.shape();
  out.back() = F;
  VarP h = make_var(Tensor::empty(out), tape.needs_grad(z));
  glu_forward(h->value.data(), z->value.data(), N, F);
  if (h->requires_grad)
    tape.record_backward(OpKind::elementwise, h, [z, h, N, F] {
      glu_backward(z->grad_or_zeros().data(), h->grad.data(), z->value.data(), N, F);
    });
  return h;
}

}  // namespace sg
