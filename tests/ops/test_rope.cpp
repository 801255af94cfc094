#include "ops/rope.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// Spec §1 in double: angle[p, i] = p / 10000^(2i/Dh) tiled twice, out = x cos + rot(x) sin.
static std::vector<double> rope_ref(const std::vector<double>& x, int64_t B, int64_t T, int64_t H,
                                    int64_t Dh, int64_t offset) {
  std::vector<double> y(x.size());
  const int64_t Hf = Dh / 2;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t base = ((b * T + t) * H + h) * Dh;
        for (int64_t j = 0; j < Dh; ++j) {
          const double angle = (offset + t) / std::pow(10000.0, 2.0 * (j % Hf) / Dh);
          const double rot = j < Hf ? -x[base + j + Hf] : x[base + j - Hf];
          y[base + j] = x[base + j] * std::cos(angle) + rot * std::sin(angle);
        }
      }
  return y;
}

TEST_CASE("rope: hand-derived rotation for Dh = 4") {
  // Frequencies 1 and 1/100; position 3 (offset 2, t = 1). x = [a0, a1, b0, b1].
  Tape tape;
  VarP x = make_var(Tensor::from({1, 2, 1, 4}, {0, 0, 0, 0, 1, 2, 3, 4}));
  VarP y = rope(tape, x, 2);
  const double c0 = std::cos(3.0), s0 = std::sin(3.0), c1 = std::cos(0.03), s1 = std::sin(0.03);
  // [a0 c0 - b0 s0, a1 c1 - b1 s1, b0 c0 + a0 s0, b1 c1 + a1 s1]; |values| <= 5, so
  // fp32 cos/sin tables and three roundings of size <= 2.4e-7 each stay below 2e-6.
  check_close(y->value.rows(0, 1).reshape({8}),
              {0, 0, 0, 0, 1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1}, 0,
              2e-6, "y");
}

TEST_CASE("rope: matches double reference with offset, fwd and bwd") {
  const int64_t B = 2, T = 7, H = 3, Dh = 6, offset = 5, n = B * T * H * Dh;
  Tape tape;
  VarP x = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 1)), true);
  VarP y = rope(tape, x, offset);
  const auto xd = to_double(x->value);
  // Two fp32 products per element with fp32-rounded cos/sin: < 1e-6 for |x| <= 1.
  check_close(y->value, rope_ref(xd, B, T, H, Dh, offset), 0, 1e-6, "y");

  const auto r = random_vec(n, 2), g0 = random_vec(n, 3);
  x->grad = to_tensor({B, T, H, Dh}, g0);
  y->grad = to_tensor({B, T, H, Dh}, r);
  tape.replay();
  auto g = fd_grad(
      [&](const auto& v) {
        const auto yv = rope_ref(v, B, T, H, Dh, offset);
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += yv[i] * r[i];
        return s;
      },
      xd);
  for (int64_t i = 0; i < n; ++i) g[i] += static_cast<float>(g0[i]);  // backward accumulates
  check_close(x->grad, g, 0, 1e-5, "dx");                             // |dx| <= 3; fd error ~1e-9
}

TEST_CASE("rope: a longer table gives the same values for earlier positions") {
  Tape tape;
  VarP x = make_var(to_tensor({1, 3, 1, 8}, random_vec(24, 4)));
  const Tensor before = rope(tape, x, 4)->value.clone();
  rope(tape, make_var(Tensor::zeros({1, 300, 1, 8})), 0);  // regrows the cached table
  const Tensor after = rope(tape, x, 4)->value;
  for (int64_t i = 0; i < 24; ++i) CHECK(before[i] == after[i]);
}

TEST_CASE("rope: rejects odd Dh and wrong rank") {
  Tape tape;
  CHECK_THROWS_WITH_AS(rope(tape, make_var(Tensor::zeros({1, 2, 1, 5}))),
                       "rope: x has shape [1, 2, 1, 5], expected [B, T, H, Dh] with Dh even",
                       Error);
  CHECK_THROWS_AS(rope(tape, make_var(Tensor::zeros({2, 4}))), Error);
}
