// Scaling ladder against spec §6, every value worked out by hand.
#include <doctest/doctest.h>

#include "nn/counting.h"
#include "train/ladder.h"
#include "train/run_config.h"
#include "util/error.h"

using namespace sg;

TEST_CASE("ladder: shared shape d_model = 128 s, n_layers = 2 s, d_heads = 64") {
  for (const char* type : {"mlp", "swiglu", "moe", "peer", "sgatlin"})
    for (int64_t s : {1, 2, 3}) {
      const ModelConfig m = ladder_model(type, s, 4096);
      CHECK(m.d_model == 128 * s);
      CHECK(m.n_layers == 2 * s);
      CHECK(m.d_heads == 64);
      CHECK(m.vocab_size == 4096);
      CHECK(m.ffw.type == type);
      // Every rung is a valid config (e.g. K < sqrt(N) for the product routers).
      CHECK_NOTHROW(parse_model_config(to_json(m), "ladder"));
    }
}

TEST_CASE("ladder: mlp and swiglu F = floor(8/3 d_model / 256) * 256") {
  // s=1: 8/3*128 = 341.3 -> 1 x 256; s=2: 682.7 -> 2 x 256; s=3: 1024 exactly -> 4 x 256
  // (a float 8.0/3*384 can round below 1024); s=4: 1365.3 -> 5 x 256.
  const int64_t expected[] = {256, 512, 1024, 1280};
  for (const char* type : {"mlp", "swiglu"})
    for (int64_t s = 1; s <= 4; ++s) CHECK(ladder_model(type, s, 100).ffw.d_ffw == expected[s - 1]);
  CHECK(ladder_model("mlp", 1, 100).ffw.activation == "gelu");
}

TEST_CASE("ladder: moe F = d_model, 16 experts, top 2") {
  for (int64_t s = 1; s <= 3; ++s) {
    const FfwConfig f = ladder_model("moe", s, 100).ffw;
    CHECK(f.d_ffw == 128 * s);
    CHECK(f.n_channels == 16);
    CHECK(f.knn == 2);
  }
}

TEST_CASE("ladder: sgatlin N = (16+12s)^2 and peer N = (32+24s)^2, C 16, K 8, Kd 128") {
  const int64_t sgatlin_n[] = {28 * 28, 40 * 40, 52 * 52};  // 16+12s = 28, 40, 52
  const int64_t peer_n[] = {56 * 56, 80 * 80, 104 * 104};   // 32+24s = 56, 80, 104
  for (int64_t s = 1; s <= 3; ++s) {
    const FfwConfig g = ladder_model("sgatlin", s, 100).ffw, p = ladder_model("peer", s, 100).ffw;
    CHECK(g.d_ffw == sgatlin_n[s - 1]);
    CHECK(p.d_ffw == peer_n[s - 1]);
    for (const FfwConfig& f : {g, p}) {
      CHECK(f.n_channels == 16);
      CHECK(f.knn == 8);
      CHECK(f.d_key == 128);
    }
    CHECK(g.router_type == "product_dense");
    CHECK(g.activation == "identity");
    CHECK(p.router_type == "product_key_value");
  }
}

TEST_CASE("ladder: mlp scale 1 with vocabulary 4096 has 787328 parameters") {
  // embedding 4096*128 = 524288; per layer: wq,wk,wv,wo 4*128*128 = 65536, q/k norms
  // 2*64 = 128, two block norms 2*128 = 256, mlp 2*128*256 = 65536 -> 131456; two layers
  // 262912; final norm 128. Total 524288 + 262912 + 128 = 787328.
  CHECK(n_params(ladder_model("mlp", 1, 4096)) == 787328);
}

TEST_CASE("ladder: unknown type and scale 0 are rejected") {
  CHECK_THROWS_WITH_AS(ladder_model("glu", 1, 100),
                       doctest::Contains("unknown feedforward type 'glu'"), Error);
  CHECK_THROWS_WITH_AS(ladder_model("mlp", 0, 100), doctest::Contains("scale must be >= 1"), Error);
}
