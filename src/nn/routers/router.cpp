// Shared router machinery: pick counting, the factory, and the differentiable top-K
// and key-similarity ops (forward and backward side by side).
// Legend: N tokens, C channels, E neurons per channel, K picks, nk = sqrt(E),
// G groups, M keys per group, Kd d_key.
#include "nn/routers/router.h"

#include <array>
#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ops/linear.h"
#include "ops/topk.h"
#include "util/profiler.h"

namespace sg {

Routing Router::route(Tape& tape, const VarP& x_NxD) {
  SG_CHECK(x_NxD->value.rank() == 2 && x_NxD->value.dim(1) == dims_.d_model, "router: x has shape ",
           shape_str(x_NxD->value.shape()), ", expected [N, ", dims_.d_model, "]");
  Routing r = compute(tape, x_NxD);
  r.scores_NxCxK = apply_routing_hook(tape, hook_, r.scores_NxCxK, r.idx_NxCxK, "router");
  const int64_t E = dims_.n_neurons, C = dims_.n_channels, K = dims_.knn;
  counts_.assign(static_cast<size_t>(C * E), 0);
  const int64_t rows = r.idx_NxCxK.numel() / K;  // (token, channel) pairs
  const int32_t* idx = r.idx_NxCxK.data();
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t k = 0; k < K; ++k) ++counts_[(row % C) * E + idx[row * K + k]];
  return r;
}

std::unique_ptr<Router> make_router(const std::string& type, const RouterDims& dims,
                                    const std::string& prefix, ParamStore& params, uint64_t seed) {
  SG_CHECK(dims.knn >= 1 && dims.n_channels >= 1 && dims.d_key >= 1 && dims.n_neurons >= 1, prefix,
           ": router ", type, " needs knn, n_channels, d_key, d_ffw >= 1 (got knn ", dims.knn,
           ", n_channels ", dims.n_channels, ", d_key ", dims.d_key, ", d_ffw ", dims.n_neurons,
           ")");
  if (type == "product_dense") return make_product_dense_router(dims, prefix, params, seed);
  if (type == "product_key_value") return make_product_key_value_router(dims, prefix, params, seed);
  SG_CHECK(dims.knn <= dims.n_neurons, prefix, ": router ", type, " picks knn = ", dims.knn,
           " of only d_ffw = ", dims.n_neurons, " neurons");
  if (type == "key_value") return make_key_value_router(dims, prefix, params, seed);
  if (type == "dense") return make_dense_router(dims, prefix, params, seed);
  fail(prefix, ": unknown router_type '", type,
       "' (allowed: product_dense, product_key_value, key_value, dense)");
}

int64_t product_side(const RouterDims& dims, const std::string& who) {
  const int64_t E = dims.n_neurons;
  int64_t nk = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(E))));
  SG_CHECK(nk * nk == E, who,
           ": product router needs d_ffw (neurons N) to be a perfect square, got ", E);
  SG_CHECK(dims.knn < nk, who, ": product router needs knn < sqrt(N) = ", nk,
           ", got knn = ", dims.knn);
  return nk;
}

namespace {

constexpr int64_t kMaxK = 64;  // bounds the on-stack half top-K buffers

// (v, i) ranks before (w, j): higher score, or equal score and lower index.
inline bool ranks_before(float v, int32_t i, float w, int32_t j) {
  return v > w || (v == w && i < j);
}

// Top-K of s[0..n) ranked by (value desc, index asc), the order topk_row gives.
// With AVX-512 and n <= 64 (sgatlin's nk is a few dozen) each element's rank is
// counted with mask compares and it is stored straight at its rank, branch-free;
// insertion (topk_row, used for longer rows) mispredicts on nearly every insert.
void half_topk(const float* s, int64_t n, int64_t K, float* vals_K1, int32_t* idx_K1) {
#if defined(__AVX512F__)
  if (n <= 64) {
    const int nq = static_cast<int>((n + 15) / 16);
    __m512 v[4];
    __mmask16 valid[4];
    for (int q = 0; q < nq; ++q) {
      const int64_t left = n - 16 * q;
      valid[q] = left >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << left) - 1);
      v[q] = _mm512_maskz_loadu_ps(valid[q], s + 16 * q);
    }
    for (int64_t i = 0; i < n; ++i) {
      const __m512 b = _mm512_set1_ps(s[i]);
      int rank = 0;
      for (int q = 0; q < nq; ++q) {
        const int64_t below = i - 16 * q;  // lanes with index < i rank first on ties
        const __mmask16 lower = below >= 16  ? 0xFFFF
                                : below <= 0 ? 0
                                             : static_cast<__mmask16>((1u << below) - 1);
        const __mmask16 gt = _mm512_mask_cmp_ps_mask(valid[q], v[q], b, _CMP_GT_OQ);
        const __mmask16 eq = _mm512_mask_cmp_ps_mask(valid[q] & lower, v[q], b, _CMP_EQ_OQ);
        rank += __builtin_popcount(static_cast<unsigned>(gt | eq));
      }
      const int64_t slot = rank < K ? rank : K;  // slot K is scratch
      vals_K1[slot] = s[i];
      idx_K1[slot] = static_cast<int32_t>(i);
    }
    return;
  }
#endif
  topk_row(s, n, K, vals_K1, idx_K1);
}

}  // namespace

