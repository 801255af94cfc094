// Exact k-nearest-neighbour graphs (see knn.h). Gating: an inverted index from
// (channel, neuron) to the tokens that picked it, so each token only visits tokens it
// shares a pick with. Embeddings: one Gram matmul of the normalised rows.
#include "eval/knn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/linear.h"
#include "util/error.h"

namespace sg {

namespace {

// Keeps the k smallest (distance, id) of row `i` (itself excluded) into the graph.
void keep_nearest(KnnGraph& g, int64_t i, std::vector<std::pair<float, int32_t>>& cand) {
  const size_t keep = std::min<size_t>(cand.size(), static_cast<size_t>(g.k));
  std::partial_sort(cand.begin(), cand.begin() + keep, cand.end());
  for (size_t j = 0; j < keep; ++j) {
    g.ids_NxK[i * g.k + j] = cand[j].second;
    g.distances_NxK[i * g.k + j] = cand[j].first;
  }
}

KnnGraph empty_graph(int64_t N, int64_t k) {
  SG_CHECK(0 < k && k < N, "knn: k = ", k, " neighbours need more than k of ", N, " points");
  return {N, k, std::vector<int32_t>(N * k), std::vector<float>(N * k)};
}

}  // namespace

KnnGraph gating_knn(const int32_t* idx_NxCxK, int64_t N, int64_t C, int64_t K, int64_t M,
                    int64_t k) {
  KnnGraph g = empty_graph(N, k);
  std::vector<std::vector<int32_t>> postings(C * M);
  for (int64_t t = 0; t < N; ++t)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < K; ++j) {
        const int32_t n = idx_NxCxK[(t * C + c) * K + j];
        SG_CHECK(0 <= n && n < M, "knn: token ", t, " picks neuron ", n, " outside [0, ", M, ")");
        postings[c * M + n].push_back(static_cast<int32_t>(t));
      }
  const float picks = static_cast<float>(C * K);
#pragma omp parallel
  {
    std::vector<int32_t> shared(N, 0);
    std::vector<std::pair<float, int32_t>> cand;
#pragma omp for schedule(dynamic, 64)
    for (int64_t t = 0; t < N; ++t) {
      for (int64_t c = 0; c < C; ++c)
        for (int64_t j = 0; j < K; ++j)
          for (int32_t u : postings[c * M + idx_NxCxK[(t * C + c) * K + j]]) ++shared[u];
      // Every token is a candidate: those sharing nothing sit at distance 1.
      cand.clear();
      for (int64_t u = 0; u < N; ++u) {
        if (u != t)
          cand.push_back({1.0f - static_cast<float>(shared[u]) / picks, static_cast<int32_t>(u)});
        shared[u] = 0;
      }
      keep_nearest(g, t, cand);
    }
  }
  return g;
}

KnnGraph cosine_knn(const float* X_NxD, int64_t N, int64_t D, int64_t k) {
  KnnGraph g = empty_graph(N, k);
  std::vector<float> unit(N * D), gram(N * N);
  for (int64_t i = 0; i < N; ++i) {
    double ss = 0;
    for (int64_t d = 0; d < D; ++d) ss += static_cast<double>(X_NxD[i * D + d]) * X_NxD[i * D + d];
    const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
    for (int64_t d = 0; d < D; ++d) unit[i * D + d] = X_NxD[i * D + d] * inv;
  }
  {
    MatmulPrecisionScope fp32(MatmulPrecision::fp32);
    linear_forward(gram.data(), unit.data(), unit.data(), N, D, N);
  }
#pragma omp parallel
  {
    std::vector<std::pair<float, int32_t>> cand;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < N; ++i) {
      cand.clear();
      for (int64_t j = 0; j < N; ++j)
        if (j != i) cand.push_back({1.0f - gram[i * N + j], static_cast<int32_t>(j)});
      keep_nearest(g, i, cand);
    }
  }
  return g;
}

}  // namespace sg
