// Linear CKA (see cka.h). The gating side works on pick lists: with column sums a and b
// and the co-pick counts n_ij (examples picking column i of A and column j of B),
// ||Ac^T Bc||_F^2 = sum_ij (n_ij - a_i b_j / N)^2, expanded so that only nonzero n_ij are
// visited, one (channel of A, channel of B) block of M x M counts at a time.
#include "eval/cka.h"

#include <cmath>

#include "util/error.h"

namespace sg {

namespace {

std::vector<double> centred(const std::vector<double>& X, int64_t n, int64_t p) {
  std::vector<double> mean(p, 0.0), Xc = X;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j) mean[j] += X[i * p + j];
  for (auto& m : mean) m /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j) Xc[i * p + j] -= mean[j];
  return Xc;
}

// ||A^T B||_F^2 for A [n, p], B [n, q].
double cross_sq(const std::vector<double>& A, int64_t p, const std::vector<double>& B, int64_t q,
                int64_t n) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int64_t i = 0; i < p; ++i) {
    std::vector<double> row(q, 0.0);
    for (int64_t t = 0; t < n; ++t) {
      const double a = A[t * p + i];
      if (a == 0) continue;
      for (int64_t j = 0; j < q; ++j) row[j] += a * B[t * q + j];
    }
    for (double v : row) total += v * v;
  }
  return total;
}

// ||Gc^T Xc||_F^2 = ||G^T Xc||_F^2 (Xc's columns sum to 0): rows of Xc summed per column of G.
double picks_dense_sq(const PickMatrix& G, const std::vector<double>& Xc, int64_t p) {
  std::vector<double> acc(G.C * G.M * p, 0.0);
  for (int64_t t = 0; t < G.N; ++t)
    for (int64_t c = 0; c < G.C; ++c)
      for (int64_t k = 0; k < G.K; ++k) {
        double* row = acc.data() + (c * G.M + G.idx_NxCxK[(t * G.C + c) * G.K + k]) * p;
        for (int64_t j = 0; j < p; ++j) row[j] += Xc[t * p + j];
      }
  double total = 0;
  for (double v : acc) total += v * v;
  return total;
}

std::vector<double> column_sums(const PickMatrix& G) {
  std::vector<double> s(G.C * G.M, 0.0);
  for (int64_t t = 0; t < G.N; ++t)
    for (int64_t c = 0; c < G.C; ++c)
      for (int64_t k = 0; k < G.K; ++k) s[c * G.M + G.idx_NxCxK[(t * G.C + c) * G.K + k]] += 1;
  return s;
}

// ||Ac^T Bc||_F^2 for two pick matrices (see the file comment).
double picks_picks_sq(const PickMatrix& A, const PickMatrix& B) {
  const std::vector<double> a = column_sums(A), b = column_sums(B);
  const double n = static_cast<double>(A.N);
  double total = 0;
#pragma omp parallel for collapse(2) reduction(+ : total) schedule(dynamic)
  for (int64_t ca = 0; ca < A.C; ++ca)
    for (int64_t cb = 0; cb < B.C; ++cb) {
      std::vector<int32_t> count(A.M * B.M, 0);
      std::vector<int64_t> touched;
      for (int64_t t = 0; t < A.N; ++t)
        for (int64_t i = 0; i < A.K; ++i) {
          const int64_t ni = A.idx_NxCxK[(t * A.C + ca) * A.K + i];
          for (int64_t j = 0; j < B.K; ++j) {
            const int64_t cell = ni * B.M + B.idx_NxCxK[(t * B.C + cb) * B.K + j];
            if (count[cell]++ == 0) touched.push_back(cell);
          }
        }
      double s = 0;
      for (int64_t cell : touched) {
        const double nij = count[cell];
        s += nij * nij - 2 * nij * a[ca * A.M + cell / B.M] * b[cb * B.M + cell % B.M] / n;
      }
      total += s;
    }
  double sa = 0, sb = 0;
  for (double v : a) sa += v * v;
  for (double v : b) sb += v * v;
  return total + sa * sb / (n * n);
}

void check_picks(const PickMatrix& G, int64_t n, const char* what) {
  SG_CHECK(G.N == n, "cka: ", what, " has ", G.N, " examples, expected ", n);
  SG_CHECK(G.N > 1, "cka: needs at least 2 examples, got ", G.N);
  for (int64_t i = 0; i < G.N * G.C * G.K; ++i)
    SG_CHECK(0 <= G.idx_NxCxK[i] && G.idx_NxCxK[i] < G.M, "cka: ", what, " picks neuron ",
             G.idx_NxCxK[i], " outside [0, ", G.M, ")");
}

double ratio(double xy, double xx, double yy) {
  const double denom = std::sqrt(xx) * std::sqrt(yy);
  return denom > 0 ? xy / denom : 0.0;  // a constant representation shares nothing
}

}  // namespace

double linear_cka(const std::vector<double>& X, int64_t p, const std::vector<double>& Y,
                  int64_t q) {
  SG_CHECK(p > 0 && q > 0 && X.size() % p == 0 && Y.size() % q == 0 && X.size() / p == Y.size() / q,
           "cka: X [", X.size(), " values / ", p, "] and Y [", Y.size(), " / ", q,
           "] must hold the same number of rows");
  const int64_t n = static_cast<int64_t>(X.size()) / p;
  const std::vector<double> Xc = centred(X, n, p), Yc = centred(Y, n, q);
  return ratio(cross_sq(Xc, p, Yc, q, n), cross_sq(Xc, p, Xc, p, n), cross_sq(Yc, q, Yc, q, n));
}

double linear_cka_picks(const std::vector<double>& X, int64_t p, const PickMatrix& Y) {
  SG_CHECK(p > 0 && static_cast<int64_t>(X.size()) == Y.N * p, "cka: X holds ", X.size(),
           " values, expected ", Y.N, " x ", p);
  check_picks(Y, Y.N, "gating");
  const std::vector<double> Xc = centred(X, Y.N, p);
  return ratio(picks_dense_sq(Y, Xc, p), cross_sq(Xc, p, Xc, p, Y.N), picks_picks_sq(Y, Y));
}

double linear_cka_picks(const PickMatrix& A, const PickMatrix& B) {
  check_picks(A, A.N, "first gating");
  check_picks(B, A.N, "second gating");
  return ratio(picks_picks_sq(A, B), picks_picks_sq(A, A), picks_picks_sq(B, B));
}

}  // namespace sg