void product_topk_row(const float* s1_nk, const float* s2_nk, int64_t nk, int64_t K, float* vals_K,
                      int32_t* idx_K) {
  SG_CHECK(K <= kMaxK, "product_topk: knn = ", K, " exceeds the supported ", kMaxK);
  std::array<float, kMaxK + 1> v1, v2;  // + 1: half_topk's scratch slot
  std::array<int32_t, kMaxK + 1> i1, i2;
  half_topk(s1_nk, nk, K, v1.data(), i1.data());
  half_topk(s2_nk, nk, K, v2.data(), i2.data());
  // Candidates are not visited in index order, so ties are broken explicitly. Both
  // halves are sorted descending and fp32 addition is monotone, so once a sum falls
  // strictly below the current K-th, every later b (and, at b = 0, every later a)
  // does too: stopping there visits exactly the candidates that could enter.
  int64_t filled = 0;
  for (int64_t a = 0; a < K; ++a)
    for (int64_t b = 0; b < K; ++b) {
      const float v = v1[a] + v2[b];
      const int32_t id = static_cast<int32_t>(i1[a] * nk + i2[b]);
      if (filled == K && v < vals_K[K - 1]) {
        if (b == 0) a = K;  // ends the outer loop too
        break;
      }
      if (filled == K && !ranks_before(v, id, vals_K[K - 1], idx_K[K - 1])) continue;
      int64_t j = filled < K ? filled++ : K - 1;
      while (j > 0 && ranks_before(v, id, vals_K[j - 1], idx_K[j - 1])) {
        vals_K[j] = vals_K[j - 1];
        idx_K[j] = idx_K[j - 1];
        --j;
      }
      vals_K[j] = v;
      idx_K[j] = id;
    }
}

// Top-K over NaN is undefined (every comparison is false), so a diverged model must
// stop here rather than route to garbage indices.
void check_finite_logits(const char* op, const Tensor& t) {
  const int64_t n = t.numel();
  const float* p = t.data();
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad)
  for (int64_t i = 0; i < n; ++i) bad += !std::isfinite(p[i]);
  SG_CHECK(bad == 0, op, ": ", bad, " of ", n, " router logits are NaN or infinite (the model diverged)");
}

namespace {

// Fresh routing outputs [N, C, K]; scores take part in autograd when `input` does.
Routing new_routing(Tape& tape, const VarP& input, int64_t N, int64_t C, int64_t K) {
  Routing r;
  r.scores_NxCxK = make_var(Tensor::empty({N, C, K}), tape.needs_grad(input));
  r.idx_NxCxK = IntTensor::empty({N, C, K});
  return r;
}

}  // namespace

Routing topk_route(Tape& tape, const VarP& logits_NxCE, int64_t C, int64_t K) {
  ScopedTimer timer(OpKind::routing);
  const Tensor& l = logits_NxCE->value;
  const int64_t N = l.dim(0), E = l.dim(1) / C, rows = N * C;
  check_shape("topk_route", "logits", l.shape(), {N, C * E});
  check_finite_logits("topk_route", l);
  Routing r = new_routing(tape, logits_NxCE, N, C, K);
  float* s = r.scores_NxCxK->value.data();
  int32_t* idx = r.idx_NxCxK.data();
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; ++row)
    topk_row(l.data() + row * E, E, K, s + row * K, idx + row * K);
  VarP scores = r.scores_NxCxK;
  IntTensor picked = r.idx_NxCxK;
  if (scores->requires_grad)
    tape.record([logits_NxCE, scores, picked, rows, E, K] {
      ScopedTimer timer(OpKind::routing);
      if (!scores->has_grad()) return;
      float* dl = logits_NxCE->grad_or_zeros().data();
      const float* ds = scores->grad.data();
      const int32_t* idx = picked.data();
#pragma omp parallel for schedule(static)
      for (int64_t row = 0; row < rows; ++row)
        for (int64_t k = 0; k < K; ++k) dl[row * E + idx[row * K + k]] += ds[row * K + k];
    });
  return r;
}

Routing product_topk_route(Tape& tape, const VarP& sub_Nx2Cnk, int64_t C, int64_t K) {
  ScopedTimer timer(OpKind::routing);
  const Tensor& sub = sub_Nx2Cnk->value;
  const int64_t N = sub.dim(0), nk = sub.dim(1) / (2 * C);
  check_shape("product_topk", "sub", sub.shape(), {N, 2 * C * nk});
  check_finite_logits("product_topk", sub);
  Routing r = new_routing(tape, sub_Nx2Cnk, N, C, K);
  float* s = r.scores_NxCxK->value.data();
  int32_t* idx = r.idx_NxCxK.data();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const float* half1 = sub.data() + n * 2 * C * nk + c * nk;
      product_topk_row(half1, half1 + C * nk, nk, K, s + (n * C + c) * K, idx + (n * C + c) * K);
    }
  VarP scores = r.scores_NxCxK;
  IntTensor picked = r.idx_NxCxK;
  if (scores->requires_grad)
    tape.record([sub_Nx2Cnk, scores, picked, N, C, K, nk] {
      ScopedTimer timer(OpKind::routing);
      if (!scores->has_grad()) return;
      float* dsub = sub_Nx2Cnk->grad_or_zeros().data();
      const float* ds = scores->grad.data();
      const int32_t* idx = picked.data();
      // Score = s1[id / nk] + s2[id % nk]: its gradient goes to both halves.
#pragma omp parallel for schedule(static)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t e = (n * C + c) * K + k, id = idx[e];
            float* half1 = dsub + n * 2 * C * nk + c * nk;
            half1[id / nk] += ds[e];
            half1[C * nk + id % nk] += ds[e];
          }
    });
  return r;
}

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
    tape.record([q_NxGKd, keys_GxMxKd, sim, N, G, M, Kd, scale] {
      ScopedTimer timer(OpKind::routing);
      if (!sim->has_grad()) return;
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
