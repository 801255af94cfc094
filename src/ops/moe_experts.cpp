// Legend: N tokens, D d_model, E experts, F hidden width, K experts per token,
// R = N*K routed rows, grouped by expert (expert e owns rows [start[e], start[e+1])).
#include "ops/moe_experts.h"

#include <cmath>

#include "ops/bias.h"
#include "ops/glu.h"
#include "ops/linear.h"
#include "ops/topk.h"
#include "util/profiler.h"

namespace sg {

namespace {

// y_nxO = x_nxI @ w_e^T for expert e's [O, I] slice in the weights' precision.
void expert_forward(float* y, const float* x, const MoeWeights& w, bool second, int64_t e,
                    int64_t n, int64_t I, int64_t O) {
  const int64_t off = e * O * I;
  const bf16* w16 = second ? w.w2_16 : w.w1_16;
  if (w16)
    linear_forward_bf16(y, x, w16 + off, n, I, O);
  else
    linear_forward(y, x, (second ? w.w2 : w.w1) + off, n, I, O);
}
void expert_backward(float* dx, float* dw, const float* dy, const float* x, const MoeWeights& w,
                     bool second, int64_t e, int64_t n, int64_t I, int64_t O) {
  const int64_t off = e * O * I;
  const bf16* w16 = second ? w.w2_16 : w.w1_16;
  if (w16)
    linear_backward_bf16(dx, dw, dy, x, w16 + off, n, I, O);
  else
    linear_backward(dx, dw, dy, x, (second ? w.w2 : w.w1) + off, n, I, O);
}

}  // namespace

void moe_experts_forward(float* y_NxD, MoeSaved& s, const float* x_NxD, const float* logits_NxE,
                         const MoeWeights& w, const float* b1_Ex2F, const float* b2_ExD) {
  const float *b1 = b1_Ex2F, *b2 = b2_ExD;
  const int64_t N = s.N, D = s.D, E = s.E, F = s.F, K = s.K;
  float* p = s.probs_NxE.data();
  int32_t* top = s.top_NxK.data();
  std::vector<float> topv(N * K);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* l = logits_NxE + n * E;
    float mx = l[0], sum = 0;
    for (int64_t e = 1; e < E; ++e) mx = std::max(mx, l[e]);
    for (int64_t e = 0; e < E; ++e) sum += (p[n * E + e] = std::exp(l[e] - mx));
    for (int64_t e = 0; e < E; ++e) p[n * E + e] /= sum;
    topk_row(l, E, K, topv.data() + n * K, top + n * K);
  }
  // Counting sort of (n, j) by expert keeps tokens in order within an expert.
  s.start.assign(E + 1, 0);
  s.pos.resize(N * K);
  for (int64_t i = 0; i < N * K; ++i) ++s.start[top[i] + 1];
  for (int64_t e = 0; e < E; ++e) s.start[e + 1] += s.start[e];
  std::vector<int64_t> fill(s.start.begin(), s.start.end() - 1);
  for (int64_t i = 0; i < N * K; ++i) s.pos[i] = fill[top[i]]++;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N * K; ++i)
    for (int64_t d = 0; d < D; ++d) s.xg_RxD[s.pos[i] * D + d] = x_NxD[(i / K) * D + d];
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = s.start[e], ne = s.start[e + 1] - r0;
    if (ne == 0) continue;
    float *z = s.z_Rx2F.data() + r0 * 2 * F, *h = s.h_RxF.data() + r0 * F,
          *o = s.o_RxD.data() + r0 * D;
    expert_forward(z, s.xg_RxD.data() + r0 * D, w, false, e, ne, D, 2 * F);
    bias_forward(z, z, b1 + e * 2 * F, ne, 2 * F);
    glu_forward(h, z, ne, F);
    expert_forward(o, h, w, true, e, ne, F, D);
    bias_forward(o, o, b2 + e * D, ne, D);
  }
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* y = y_NxD + n * D;
    for (int64_t d = 0; d < D; ++d) y[d] = 0;
    for (int64_t j = 0; j < K; ++j) {
      const float w = p[n * E + top[n * K + j]];
      const float* o = s.o_RxD.data() + s.pos[n * K + j] * D;
      for (int64_t d = 0; d < D; ++d) y[d] += w * o[d];
    }
  }
}

