// Legend: N tokens, D d_model, C channels, K picks per channel, E neurons per table,
// P tables; a "row" is one neuron's vector w[t, i, :] of length D.
#include "ops/sparse_experts.h"

#include <cmath>
#include <vector>

namespace sg {

namespace {

// 64 independent partial sums (four 16-wide vectors) hide the FMA latency that a
// single running sum would serialise; the fixed combine order keeps it deterministic.
inline float dot(const float* a, const float* b, int64_t D) {
  constexpr int64_t W = 64;
  float acc[W] = {};
  int64_t d = 0;
  for (; d + W <= D; d += W)
#pragma omp simd
    for (int64_t j = 0; j < W; ++j) acc[j] += a[d + j] * b[d + j];
  for (; d < D; ++d) acc[d % W] += a[d] * b[d];
  for (int64_t w = W / 2; w > 0; w /= 2)
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

inline void axpy(float* y, float a, const float* x, int64_t D) {
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) y[d] += a * x[d];
}

// Gathered rows come from tables far larger than L2 and each is used once, so the
// loops are latency bound; prefetching the next entry's rows overlaps the misses.
inline void prefetch_row(const float* row, int64_t D) {
  for (int64_t d = 0; d < D; d += 16) __builtin_prefetch(row + d);
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
        for (int64_t k = 0; k < K; ++k) {
          if (e0 + k + 1 < m.N * m.C * K) {
            prefetch_row(win_PxExD + row_of(m, idx_NxCxK, e0 + k + 1) * D, D);
            prefetch_row(wout_PxExD + row_of(m, idx_NxCxK, e0 + k) * D, D);
          }
          h_NxCxK[e0 + k] = dot(x, win_PxExD + row_of(m, idx_NxCxK, e0 + k) * D, D);
        }
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

// Backward reads three gathered rows per entry (dy_n and x_n in the row pass, the
// w_in row in the token pass) instead of four, since the tables are larger than L2 and
// row traffic is what bounds this op.
void sparse_experts_backward(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD, float* dwout_PxExD,
                             const float* dy_NxD, const float* h_NxCxK, const float* x_NxD,
                             const float* s_NxCxK, const int32_t* idx_NxCxK, const float* win_PxExD,
                             const float* wout_PxExD, const SparseExpertsDims& m, Activation act,
                             ExpertGate gate) {
  const int64_t D = m.D, K = m.K, CK = m.C * K, n_entries = m.N * CK;
  const bool peer = gate == ExpertGate::softmax_post_activation;
  // peer's mixing weights p = softmax_k(s) per (token, channel).
  std::vector<float> p(peer ? n_entries : 0);
  if (peer) {
#pragma omp parallel for schedule(static)
    for (int64_t nc = 0; nc < m.N * m.C; ++nc) softmax_k(s_NxCxK + nc * K, p.data() + nc * K, K);
  }

  // 1. Group entries by table row (counting sort keeps entry order within a row), so
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

  // 2. Rows in parallel: dz = <dy_n, w_out row>, the per-entry gate backward
  //    (dh = dL/dh), and the row gradients. Dynamic scheduling balances uneven pick
  //    counts without changing results: a row's sums never depend on the thread.
  std::vector<float> dz(n_entries), dh(n_entries);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* wout = wout_PxExD + r * D;
    for (int64_t j = start[r]; j < start[r + 1]; ++j) {
      const int64_t e = order[j], n = e / CK;
      if (j + 1 < start[r + 1]) {
        prefetch_row(x_NxD + order[j + 1] / CK * D, D);
        prefetch_row(dy_NxD + order[j + 1] / CK * D, D);
      }
      const float* dy = dy_NxD + n * D;
      dz[e] = dot(dy, wout, D);
      float z;
      if (peer) {
        z = p[e] * act_forward(act, h_NxCxK[e]);
        dh[e] = dz[e] * p[e] * act_grad(act, h_NxCxK[e]);
      } else {
        const float a = s_NxCxK[e] * h_NxCxK[e];
        z = act_forward(act, a);
        dh[e] = dz[e] * act_grad(act, a) * s_NxCxK[e];
      }
      if (dwout_PxExD) axpy(dwout_PxExD + r * D, z, dy, D);
      if (dwin_PxExD) axpy(dwin_PxExD + r * D, dh[e], x_NxD + n * D, D);
    }
  }

  // 3. Tokens in parallel (each owns its dx row and score grads).
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < m.N; ++n) {
    if (ds_NxCxK)
      for (int64_t e0 = n * CK; e0 < (n + 1) * CK; e0 += K) {
        const float *s = s_NxCxK + e0, *h = h_NxCxK + e0;
        if (peer) {  // ds_k = p_k (dp_k - sum_j p_j dp_j), dp_k = dz_k act(h_k)
          float pdp = 0;
          for (int64_t k = 0; k < K; ++k) pdp += p[e0 + k] * dz[e0 + k] * act_forward(act, h[k]);
          for (int64_t k = 0; k < K; ++k)
            ds_NxCxK[e0 + k] += p[e0 + k] * (dz[e0 + k] * act_forward(act, h[k]) - pdp);
        } else {
          for (int64_t k = 0; k < K; ++k)
            ds_NxCxK[e0 + k] += dz[e0 + k] * act_grad(act, s[k] * h[k]) * h[k];
        }
      }
    if (dx_NxD)
      for (int64_t e = n * CK; e < (n + 1) * CK; ++e) {
        if (e + 1 < n_entries) prefetch_row(win_PxExD + row_of(m, idx_NxCxK, e + 1) * D, D);
        axpy(dx_NxD + n * D, dh[e], win_PxExD + row_of(m, idx_NxCxK, e) * D, D);
      }
  }
}

VarP sparse_experts(Tape& tape, const VarP& x_NxD, const VarP& scores_NxCxK,
                    const IntTensor& idx_NxCxK, const VarP& w_in, const VarP& w_out, Activation act,
                    ExpertGate gate) {
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
  sparse_experts_forward(y->value.data(), h.data(), x_NxD->value.data(), scores_NxCxK->value.data(),
                         idx, wi.data(), w_out->value.data(), m, act, gate);
  if (y->requires_grad)
    tape.record([=] {
      if (!y->has_grad()) return;
      auto grad_of = [](const VarP& v) {
        return v->requires_grad ? v->grad_or_zeros().data() : nullptr;
      };
      sparse_experts_backward(grad_of(x_NxD), grad_of(scores_NxCxK), grad_of(w_in), grad_of(w_out),
                              y->grad.data(), h.data(), x_NxD->value.data(),
                              scores_NxCxK->value.data(), idx_NxCxK.data(), w_in->value.data(),
                              w_out->value.data(), m, act, gate);
    });
  return y;
}

}  // namespace sg
