// Neuron lens against double-precision loops over every (neuron, token).
#include "eval/lens.h"

#include <doctest/doctest.h>

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_util.h"

using namespace sg;

namespace {

std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Ids of the k largest (or smallest) of `row` in double precision, id asc on ties.
std::vector<int32_t> ref_topk(const std::vector<double>& row, int64_t k, bool largest) {
  std::vector<int32_t> o(row.size());
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](int32_t a, int32_t b) {
    return largest ? row[a] > row[b] : row[a] < row[b];
  });
  o.resize(k);
  return o;
}

}  // namespace

TEST_CASE("lens: top/bottom output tokens and top input tokens match double loops") {
  const int64_t N = 6, D = 16, V = 40, k = 5;
  const auto w_in = test::random_vec(N * D, 1), w_out = test::random_vec(N * D, 2),
             E = test::random_vec(V * D, 3), g = test::random_vec(D, 4, 0.5, 1.5),
             f = test::random_vec(D, 5, 0.5, 1.5);
  const auto wi = as_float(w_in), wo = as_float(w_out), e = as_float(E), gf = as_float(g),
             ff = as_float(f);
  const NeuronLens lens =
      neuron_lens(wi.data(), wo.data(), N, e.data(), V, D, gf.data(), ff.data(), k);
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> out(V), in(V);
    for (int64_t v = 0; v < V; ++v) {
      double ms = 0;
      for (int64_t d = 0; d < D; ++d) ms += double(e[v * D + d]) * e[v * D + d];
      const double rstd = 1.0 / std::sqrt(ms / D + 1e-6);
      for (int64_t d = 0; d < D; ++d) {
        out[v] += double(wo[n * D + d]) * e[v * D + d] * gf[d];
        in[v] += double(wi[n * D + d]) * e[v * D + d] * rstd * ff[d];
      }
    }
    const auto top = ref_topk(out, k, true), bottom = ref_topk(out, k, false),
               itop = ref_topk(in, k, true);
    for (int64_t j = 0; j < k; ++j) {
      CHECK(lens.out_top.ids_NxK[n * k + j] == top[j]);
      CHECK(lens.out_top.values_NxK[n * k + j] == doctest::Approx(out[top[j]]).epsilon(1e-4));
      CHECK(lens.out_bottom.ids_NxK[n * k + j] == bottom[j]);
      CHECK(lens.out_bottom.values_NxK[n * k + j] == doctest::Approx(out[bottom[j]]).epsilon(1e-4));
      CHECK(lens.in_top.ids_NxK[n * k + j] == itop[j]);
      CHECK(lens.in_top.values_NxK[n * k + j] == doctest::Approx(in[itop[j]]).epsilon(1e-4));
    }
  }
}

TEST_CASE("lens: top-k breaks ties by the lower token id and rejects k outside [1, V]") {
  const std::vector<float> row = {1, 3, 3, 0, 3, 0};
  const LensTopK top = row_topk(row.data(), 1, 6, 3, true);
  CHECK(top.ids_NxK == std::vector<int32_t>{1, 2, 4});
  const LensTopK bottom = row_topk(row.data(), 1, 6, 2, false);
  CHECK(bottom.ids_NxK == std::vector<int32_t>{3, 5});
  CHECK_THROWS_WITH_AS(row_topk(row.data(), 1, 6, 7, true), doctest::Contains("k = 7"), Error);
}