void moe_experts_backward(float* dx_NxD, float* dlogits_NxE, float* dw1_Ex2FxD, float* db1_Ex2F,
                          float* dw2_ExDxF, float* db2_ExD, const float* dy_NxD, const MoeSaved& s,
                          const MoeWeights& w) {
  float *dw1 = dw1_Ex2FxD, *db1 = db1_Ex2F, *dw2 = dw2_ExDxF, *db2 = db2_ExD;
  const int64_t N = s.N, D = s.D, E = s.E, F = s.F, K = s.K, R = N * K;
  const float* p = s.probs_NxE.data();
  const int32_t* top = s.top_NxK.data();
  Tensor do_RxD = Tensor::empty({R, D});
  // Mixing weights: y = sum_j p_{e_j} o_j, so dp_{e_j} = <dy, o_j> and through the
  // softmax dlogit_e = p_e (dp_e - sum_j p_{e_j} dp_{e_j}) (dp is zero off the top-K).
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* dy = dy_NxD + n * D;
    float pdp = 0;
    std::vector<float> dp(K);
    for (int64_t j = 0; j < K; ++j) {
      const int64_t r = s.pos[n * K + j];
      const float w = p[n * E + top[n * K + j]];
      float acc = 0;
      for (int64_t d = 0; d < D; ++d) {
        acc += dy[d] * s.o_RxD[r * D + d];
        do_RxD[r * D + d] = w * dy[d];
      }
      dp[j] = acc;
      pdp += w * acc;
    }
    if (!dlogits_NxE) continue;
    for (int64_t e = 0; e < E; ++e) dlogits_NxE[n * E + e] -= p[n * E + e] * pdp;
    for (int64_t j = 0; j < K; ++j)
      dlogits_NxE[n * E + top[n * K + j]] += p[n * E + top[n * K + j]] * dp[j];
  }
  Tensor dh_RxF = Tensor::zeros({R, F}), dz_Rx2F = Tensor::zeros({R, 2 * F});
  Tensor dxg_RxD = Tensor::zeros({R, D});
  for (int64_t e = 0; e < E; ++e) {
    const int64_t r0 = s.start[e], ne = s.start[e + 1] - r0;
    if (ne == 0) continue;
    const float* dout = do_RxD.data() + r0 * D;
    float *dh = dh_RxF.data() + r0 * F, *dz = dz_Rx2F.data() + r0 * 2 * F;
    if (db2) bias_backward(db2 + e * D, dout, ne, D);
    expert_backward(dh, dw2 ? dw2 + e * D * F : nullptr, dout, s.h_RxF.data() + r0 * F, w, true, e,
                    ne, F, D);
    glu_backward(dz, dh, s.z_Rx2F.data() + r0 * 2 * F, ne, F);
    if (db1) bias_backward(db1 + e * 2 * F, dz, ne, 2 * F);
    expert_backward(dx_NxD ? dxg_RxD.data() + r0 * D : nullptr, dw1 ? dw1 + e * 2 * F * D : nullptr,
                    dz, s.xg_RxD.data() + r0 * D, w, false, e, ne, D, 2 * F);
  }
  if (!dx_NxD) return;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < K; ++j)
      for (int64_t d = 0; d < D; ++d) dx_NxD[n * D + d] += dxg_RxD[s.pos[n * K + j] * D + d];
}

VarP moe_experts(Tape& tape, const VarP& x_NxD, const VarP& logits_NxE, const VarP& w1,
                 const VarP& b1, const VarP& w2, const VarP& b2, int64_t K,
                 std::vector<int64_t>& counts_E) {
  ScopedTimer timer(OpKind::experts);
  SG_CHECK(w1->value.rank() == 3, "moe_experts: w1 has shape ", shape_str(w1->value.shape()),
           ", expected [E, 2F, D]");
  const int64_t E = w1->value.dim(0), F = w1->value.dim(1) / 2, D = w1->value.dim(2);
  const int64_t N = x_NxD->value.dim(0);
  check_shape("moe_experts", "x", x_NxD->value.shape(), {N, D});
  check_shape("moe_experts", "logits", logits_NxE->value.shape(), {N, E});
  check_shape("moe_experts", "w1", w1->value.shape(), {E, 2 * F, D});
  check_shape("moe_experts", "b1", b1->value.shape(), {E, 2 * F});
  check_shape("moe_experts", "w2", w2->value.shape(), {E, D, F});
  check_shape("moe_experts", "b2", b2->value.shape(), {E, D});
  SG_CHECK(1 <= K && K <= E, "moe_experts: knn = ", K, " must be in [1, ", E, "]");

  auto s = std::make_shared<MoeSaved>();
  const int64_t R = N * K;
  *s = MoeSaved{N,
                D,
                E,
                F,
                K,
                Tensor::empty({N, E}),
                Tensor::empty({R, D}),
                Tensor::empty({R, 2 * F}),
                Tensor::empty({R, F}),
                Tensor::empty({R, D}),
                IntTensor::empty({N, K}),
                {},
                {}};
  VarP y = make_var(Tensor::empty({N, D}), tape.needs_grad(x_NxD, logits_NxE, w1, b1, w2, b2));
  // bf16: the expert weights are read through their bf16 copies (once per optimizer step).
  const bool bf16 = matmul_precision() == MatmulPrecision::bf16;
  auto weights = [=] {
    return MoeWeights{w1->value.data(), w2->value.data(), bf16 ? w1->bf16_value() : nullptr,
                      bf16 ? w2->bf16_value() : nullptr};
  };
  moe_experts_forward(y->value.data(), *s, x_NxD->value.data(), logits_NxE->value.data(), weights(),
                      b1->value.data(), b2->value.data());
  counts_E.assign(E, 0);
  for (int64_t e = 0; e < E; ++e) counts_E[e] = s->start[e + 1] - s->start[e];
  if (y->requires_grad)
    tape.record_backward(OpKind::experts, y, [=] {
      const MatmulPrecisionScope scope(bf16 ? MatmulPrecision::bf16 : MatmulPrecision::fp32);
      moe_experts_backward(x_NxD->grad_if_needed(), logits_NxE->grad_if_needed(),
                           w1->grad_if_needed(), b1->grad_if_needed(), w2->grad_if_needed(),
                           b2->grad_if_needed(), y->grad.data(), *s, weights());
    });
  return y;
}

}  // namespace sg
