// Bias add: y = x + b over rows; dx = dy, db = column sums of dy, both added onto
// gradient already present.
#include "ops/bias.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

TEST_CASE("bias_add: forward exact, dx and db against a double loop, accumulating") {
  const int64_t B = 2, T = 3, F = 7, N = B * T;
  const Vec x0 = random_vec(N * F, 81), b0 = random_vec(F, 82), dy = random_vec(N * F, 83);
  const Vec gx = random_vec(N * F, 84), gb = random_vec(F, 85);
  Tape tape;
  VarP x = make_var(to_tensor({B, T, F}, x0), true), b = make_var(to_tensor({F}, b0), true);
  x->grad = to_tensor({B, T, F}, gx);
  b->grad = to_tensor({F}, gb);
  VarP y = bias_add(tape, x, b);
  REQUIRE(y->value.shape() == Shape{B, T, F});
  Vec want(N * F), want_dx(N * F), want_db(F);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      const int64_t i = n * F + f;
      // The fp32 sum of two floats, rounded once: exact after rounding the double sum.
      want[i] = static_cast<float>(static_cast<double>(static_cast<float>(x0[i])) +
                                   static_cast<float>(b0[f]));
      want_dx[i] = static_cast<double>(static_cast<float>(gx[i])) + static_cast<float>(dy[i]);
      want_db[f] += static_cast<float>(dy[i]);
    }
  for (int64_t f = 0; f < F; ++f) want_db[f] += static_cast<float>(gb[f]);
  check_close(y->value, want, 0, 0, "y");
  y->grad = to_tensor({B, T, F}, dy);
  tape.replay();
  // dx: one fp32 addition of O(1) values (<= 2.4e-7); db: 7 fp32 additions (~1e-6).
  check_close(x->grad, want_dx, 0, 3e-7, "dx");
  check_close(b->grad, want_db, 0, 2e-6, "db");
}

TEST_CASE("bias_add: mismatched bias is named") {
  Tape tape;
  CHECK_THROWS_WITH_AS(
      bias_add(tape, make_var(Tensor::zeros({2, 3})), make_var(Tensor::zeros({4}))),
      "bias_add: x has shape [2, 3], bias [4], expected [..., F] and [F]", Error);
}
