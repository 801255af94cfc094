// sgatlin and peer layers (spec §2.2, §2.5) against the double references of ffw_ref.h.
#include <set>

#include "ffw_ref.h"
#include "nn/routers/router.h"
#include "ops/linear.h"
#include "ops/sparse_experts.h"

using namespace sg;
using namespace sg::test;

namespace {

// Odd small sizes: D 7, E 25 (nk 5), C 3, K 3 < nk, Kd 5, 5 tokens.
const SparseDims kDims{7, 25, 3, 3, 5};
constexpr int64_t kTokens = 5;

FfwConfig sparse_cfg(const std::string& type, const std::string& router, const std::string& act) {
  FfwConfig f;
  f.type = type;
  f.d_ffw = kDims.E;
  f.n_channels = kDims.C;
  f.knn = kDims.K;
  f.d_key = kDims.Kd;
  f.router_type = router;
  f.activation = act;
  return f;
}

// Every value here is O(1) and each output is a chain of at most three fp32 dot
// products of length <= 25: roundoff stays below ~1e-6 relative, finite differences
// in double (h = 1e-6) are good to ~1e-9; 1e-4 / 1e-5 leaves a wide margin.
constexpr double kRtol = 1e-4, kAtol = 1e-5;

void check_sgatlin_router(const std::string& router) {
  for (const char* act : {"identity", "gelu", "relu", "swish"}) {
    CAPTURE(act);
    const FfwConfig cfg = sparse_cfg("sgatlin", router, act);
    const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
      return sgatlin_ref(P, x, kTokens, kDims, router, act, m);
    };
    check_layer_reseeding(cfg, kDims.D, kTokens, 1.0, ref, kRtol, kAtol);
  }
}

}  // namespace

TEST_CASE("sgatlin: product_dense router, every activation, forward and gradients") {
  check_sgatlin_router("product_dense");
}
TEST_CASE("sgatlin: product_key_value router, every activation, forward and gradients") {
  check_sgatlin_router("product_key_value");
}
TEST_CASE("sgatlin: key_value router, every activation, forward and gradients") {
  check_sgatlin_router("key_value");
}
TEST_CASE("sgatlin: dense router, every activation, forward and gradients") {
  check_sgatlin_router("dense");
}

TEST_CASE("peer: forward and gradients vs double reference") {
  // "identity" in the config means the layer default, which is gelu for peer.
  const FfwConfig cfg = sparse_cfg("peer", "product_key_value", "identity");
  const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
    return peer_ref(P, x, kTokens, kDims, m);
  };
  check_layer_reseeding(cfg, kDims.D, kTokens, 1.0, ref, kRtol, kAtol);
}

TEST_CASE("sgatlin: pick counts match the routed indices of the last forward") {
  const FfwConfig cfg = sparse_cfg("sgatlin", "product_dense", "identity");
  ParamStore ps;
  auto layer = make_feedforward(cfg, kDims.D, "ffn", ps, 3);
  const int64_t N = 40;
  Tensor x = to_tensor({N, kDims.D}, random_vec(N * kDims.D, 9));
  Tape tape;
  layer->forward(tape, make_var(x));
  Params P;
  for (const auto& p : ps.all()) P[p.name.substr(4)] = to_double(p.var->value);
  const Vec xd = to_double(x);
  std::vector<int64_t> want(kDims.C * kDims.E, 0);
  Margin m;
  for (int64_t n = 0; n < N; ++n) {
    const auto picks = route_ref("product_dense", P, &xd[n * kDims.D], kDims, m);
    for (int64_t c = 0; c < kDims.C; ++c)
      for (const Pick& p : picks[c]) ++want[c * kDims.E + p.idx];
  }
  REQUIRE(m.min > 1e-5);  // fp32 and double routing agree away from ties
  CHECK(layer->pick_counts() == want);
}

TEST_CASE("peer: pick counts fold the heads onto the shared table") {
  const FfwConfig cfg = sparse_cfg("peer", "product_key_value", "gelu");
  ParamStore ps;
  auto layer = make_feedforward(cfg, kDims.D, "ffn", ps, 4);
  const int64_t N = 30;
  Tape tape;
  layer->forward(tape, make_var(to_tensor({N, kDims.D}, random_vec(N * kDims.D, 10))));
  const auto counts = layer->pick_counts();
  REQUIRE(counts.size() == static_cast<size_t>(kDims.E));
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  CHECK(total == N * kDims.C * kDims.K);
}

TEST_CASE("sgatlin, peer, moe: backward is bit-identical run to run, fp32 and bf16") {
  const int64_t N = 257, D = 32;
  for (MatmulPrecision prec : {MatmulPrecision::fp32, MatmulPrecision::bf16})
    for (const char* type : {"sgatlin", "peer", "moe"}) {
      CAPTURE(type);
      CAPTURE(prec == MatmulPrecision::bf16);
      const MatmulPrecisionScope scope(prec);
      FfwConfig cfg = sparse_cfg(type, "product_dense", "gelu");
      cfg.d_ffw = std::string(type) == "moe" ? 16 : 64;
      cfg.n_channels = 4;
      cfg.knn = 2;
      cfg.d_key = 16;
      auto grads = [&] {
        ParamStore ps;
        auto layer = make_feedforward(cfg, D, "ffn", ps, 5);
        Tape tape;
        VarP x = make_var(to_tensor({N, D}, random_vec(N * D, 11)), true);
        VarP y = layer->forward(tape, x);
        y->grad_or_zeros().fill(0.5f);
        tape.replay();
        std::vector<float> all(x->grad.data(), x->grad.data() + x->grad.numel());
        for (const auto& p : ps.all())
          all.insert(all.end(), p.var->grad.data(), p.var->grad.data() + p.var->grad.numel());
        return all;
      };
      CHECK(grads() == grads());
    }
}
