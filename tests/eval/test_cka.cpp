// Linear CKA against the kernel (HSIC) form computed with double loops, and its defining
// properties: 1 with itself, invariant to orthogonal maps, near 0 for independent data.
#include "eval/cka.h"

#include <doctest/doctest.h>

#include "util/error.h"

#include <cmath>
#include <random>

#include "test_util.h"

using namespace sg;

namespace {

// HSIC form: CKA = tr(Kc Lc) / sqrt(tr(Kc Kc) tr(Lc Lc)), K = X X^T, Kc = H K H.
double cka_kernel_loops(const std::vector<double>& X, int64_t p, const std::vector<double>& Y,
                        int64_t q) {
  const int64_t n = static_cast<int64_t>(X.size()) / p;
  auto gram = [n](const std::vector<double>& A, int64_t w) {
    std::vector<double> G(n * n, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t d = 0; d < w; ++d) G[i * n + j] += A[i * w + d] * A[j * w + d];
    // Double centring: subtract row and column means, add the grand mean.
    std::vector<double> row(n, 0.0);
    double all = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) row[i] += G[i * n + j] / n, all += G[i * n + j] / (n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) G[i * n + j] += all - row[i] - row[j];
    return G;
  };
  const auto K = gram(X, p), L = gram(Y, q);
  double kl = 0, kk = 0, ll = 0;
  for (int64_t i = 0; i < n * n; ++i) kl += K[i] * L[i], kk += K[i] * K[i], ll += L[i] * L[i];
  return kl / std::sqrt(kk * ll);
}

// Random orthogonal p x p matrix: Gram-Schmidt on random columns.
std::vector<double> random_orthogonal(int64_t p, uint32_t seed) {
  std::vector<double> Q = test::random_vec(p * p, seed);
  for (int64_t j = 0; j < p; ++j) {
    for (int64_t i = 0; i < j; ++i) {
      double dot = 0;
      for (int64_t r = 0; r < p; ++r) dot += Q[r * p + i] * Q[r * p + j];
      for (int64_t r = 0; r < p; ++r) Q[r * p + j] -= dot * Q[r * p + i];
    }
    double nrm = 0;
    for (int64_t r = 0; r < p; ++r) nrm += Q[r * p + j] * Q[r * p + j];
    for (int64_t r = 0; r < p; ++r) Q[r * p + j] /= std::sqrt(nrm);
  }
  return Q;
}

std::vector<double> matmul(const std::vector<double>& A, int64_t n, int64_t p,
                           const std::vector<double>& B, int64_t q) {
  std::vector<double> C(n * q, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < p; ++k)
      for (int64_t j = 0; j < q; ++j) C[i * q + j] += A[i * p + k] * B[k * q + j];
  return C;
}

// Random picks: each of N tokens picks K distinct of M neurons in each of C channels.
std::vector<int32_t> random_picks(int64_t N, int64_t C, int64_t K, int64_t M, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int32_t> idx;
  for (int64_t t = 0; t < N * C; ++t) {
    std::vector<int32_t> all(M);
    for (int64_t m = 0; m < M; ++m) all[m] = static_cast<int32_t>(m);
    std::shuffle(all.begin(), all.end(), gen);
    idx.insert(idx.end(), all.begin(), all.begin() + K);
  }
  return idx;
}

// The 0/1 gating matrix [N, C*M] written out.
std::vector<double> one_hot(const std::vector<int32_t>& idx, int64_t N, int64_t C, int64_t K,
                            int64_t M) {
  std::vector<double> Y(N * C * M, 0.0);
  for (int64_t t = 0; t < N; ++t)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < K; ++k) Y[t * C * M + c * M + idx[(t * C + c) * K + k]] = 1;
  return Y;
}

}  // namespace

TEST_CASE("cka: matches the kernel form computed with double loops") {
  const int64_t n = 30, p = 5, q = 7;
  const auto X = test::random_vec(n * p, 11);
  auto Y = test::random_vec(n * q, 12);
  for (int64_t i = 0; i < n; ++i) Y[i * q] += 2 * X[i * p];  // some shared structure
  const double want = cka_kernel_loops(X, p, Y, q);
  CHECK(want > 0.1);
  CHECK(linear_cka(X, p, Y, q) == doctest::Approx(want).epsilon(1e-12));
}

TEST_CASE(
    "cka: 1 with itself, invariant to orthogonal maps and scale, near 0 for independent data") {
  const int64_t n = 400, p = 6;
  const auto X = test::random_vec(n * p, 21);
  CHECK(linear_cka(X, p, X, p) == doctest::Approx(1.0).epsilon(1e-12));
  auto Y = test::random_vec(n * p, 22);
  for (int64_t i = 0; i < n * p; ++i) Y[i] += X[i];
  const double base = linear_cka(X, p, Y, p);
  std::vector<double> XQ = matmul(X, n, p, random_orthogonal(p, 23), p);
  for (double& v : XQ) v *= 3.5;
  CHECK(linear_cka(XQ, p, Y, p) == doctest::Approx(base).epsilon(1e-10));
  // Independent uniform data: E[CKA] ~ p*q/n-ish; far below structured values.
  const auto Z = test::random_vec(n * p, 24);
  CHECK(linear_cka(X, p, Z, p) < 0.05);
}

TEST_CASE("cka: gating form equals the dense form on the written-out 0/1 matrix") {
  const int64_t N = 50, C = 3, K = 2, M = 5, p = 4;
  const auto a = random_picks(N, C, K, M, 31), b = random_picks(N, C, K, M, 32);
  auto X = test::random_vec(N * p, 33);
  for (int64_t t = 0; t < N; ++t) X[t * p] += a[t * C * K];  // X knows a's first pick
  const PickMatrix A{a.data(), N, C, K, M}, B{b.data(), N, C, K, M};
  const auto Ya = one_hot(a, N, C, K, M), Yb = one_hot(b, N, C, K, M);
  CHECK(linear_cka_picks(X, p, A) == doctest::Approx(linear_cka(X, p, Ya, C * M)).epsilon(1e-10));
  CHECK(linear_cka_picks(A, B) == doctest::Approx(linear_cka(Ya, C * M, Yb, C * M)).epsilon(1e-10));
  CHECK(linear_cka_picks(A, A) == doctest::Approx(1.0).epsilon(1e-12));
  const std::vector<int32_t> bad(N * C * K, static_cast<int32_t>(M));
  CHECK_THROWS_WITH_AS(linear_cka_picks(A, PickMatrix{bad.data(), N, C, K, M}),
                       doctest::Contains("outside [0, 5)"), Error);
}
