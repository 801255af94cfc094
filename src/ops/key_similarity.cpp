// Scaled similarity of per-group queries with a table of keys (the key_value and
// product_key_value routers, spec §2.2); forward and backward side by side.
// Legend: N tokens, G groups, M keys per group, Kd d_key.
#include "ops/key_similarity.h"

#include "ops/linear.h"
#include "util/error.h"
#include "util/profiler.h"

namespace sg {

// Per group: copy q's columns out into a contiguous [N, Kd] block so the matmul runs
// through the shared linear kernels, then copy the result back strided.
VarP key_similarity(Tape& tape, const VarP& q_NxGKd, const VarP& keys_GxMxKd, float scale) {
  ScopedTimer timer(OpKind::routing);
  const Tensor& keys = keys_GxMxKd->value;
  SG_CHECK(keys.rank() >= 3, "key_similarity: keys have shape ", shape_str(keys.shape()),
           ", expected [..., M, Kd]");
  const int64_t M = keys.dim(-2), Kd = keys.dim(-1), G = keys.numel() / (M * Kd);
  const int64_t N = q_NxGKd->value.dim(0);
  check_shape("key_similarity", "q", q_NxGKd->value.shape(), {N, G * Kd});
  VarP sim = make_var(Tensor::empty({N, G * M}), tape.needs_grad(q_NxGKd, keys_GxMxKd));
  Tensor qg = Tensor::empty({N, Kd}), sg_ = Tensor::empty({N, M});
  for (int64_t g = 0; g < G; ++g) {
    const float* q = q_NxGKd->value.data();
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < Kd; ++d) qg[n * Kd + d] = q[n * G * Kd + g * Kd + d];
    linear_forward(sg_.data(), qg.data(), keys.data() + g * M * Kd, N, Kd, M);
    float* out = sim->value.data();
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) out[n * G * M + g * M + m] = scale * sg_[n * M + m];
  }
  if (sim->requires_grad)
    tape.record_backward(OpKind::routing, sim, [q_NxGKd, keys_GxMxKd, sim, N, G, M, Kd, scale] {
      const float *q = q_NxGKd->value.data(), *dsim = sim->grad.data();
      float* dq = q_NxGKd->grad_if_needed();
      float* dkeys = keys_GxMxKd->grad_if_needed();
      Tensor qg = Tensor::empty({N, Kd}), dqg = Tensor::empty({N, Kd}), dsg = Tensor::empty({N, M});
      for (int64_t g = 0; g < G; ++g) {
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; ++n) {
          for (int64_t d = 0; d < Kd; ++d) qg[n * Kd + d] = q[n * G * Kd + g * Kd + d];
          for (int64_t m = 0; m < M; ++m) dsg[n * M + m] = scale * dsim[n * G * M + g * M + m];
        }
        linear_backward(dq ? dqg.data() : nullptr, dkeys ? dkeys + g * M * Kd : nullptr, dsg.data(),
                        qg.data(), keys_GxMxKd->value.data() + g * M * Kd, N, Kd, M,
                        /*accumulate_dx=*/false);
        if (!dq) continue;
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t d = 0; d < Kd; ++d) dq[n * G * Kd + g * Kd + d] += dqg[n * Kd + d];
      }
    });
  return sim;
}

}  // namespace sg
