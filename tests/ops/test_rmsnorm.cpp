#include "ops/rmsnorm.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// y = x / sqrt(mean(x^2) + eps) * scale per row of D, in double: the independent reference.
static std::vector<double> rmsnorm_ref(const std::vector<double>& x, const std::vector<double>& s,
                                       int64_t N, int64_t D) {
  std::vector<double> y(x.size());
  for (int64_t n = 0; n < N; ++n) {
    double ss = 0;
    for (int64_t i = 0; i < D; ++i) ss += x[n * D + i] * x[n * D + i];
    const double r = 1.0 / std::sqrt(ss / D + 1e-6);
    for (int64_t i = 0; i < D; ++i) y[n * D + i] = x[n * D + i] * r * s[i];
  }
  return y;
}

static double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Forward, and backward of L = sum(y * r) with pre-seeded grads (checks +=), for x of shape xs.
static void check_rmsnorm(const Shape& xs, uint32_t seed) {
  const int64_t D = xs.back(), N = shape_numel(xs) / D;
  Tape tape;
  VarP x = make_var(to_tensor(xs, random_vec(N * D, seed, -2, 2)), true);
  VarP s = make_var(to_tensor({D}, random_vec(D, seed + 1, 0.5, 1.5)), true);
  const auto r = random_vec(N * D, seed + 2);
  const auto gx0 = random_vec(N * D, seed + 3), gs0 = random_vec(D, seed + 4);
  VarP y = rmsnorm(tape, x, s);
  REQUIRE(y->value.shape() == xs);
  const auto xd = to_double(x->value), sd = to_double(s->value);
  // |y| <= sqrt(D) * 1.5; fp32 rounding of a few operations per element: < 1e-6 relative.
  check_close(y->value, rmsnorm_ref(xd, sd, N, D), 1e-6, 1e-6, "y");

  x->grad = to_tensor(xs, gx0);
  s->grad = to_tensor({D}, gs0);
  y->grad = to_tensor(xs, r);
  tape.replay();
  auto gx = fd_grad([&](const auto& v) { return dot(rmsnorm_ref(v, sd, N, D), r); }, xd);
  auto gs = fd_grad([&](const auto& v) { return dot(rmsnorm_ref(xd, v, N, D), r); }, sd);
  for (size_t i = 0; i < gx.size(); ++i) gx[i] += static_cast<float>(gx0[i]);
  for (size_t i = 0; i < gs.size(); ++i) gs[i] += static_cast<float>(gs0[i]);
  // dx: a row dot of D terms in double, then fp32 ops of O(1) values: ~1e-6 relative;
  // dscale sums N terms of O(1) in double: fp32 rounding of the result only. fd error ~1e-9.
  check_close(x->grad, gx, 1e-5, 1e-5, "dx");
  check_close(s->grad, gs, 1e-5, 1e-5, "dscale");
}

TEST_CASE("rmsnorm: hand-derived values") {
  Tape tape;
  VarP x = make_var(Tensor::from({1, 2}, {3.0f, 4.0f}));
  VarP s = make_var(Tensor::from({2}, {1.0f, 2.0f}));
  VarP y = rmsnorm(tape, x, s);
  // mean(x^2) = 12.5, so y = [3, 8] / sqrt(12.5 + 1e-6).
  const double r = 1.0 / std::sqrt(12.5 + 1e-6);
  // Three fp32 roundings (rstd, x * rstd, * scale) of 2^-24 relative each: < 3e-7.
  check_close(y->value, {3 * r, 8 * r}, 3e-7, 0, "y");
}

TEST_CASE("rmsnorm: block norm over D matches double reference, fwd and bwd") {
  check_rmsnorm({2, 7, 13}, 10);
}

TEST_CASE("rmsnorm: QK-norm over Dh on [B, T, H, Dh]") { check_rmsnorm({2, 5, 3, 6}, 20); }

TEST_CASE("rmsnorm: more rows than scale-grad chunks") { check_rmsnorm({3, 50, 5}, 30); }

TEST_CASE("rmsnorm: shape mismatch names the op and both shapes") {
  Tape tape;
  VarP x = make_var(Tensor::zeros({3, 5}));
  VarP s = make_var(Tensor::zeros({4}));
  CHECK_THROWS_WITH_AS(rmsnorm(tape, x, s),
                       "rmsnorm: x has shape [3, 5], expected [..., 4] to match scale [4]", Error);
}
