// Legend: N tokens, D d_model, C channels, K picks per channel, E neurons per table,
// P tables; a "row" is one neuron's vector w[t, i, :] of length D.
#include "ops/sparse_experts.h"

#include <cmath>
#include <vector>

namespace sg {

namespace {

inline float dot(const float* a, const float* b, int64_t D) {
  float acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t d = 0; d < D; ++d) acc += a[d] * b[d];
  return acc;
}

inline void axpy(float* y, float a, const float* x, int64_t D) {
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) y[d] += a * x[d];
}

// Row offset (in rows) of entry e = (n*C + c)*K + k.
inline int64_t row_of(const SparseExpertsDims& m, const int32_t* idx, int64_t e) {
  const int64_t c = (e / m.K) % m.C;
  return (m.P == 1 ? 0 : c) * m.E + idx[e];
}

// Stable softmax of s[0..K) into p.
inline void softmax_k(const float* s, float* p, int64_t K) {
  float mx = s[0];
  for (int64_t k = 1; k < K; ++k) mx = std::max(mx, s[k]);
  float sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += (p[k] = std::exp(s[k] - mx));
  for (int64_t k = 0; k < K; ++k) p[k] /= sum;
}

}  // namespace

void sparse_experts_forward(float* y_NxD, float* h_NxCxK, const float* x_NxD, const float* s_NxCxK,
                            const int32_t* idx_NxCxK, const float* win_PxExD,
                            const float* wout_PxExD, const SparseExpertsDims& m, Activation act,
                            ExpertGate gate) {
  const int64_t D = m.D, K = m.K;
#pragma omp parallel
  {
    std::vector<float> p(K);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < m.N; ++n) {
      const float* x = x_NxD + n * D;
      float* y = y_NxD + n * D;
      for (int64_t d = 0; d < D; ++d) y[d] = 0;
      for (int64_t c = 0; c < m.C; ++c) {
        const int64_t e0 = (n * m.C + c) * K;
        for (int64_t k = 0; k < K; ++k)
          h_NxCxK[e0 + k] = dot(x, win_PxExD + row_of(m, idx_NxCxK, e0 + k) * D, D);
        if (gate == ExpertGate::softmax_post_activation) softmax_k(s_NxCxK + e0, p.data(), K);
        for (int64_t k = 0; k < K; ++k) {
          const int64_t e = e0 + k;
          const float z = gate == ExpertGate::pre_activation
                              ? act_forward(act, s_NxCxK[e] * h_NxCxK[e])
                              : p[k] * act_forward(act, h_NxCxK[e]);
          axpy(y, z, wout_PxExD + row_of(m, idx_NxCxK, e) * D, D);
        }
      }
    }
  }
}

