// Routers (spec §2.2): scores and indices against brute force in double, gradients into
// the router parameters, validation errors. The top-K ops themselves:
// tests/ops/test_route_topk.cpp.
#include "ffw_ref.h"
#include "nn/routers/router.h"

using namespace sg;
using namespace sg::test;

namespace {

// D 7, E 25 (nk 5) for the product routers, E 13 for the others; C 3, K 3, Kd 5.
SparseDims dims_for(const std::string& type) {
  return {7, type.rfind("product", 0) == 0 ? 25 : 13, 3, 3, 5};
}

}  // namespace

TEST_CASE(
    "routers: scores and indices match brute force, score gradients match finite differences") {
  const int64_t N = 6;
  for (const std::string type : {"product_dense", "product_key_value", "key_value", "dense"}) {
    CAPTURE(type);
    const SparseDims s = dims_for(type);
    bool done = false;
    for (uint32_t seed = 1; seed < 50 && !done; ++seed) {
      ParamStore ps;
      auto router = make_router(type, {s.D, s.E, s.C, s.K, s.Kd}, "ffn", ps, seed);
      const Tensor xt = to_tensor({N, s.D}, random_vec(N * s.D, seed));
      const Vec x = to_double(xt);
      Params P;
      for (const auto& p : ps.all()) P[p.name.substr(4)] = to_double(p.var->value);
      // scores of all tokens flattened [N, C, K], in the router's order.
      auto ref_scores = [&](const Params& Pp, const Vec& xx, Margin& m, std::vector<int>* idx) {
        Vec out;
        for (int64_t n = 0; n < N; ++n)
          for (const auto& picks : route_ref(type, Pp, &xx[n * s.D], s, m))
            for (const Pick& p : picks) {
              out.push_back(p.score);
              if (idx) idx->push_back(p.idx);
            }
        return out;
      };
      Margin m;
      std::vector<int> want_idx;
      const Vec want = ref_scores(P, x, m, &want_idx);
      if (m.min < kMinMargin) continue;
      done = true;

      Tape tape;
      VarP xv = make_var(xt, true);
      Routing r = router->route(tape, xv);
      REQUIRE(r.idx_NxCxK.shape() == Shape{N, s.C, s.K});
      CHECK(std::vector<int>(r.idx_NxCxK.data(), r.idx_NxCxK.data() + r.idx_NxCxK.numel()) ==
            want_idx);
      // Two chained fp32 matmuls of length <= 7 with O(1) terms: roundoff ~1e-6.
      check_close(r.scores_NxCxK->value, want, 1e-4, 1e-5, "scores");

      const Vec w = random_vec(want.size(), seed + 100);
      r.scores_NxCxK->grad_or_zeros();
      for (size_t i = 0; i < w.size(); ++i) r.scores_NxCxK->grad[i] = static_cast<float>(w[i]);
      tape.replay();
      auto loss = [&](const Params& Pp, const Vec& xx) {
        Margin unused;
        const Vec sc = ref_scores(Pp, xx, unused, nullptr);
        return dotd(sc.data(), w.data(), sc.size());
      };
      check_close(xv->grad, fd_grad([&](const Vec& v) { return loss(P, v); }, x), 1e-4, 1e-5, "dx");
      for (const auto& p : ps.all()) {
        const std::string key = p.name.substr(4);
        const Vec g = fd_grad(
            [&](const Vec& v) {
              Params Q = P;
              Q[key] = v;
              return loss(Q, x);
            },
            P[key]);
        check_close(p.var->grad, g, 1e-4, 1e-5, p.name.c_str());
      }
      // Pick counts of this forward: every (token, channel) contributes K picks.
      std::vector<int64_t> counts(s.C * s.E, 0);
      for (size_t i = 0; i < want_idx.size(); ++i) ++counts[(i / s.K) % s.C * s.E + want_idx[i]];
      CHECK(router->pick_counts() == counts);
    }
    CHECK_MESSAGE(done, "no seed away from top-K ties");
  }
}

TEST_CASE("routers: parameter names and shapes follow spec §7") {
  const RouterDims d{7, 25, 3, 3, 5};
  auto shapes = [&](const std::string& type) {
    ParamStore ps;
    make_router(type, d, "layers.2.ffn", ps, 0);
    std::vector<std::pair<std::string, Shape>> out;
    for (const auto& p : ps.all()) out.push_back({p.name, p.var->value.shape()});
    return out;
  };
  using V = std::vector<std::pair<std::string, Shape>>;
  CHECK(shapes("product_dense") == V{{"layers.2.ffn.router.w_key.weight", {5, 7}},
                                     {"layers.2.ffn.router.w_sub.weight", {30, 5}}});
  CHECK(shapes("product_key_value") == V{{"layers.2.ffn.router.queries.weight", {30, 7}},
                                         {"layers.2.ffn.router.keys", {2, 3, 5, 5}}});
  CHECK(shapes("key_value") == V{{"layers.2.ffn.router.queries.weight", {15, 7}},
                                 {"layers.2.ffn.router.keys", {3, 25, 5}}});
  CHECK(shapes("dense") == V{{"layers.2.ffn.router.w_key.weight", {5, 7}},
                             {"layers.2.ffn.router.w_experts.weight", {75, 5}}});
}

TEST_CASE("routers: invalid dimensions are rejected with context") {
  ParamStore ps;
  CHECK_THROWS_WITH_AS(make_router("product_dense", {8, 1000, 2, 4, 4}, "layers.0.ffn", ps, 0),
                       "layers.0.ffn: product router needs d_ffw (neurons N) to be a perfect "
                       "square, got 1000",
                       Error);
  CHECK_THROWS_WITH_AS(make_router("product_key_value", {8, 64, 2, 8, 4}, "layers.0.ffn", ps, 0),
                       "layers.0.ffn: product router needs knn < sqrt(N) = 8, got knn = 8", Error);
  CHECK_THROWS_WITH_AS(make_router("dense", {8, 5, 2, 6, 4}, "layers.0.ffn", ps, 0),
                       "layers.0.ffn: router dense picks knn = 6 of only d_ffw = 5 neurons", Error);
  CHECK_THROWS_WITH_AS(make_router("hash", {8, 16, 2, 2, 4}, "layers.0.ffn", ps, 0),
                       "layers.0.ffn: unknown router_type 'hash' (allowed: product_dense, "
                       "product_key_value, key_value, dense)",
                       Error);
}
