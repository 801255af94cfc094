// Differentiable routing top-K (spec §2.2): per (token, channel) the K best neurons of
// a row of logits, or of the nk*nk sums of two half-rows (product keys); forward and
// backward side by side. Gradients scatter from the picked scores back into the logits.
// Legend: N tokens, C channels, E neurons per channel, K picks, nk = sqrt(E).
#include "ops/route_topk.h"

#include <array>
#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ops/topk.h"
#include "util/error.h"
#include "util/profiler.h"

namespace sg {

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

namespace {

// Top-K over NaN is undefined (every comparison is false), so a diverged model must
// stop here rather than route to garbage indices.
void check_finite_logits(const char* op, const Tensor& t) {
  const int64_t n = t.numel();
  const float* p = t.data();
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad)
  for (int64_t i = 0; i < n; ++i) bad += !std::isfinite(p[i]);
  SG_CHECK(bad == 0, op, ": ", bad, " of ", n,
           " router logits are NaN or infinite (the model diverged)");
}

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
    tape.record_backward(OpKind::routing, scores, [logits_NxCE, scores, picked, rows, E, K] {
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
    tape.record_backward(OpKind::routing, scores, [sub_Nx2Cnk, scores, picked, N, C, K, nk] {
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

}  // namespace sg
