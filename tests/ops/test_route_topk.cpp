// Routing top-K ops (spec §2.2): picks against brute force in double, ties included;
// gradients against central differences of the double reference.
#include "ops/route_topk.h"

#include <algorithm>
#include <numeric>

#include "nn/ffw_ref.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("product_topk_row: equals brute-force top-K over all nk*nk sums, ties included") {
  // nk up to 64 takes the vectorised half top-K, 65 the generic one.
  const std::vector<std::pair<int64_t, int64_t>> sizes{{3, 2},  {5, 4},  {7, 3}, {17, 16},
                                                       {32, 8}, {64, 8}, {65, 5}};
  for (const auto& [nk, K] : sizes)
    for (uint32_t seed = 0; seed < 20; ++seed) {
      CAPTURE(nk);
      CAPTURE(seed);
      // Odd seeds draw from {0, 1, 2}: many exact ties, which must go to the lower index.
      Vec v = random_vec(2 * nk, seed);
      if (seed % 2)
        for (double& x : v) x = std::floor((x + 1) * 1.5);
      const Tensor s = to_tensor({2 * nk}, v);
      std::vector<float> vals(K);
      std::vector<int32_t> idx(K);
      product_topk_row(s.data(), s.data() + nk, nk, K, vals.data(), idx.data());
      std::vector<Pick> all;  // sums formed in fp32 exactly as the router does
      for (int64_t a = 0; a < nk; ++a)
        for (int64_t b = 0; b < nk; ++b)
          all.push_back({static_cast<double>(s[a] + s[nk + b]), static_cast<int>(a * nk + b)});
      Margin unused;
      const auto want = topk_ref(all, K, unused);
      for (int64_t k = 0; k < K; ++k) {
        CHECK(idx[k] == want[k].idx);
        CHECK(vals[k] == static_cast<float>(want[k].score));
      }
    }
}

namespace {

// sum_e w[e] * (score of pick e), picks by brute force in double: sort all candidates
// by (value desc, index asc). `cand(row)` lists a row's (value, id) candidates.
struct RefPicks {
  Vec scores;
  std::vector<int> idx;
};
RefPicks ref_picks(int64_t rows, int64_t K, const std::function<std::vector<Pick>(int64_t)>& cand) {
  RefPicks r;
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<Pick> c = cand(row);
    std::stable_sort(c.begin(), c.end(), [](const Pick& a, const Pick& b) {
      return a.score > b.score || (a.score == b.score && a.idx < b.idx);
    });
    for (int64_t k = 0; k < K; ++k) {
      r.scores.push_back(c[k].score);
      r.idx.push_back(c[k].idx);
    }
  }
  return r;
}

}  // namespace

TEST_CASE("topk_route: picks match brute force, d logits matches central differences") {
  const int64_t N = 5, C = 3, E = 11, K = 4;
  // fp32-representable values, so the picked scores compare exactly; continuous, so the
  // gaps between them are far above the FD step.
  const Vec l0 = to_double(to_tensor({N * C * E}, random_vec(N * C * E, 31)));
  auto cand = [&](const Vec& l) {
    return [&l, E](int64_t row) {
      std::vector<Pick> c;
      for (int64_t e = 0; e < E; ++e) c.push_back({l[row * E + e], static_cast<int>(e)});
      return c;
    };
  };
  Tape tape;
  VarP logits = make_var(to_tensor({N, C * E}, l0), true);
  Routing r = topk_route(tape, logits, C, K);
  const RefPicks want = ref_picks(N * C, K, cand(l0));
  REQUIRE(r.idx_NxCxK.shape() == Shape{N, C, K});
  CHECK(std::vector<int>(r.idx_NxCxK.data(), r.idx_NxCxK.data() + r.idx_NxCxK.numel()) == want.idx);
  check_close(r.scores_NxCxK->value, want.scores, 0, 0, "scores");  // copies of the logits

  const Vec w = random_vec(N * C * K, 32);
  r.scores_NxCxK->grad = to_tensor({N, C, K}, w);
  tape.replay();
  auto loss = [&](const Vec& l) {
    const RefPicks p = ref_picks(N * C, K, cand(l));
    return std::inner_product(p.scores.begin(), p.scores.end(), w.begin(), 0.0);
  };
  // The exact gradient is a copy of w at the picked logits (zero elsewhere); central
  // differences of a piecewise-linear loss away from ties are exact up to ~1e-10.
  check_close(logits->grad, fd_grad(loss, l0), 0, 1e-6, "dlogits");
}

TEST_CASE("product_topk_route: picks match brute force over all pairs, d sub by differences") {
  const int64_t N = 4, C = 2, nk = 5, K = 3;
  const Vec s0 = random_vec(N * 2 * C * nk, 41);
  auto cand = [&](const Vec& s) {
    return [&s, C, nk](int64_t row) {  // row = n*C + c; halves at [n, 0, c, :] and [n, 1, c, :]
      const int64_t n = row / C, c = row % C;
      const double* h1 = &s[n * 2 * C * nk + c * nk];
      const double* h2 = h1 + C * nk;
      std::vector<Pick> out;
      for (int64_t a = 0; a < nk; ++a)
        for (int64_t b = 0; b < nk; ++b)
          out.push_back({static_cast<double>(static_cast<float>(h1[a]) + static_cast<float>(h2[b])),
                         static_cast<int>(a * nk + b)});
      return out;
    };
  };
  Tape tape;
  VarP sub = make_var(to_tensor({N, 2 * C * nk}, s0), true);
  Routing r = product_topk_route(tape, sub, C, K);
  const RefPicks want = ref_picks(N * C, K, cand(s0));
  REQUIRE(r.idx_NxCxK.shape() == Shape{N, C, K});
  CHECK(std::vector<int>(r.idx_NxCxK.data(), r.idx_NxCxK.data() + r.idx_NxCxK.numel()) == want.idx);
  // The sums are formed in fp32 exactly as the reference forms them.
  check_close(r.scores_NxCxK->value, want.scores, 0, 0, "scores");

  const Vec w = random_vec(N * C * K, 42);
  r.scores_NxCxK->grad = to_tensor({N, C, K}, w);
  tape.replay();
  auto loss = [&](const Vec& s) {  // sums in double here: the FD step is far below fp32
    RefPicks p = ref_picks(N * C, K, cand(s));
    double total = 0;
    for (int64_t e = 0; e < N * C * K; ++e) {
      const int64_t row = e / K, n = row / C, c = row % C, id = p.idx[e];
      const double* h1 = &s[n * 2 * C * nk + c * nk];
      total += w[e] * (h1[id / nk] + h1[C * nk + id % nk]);
    }
    return total;
  };
  check_close(sub->grad, fd_grad(loss, s0), 0, 1e-6, "dsub");
}

TEST_CASE("topk_route: NaN logits and shapes are named") {
  Tape tape;
  VarP l = make_var(Tensor::zeros({2, 6}), true);
  l->value[3] = std::nanf("");
  CHECK_THROWS_WITH_AS(topk_route(tape, l, 2, 2),
                       "topk_route: 1 of 12 router logits are NaN or infinite (the model diverged)",
                       Error);
  CHECK_THROWS_AS(product_topk_route(tape, make_var(Tensor::zeros({2, 7})), 2, 1), Error);
}
