#include "ops/topk.h"

#include <algorithm>
#include <numeric>

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// Brute force: stable sort of indices by descending value keeps equal values in index order.
static std::vector<int32_t> topk_ref(const float* x, int64_t n, int64_t k) {
  std::vector<int32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
  idx.resize(k);
  return idx;
}

TEST_CASE("topk: hand-derived ties go to the lower index") {
  Tensor x = Tensor::from({1, 5}, {1, 3, 2, 3, 3});
  Tensor vals;
  IntTensor idx;
  topk(x, 3, vals, idx);
  CHECK(idx.shape() == Shape{1, 3});
  for (int64_t j = 0; j < 3; ++j) {
    CHECK(vals[j] == 3);
    CHECK(idx[j] == std::vector<int32_t>{1, 3, 4}[j]);
  }
}

TEST_CASE("topk: matches a brute-force sort with many ties, k = 1, 5 and n") {
  const int64_t rows = 6, n = 37;
  Tensor x = Tensor::empty({2, 3, n});
  std::mt19937 gen(9);
  for (int64_t i = 0; i < rows * n; ++i) x[i] = static_cast<float>(gen() % 7) - 3;  // ties
  for (int64_t k : {int64_t{1}, int64_t{5}, n}) {
    Tensor vals;
    IntTensor idx;
    topk(x, k, vals, idx);
    REQUIRE(idx.shape() == Shape{2, 3, k});
    for (int64_t r = 0; r < rows; ++r) {
      const auto want = topk_ref(x.data() + r * n, n, k);
      for (int64_t j = 0; j < k; ++j) {
        CHECK(idx[r * k + j] == want[j]);
        CHECK(vals[r * k + j] == x[r * n + want[j]]);
      }
    }
  }
}

TEST_CASE("topk: k outside [1, n] is an error") {
  Tensor x = Tensor::zeros({2, 4});
  Tensor vals;
  IntTensor idx;
  CHECK_THROWS_WITH_AS(topk(x, 0, vals, idx),
                       "topk: k = 0 must be in [1, 4] for input shape [2, 4]", Error);
  CHECK_THROWS_AS(topk(x, 5, vals, idx), Error);
}
