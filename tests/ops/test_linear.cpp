#include "ops/linear.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// Loss L = sum(y * r) with y = x W^T, evaluated in double: the independent reference.
static double linear_loss(const std::vector<double>& x, const std::vector<double>& w,
                          const std::vector<double>& r, int64_t N, int64_t I, int64_t O) {
  double loss = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      double y = 0;
      for (int64_t i = 0; i < I; ++i) y += x[n * I + i] * w[o * I + i];
      loss += y * r[n * O + o];
    }
  return loss;
}

TEST_CASE("linear: forward and backward match a double-precision reference") {
  const int64_t B = 2, T = 7, I = 13, O = 11, N = B * T;
  Tape tape;
  VarP x = make_var(to_tensor({B, T, I}, random_vec(N * I, 1)), true);
  VarP w = make_var(to_tensor({O, I}, random_vec(O * I, 2)), true);
  const auto r = random_vec(N * O, 3);
  VarP y = linear(tape, x, w);
  CHECK(y->value.shape() == Shape{B, T, O});

  y->grad_or_zeros();
  for (int64_t i = 0; i < N * O; ++i) y->grad[i] = static_cast<float>(r[i]);
  tape.replay();

  const auto xd = to_double(x->value), wd = to_double(w->value);
  // fp32 dot products of length <= 14 with |terms| <= 1: rounding stays below 1e-5.
  const auto gx = fd_grad([&](const auto& v) { return linear_loss(v, wd, r, N, I, O); }, xd);
  const auto gw = fd_grad([&](const auto& v) { return linear_loss(xd, v, r, N, I, O); }, wd);
  check_close(x->grad, gx, 1e-5, 1e-5, "dx");
  check_close(w->grad, gw, 1e-5, 1e-5, "dw");
}

TEST_CASE("linear: shape mismatch names the op and both shapes") {
  Tape tape;
  VarP x = make_var(Tensor::zeros({3, 5}));
  VarP w = make_var(Tensor::zeros({4, 6}));
  CHECK_THROWS_WITH_AS(linear(tape, x, w),
                       "linear: x has shape [3, 5], expected [..., 6] to match weight [4, 6]",
                       Error);
}