void sparse_experts_backward(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD, float* dwout_PxExD,
                             const float* dy_NxD, const float* h_NxCxK, const float* x_NxD,
                             const float* s_NxCxK, const int32_t* idx_NxCxK,
                             const float* win_PxExD, const float* wout_PxExD,
                             const SparseExpertsDims& m, Activation act, ExpertGate gate) {
  const int64_t D = m.D, K = m.K, n_entries = m.N * m.C * K;
  // Per entry: dh = dL/dh (towards x and w_in) and z (the coefficient of w_out).
  std::vector<float> dh(n_entries), z(n_entries);

  // 1. Per token (owns its dx row and score grads): gate backward, then dx.
#pragma omp parallel
  {
    std::vector<float> p(K), dz(K);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < m.N; ++n) {
      const float* dy = dy_NxD + n * D;
      for (int64_t c = 0; c < m.C; ++c) {
        const int64_t e0 = (n * m.C + c) * K;
        const float *s = s_NxCxK + e0, *h = h_NxCxK + e0;
        for (int64_t k = 0; k < K; ++k)
          dz[k] = dot(dy, wout_PxExD + row_of(m, idx_NxCxK, e0 + k) * D, D);
        if (gate == ExpertGate::pre_activation) {
          for (int64_t k = 0; k < K; ++k) {
            const float a = s[k] * h[k], da = dz[k] * act_grad(act, a);
            z[e0 + k] = act_forward(act, a);
            dh[e0 + k] = da * s[k];
            if (ds_NxCxK) ds_NxCxK[e0 + k] += da * h[k];
          }
        } else {
          softmax_k(s, p.data(), K);
          float pdp = 0;  // sum_j p_j dp_j, dp_j = dz_j * act(h_j)
          for (int64_t k = 0; k < K; ++k) pdp += p[k] * dz[k] * act_forward(act, h[k]);
          for (int64_t k = 0; k < K; ++k) {
            const float ah = act_forward(act, h[k]);
            z[e0 + k] = p[k] * ah;
            dh[e0 + k] = dz[k] * p[k] * act_grad(act, h[k]);
            if (ds_NxCxK) ds_NxCxK[e0 + k] += p[k] * (dz[k] * ah - pdp);
          }
        }
      }
      if (dx_NxD)
        for (int64_t e = n * m.C * K; e < (n + 1) * m.C * K; ++e)
          axpy(dx_NxD + n * D, dh[e], win_PxExD + row_of(m, idx_NxCxK, e) * D, D);
    }
  }
  if (!dwin_PxExD && !dwout_PxExD) return;

  // 2. Group entries by table row (counting sort keeps entry order within a row), so
  //    each row's gradient is one thread's sum in a fixed order: no races, no
  //    per-thread [P, E, D] buffers, bit-identical run to run.
  const int64_t n_rows = m.P * m.E;
  std::vector<int64_t> start(n_rows + 1, 0), order(n_entries);
  for (int64_t e = 0; e < n_entries; ++e) ++start[row_of(m, idx_NxCxK, e) + 1];
  for (int64_t r = 0; r < n_rows; ++r) start[r + 1] += start[r];
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t e = 0; e < n_entries; ++e) order[fill[row_of(m, idx_NxCxK, e)]++] = e;
  }
  // 3. Rows in parallel; dynamic scheduling balances uneven pick counts and cannot
  //    change results since a row's sum never depends on which thread runs it.
  const int64_t CK = m.C * K;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t j = start[r]; j < start[r + 1]; ++j) {
      const int64_t e = order[j], n = e / CK;
      if (dwin_PxExD) axpy(dwin_PxExD + r * D, dh[e], x_NxD + n * D, D);
      if (dwout_PxExD) axpy(dwout_PxExD + r * D, z[e], dy_NxD + n * D, D);
    }
}

VarP sparse_experts(Tape& tape, const VarP& x_NxD, const VarP& scores_NxCxK,
                    const IntTensor& idx_NxCxK, const VarP& w_in, const VarP& w_out,
                    Activation act, ExpertGate gate) {
  const Shape& ss = scores_NxCxK->value.shape();
  SG_CHECK(ss.size() == 3, "sparse_experts: scores have shape ", shape_str(ss),
           ", expected [N, C, K]");
  const int64_t N = ss[0], C = ss[1], K = ss[2];
  const Tensor& wi = w_in->value;
  SG_CHECK(wi.rank() == 2 || (wi.rank() == 3 && wi.dim(0) == C), "sparse_experts: w_in has shape ",
           shape_str(wi.shape()), ", expected [", C, ", E, D] or [E, D]");
  const int64_t P = wi.rank() == 3 ? C : 1, E = wi.dim(-2), D = wi.dim(-1);
  check_shape("sparse_experts", "w_out", w_out->value.shape(), wi.shape());
  check_shape("sparse_experts", "x", x_NxD->value.shape(), {N, D});
  check_shape("sparse_experts", "idx", idx_NxCxK.shape(), ss);
  const SparseExpertsDims m{N, D, C, K, E, P};
  const int32_t* idx = idx_NxCxK.data();
  for (int64_t e = 0; e < N * C * K; ++e)
    SG_CHECK(0 <= idx[e] && idx[e] < E, "sparse_experts: index ", idx[e], " at entry ", e,
             " outside [0, ", E, ")");

  VarP y = make_var(Tensor::empty({N, D}), tape.needs_grad(x_NxD, scores_NxCxK, w_in, w_out));
  Tensor h = Tensor::empty({N, C, K});
  sparse_experts_forward(y->value.data(), h.data(), x_NxD->value.data(),
                         scores_NxCxK->value.data(), idx, wi.data(), w_out->value.data(), m, act,
                         gate);
  if (y->requires_grad)
    tape.record([=] {
      if (!y->has_grad()) return;
      auto grad_of = [](const VarP& v) { return v->requires_grad ? v->grad_or_zeros().data() : nullptr; };
      sparse_experts_backward(grad_of(x_NxD), grad_of(scores_NxCxK), grad_of(w_in), grad_of(w_out),
                              y->grad.data(), h.data(), x_NxD->value.data(),
                              scores_NxCxK->value.data(), idx_NxCxK.data(), w_in->value.data(),
                              w_out->value.data(), m, act, gate);
    });
  return y;
}

}  // namespace sg
