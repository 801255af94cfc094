// mlp, swiglu and moe layers (spec §2.1, §2.3, §2.4) against double references.
#include "ffw_ref.h"

using namespace sg;
using namespace sg::test;

namespace {

FfwConfig dense_cfg(const std::string& type, int64_t F, const std::string& act = "identity") {
  FfwConfig f;
  f.type = type;
  f.d_ffw = F;
  f.activation = act;
  return f;
}

}  // namespace

TEST_CASE("mlp: gelu by default and explicit activations, forward and gradients") {
  const int64_t D = 7, F = 11, N = 5;
  // Two chained fp32 dot products of length <= 11 with O(1) terms: roundoff ~1e-6.
  for (const auto& [cfg_act, used] : std::vector<std::pair<std::string, std::string>>{
           {"identity", "gelu"}, {"gelu", "gelu"}, {"relu", "relu"}, {"swish", "swish"}}) {
    CAPTURE(cfg_act);
    const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
      return mlp_ref(P, x, N, D, F, used, m);
    };
    check_layer_reseeding(dense_cfg("mlp", F, cfg_act), D, N, 1.0, ref, 1e-4, 1e-5);
  }
}

TEST_CASE("swiglu: forward and gradients, inside and beyond the clamp") {
  const int64_t D = 5, F = 9, N = 7;
  const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
    return swiglu_ref(P, x, N, D, F, m);
  };
  SUBCASE("unclamped") {
    // fp32 chains of two dot products of length <= 9, O(1) values: roundoff ~1e-6.
    const LayerCheck c = check_layer_reseeding(dense_cfg("swiglu", F), D, N, 1.0, ref, 1e-4, 1e-5);
    CHECK(c.clamped == 0);
  }
  SUBCASE("clamped") {
    // x in [-15, 15] drives many pre-activations past +-7 (asserted below); values
    // reach ~50, so the error budget scales with them: rtol 1e-4, atol 1e-4.
    const LayerCheck c = check_layer_reseeding(dense_cfg("swiglu", F), D, N, 15.0, ref, 1e-4, 1e-4);
    CHECK(c.clamped > 5);
  }
}

TEST_CASE("moe: forward and gradients, softmax over all experts, grouped experts") {
  const int64_t D = 5, F = 3, E = 5, K = 2, N = 9;
  FfwConfig cfg = dense_cfg("moe", F);
  cfg.n_channels = E;
  cfg.knn = K;
  const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
    return moe_ref(P, x, N, D, F, E, K, m);
  };
  SUBCASE("unclamped") {
    // Gate, two GLU matmuls and the softmax mix, all O(1), lengths <= 6: roundoff ~1e-6.
    check_layer_reseeding(cfg, D, N, 1.0, ref, 1e-4, 1e-5);
  }
  SUBCASE("clamped") {
    // As for swiglu: large inputs exercise the clamp; values up to ~50.
    const LayerCheck c = check_layer_reseeding(cfg, D, N, 15.0, ref, 1e-4, 1e-4);
    CHECK(c.clamped > 5);
  }
}

TEST_CASE("moe: pick counts per expert sum to tokens * knn") {
  FfwConfig cfg = dense_cfg("moe", 4);
  cfg.n_channels = 6;
  cfg.knn = 2;
  ParamStore ps;
  auto layer = make_feedforward(cfg, 8, "ffn", ps, 2);
  Tape tape;
  layer->forward(tape, make_var(to_tensor({33, 8}, random_vec(33 * 8, 3))));
  const auto counts = layer->pick_counts();
  REQUIRE(counts.size() == 6u);
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  CHECK(total == 33 * 2);
}

TEST_CASE("feedforward: unknown type and bad input shape are named") {
  ParamStore ps;
  CHECK_THROWS_WITH_AS(make_feedforward(dense_cfg("conv", 8), 4, "layers.1.ffn", ps, 0),
                       "layers.1.ffn: unknown ffw type 'conv' (allowed: mlp, swiglu, moe, peer, "
                       "sgatlin)",
                       Error);
  auto layer = make_feedforward(dense_cfg("mlp", 8), 4, "ffn", ps, 0);
  Tape tape;
  CHECK_THROWS_WITH_AS(layer->forward(tape, make_var(Tensor::zeros({3, 5}))),
                       "mlp: x has shape [3, 5], expected [N, 4]", Error);
}
