// Nearest-neighbour graphs for the report maps against brute force over all pairs.
#include "eval/knn.h"

#include <doctest/doctest.h>

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "test_util.h"

using namespace sg;

TEST_CASE("knn: gating neighbours are the tokens sharing the most picks") {
  const int64_t N = 60, C = 2, K = 3, M = 8, k = 5;
  std::mt19937 gen(7);
  std::vector<int32_t> idx;
  for (int64_t t = 0; t < N * C; ++t) {
    std::vector<int32_t> all = {0, 1, 2, 3, 4, 5, 6, 7};
    std::shuffle(all.begin(), all.end(), gen);
    idx.insert(idx.end(), all.begin(), all.begin() + K);
  }
  const KnnGraph g = gating_knn(idx.data(), N, C, K, M, k);
  for (int64_t t = 0; t < N; ++t) {
    std::vector<std::pair<double, int64_t>> ref;
    for (int64_t u = 0; u < N; ++u) {
      if (u == t) continue;
      int shared = 0;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < K; ++i)
          for (int64_t j = 0; j < K; ++j)
            shared += idx[(t * C + c) * K + i] == idx[(u * C + c) * K + j];
      ref.push_back({1.0 - shared / double(C * K), u});
    }
    std::sort(ref.begin(), ref.end());
    for (int64_t j = 0; j < k; ++j) {
      CHECK(g.ids_NxK[t * k + j] == ref[j].second);
      CHECK(g.distances_NxK[t * k + j] == doctest::Approx(ref[j].first));
    }
  }
}

TEST_CASE("knn: cosine neighbours of embedding rows") {
  const int64_t N = 30, D = 6, k = 4;
  const auto X = test::random_vec(N * D, 9);
  const std::vector<float> xf(X.begin(), X.end());
  const KnnGraph g = cosine_knn(xf.data(), N, D, k);
  for (int64_t i = 0; i < N; ++i) {
    std::vector<std::pair<double, int64_t>> ref;
    for (int64_t j = 0; j < N; ++j) {
      if (j == i) continue;
      double dot = 0, a = 0, b = 0;
      for (int64_t d = 0; d < D; ++d)
        dot += X[i * D + d] * X[j * D + d], a += X[i * D + d] * X[i * D + d],
            b += X[j * D + d] * X[j * D + d];
      ref.push_back({1 - dot / std::sqrt(a * b), j});
    }
    std::sort(ref.begin(), ref.end());
    for (int64_t j = 0; j < k; ++j) {
      CHECK(g.ids_NxK[i * k + j] == ref[j].second);
      CHECK(g.distances_NxK[i * k + j] == doctest::Approx(ref[j].first).epsilon(1e-5));
    }
  }
  CHECK_THROWS_WITH_AS(cosine_knn(xf.data(), N, D, N), doctest::Contains("k = 30"), Error);
}
