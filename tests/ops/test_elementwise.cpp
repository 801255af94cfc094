#include "ops/elementwise.h"

#include <omp.h>

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// v rounded to float and widened back. Through a volatile because GCC 12.2 at
// -O3 -march=native drops the float round trip in the vectorised tail of such loops
// (seen here for a 182-element loop: elements 176..181 came back unrounded).
static double as_float(double v) {
  volatile float f = static_cast<float>(v);
  return f;
}

TEST_CASE("add: forward exact, backward accumulates dy into both inputs") {
  const int64_t B = 2, T = 7, D = 13, n = B * T * D;
  Tape tape;
  VarP a = make_var(to_tensor({B, T, D}, random_vec(n, 1)), true);
  VarP b = make_var(to_tensor({B, T, D}, random_vec(n, 2)), true);
  const auto ad = to_double(a->value), bd = to_double(b->value), r = random_vec(n, 3);
  const auto a0 = random_vec(n, 4);
  a->grad = to_tensor({B, T, D}, a0);  // b starts without a grad
  VarP y = add(tape, a, b);
  y->grad = to_tensor({B, T, D}, r);
  tape.replay();

  // The sum of two floats rounded once to float is what fp32 addition returns exactly.
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i) want[i] = as_float(ad[i] + bd[i]);
  check_close(y->value, want, 0, 0, "y");
  // d/da sum(r * (a + b)) = r, added onto a0: one fp32 rounding of values <= 2 (2.4e-7).
  std::vector<double> want_da(n);
  for (int64_t i = 0; i < n; ++i) want_da[i] = a0[i] + as_float(r[i]);
  check_close(a->grad, want_da, 0, 3e-7, "da");
  check_close(b->grad, to_double(y->grad), 0, 0, "db");
}

TEST_CASE("add: the same var on both sides gets twice the grad, shapes must match") {
  Tape tape;
  VarP x = make_var(Tensor::full({3}, 1.5f), true);
  VarP y = add(tape, x, x);
  y->grad = Tensor::full({3}, 0.25f);
  tape.replay();
  check_close(y->value, {3, 3, 3}, 0, 0, "y");
  check_close(x->grad, {0.5, 0.5, 0.5}, 0, 0, "dx");
  CHECK_THROWS_WITH_AS(add(tape, make_var(Tensor::zeros({2, 3})), make_var(Tensor::zeros({3, 2}))),
                       "add: b has shape [3, 2], expected [2, 3]", Error);
}

TEST_CASE("scale: forward and backward against central differences") {
  const int64_t n = 37;
  const float s = -0.7f;
  Tape tape;
  VarP x = make_var(to_tensor({n}, random_vec(n, 5)), true);
  const auto xd = to_double(x->value), r = random_vec(n, 6);
  VarP y = scale(tape, x, s);
  y->grad = to_tensor({n}, r);
  tape.replay();
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i) want[i] = static_cast<double>(s) * xd[i];
  // One fp32 rounding of a product of size < 1: relative 2^-24 = 6e-8.
  check_close(y->value, want, 1.2e-7, 0, "y");
  const auto g = fd_grad(
      [&](const std::vector<double>& v) {
        double l = 0;
        for (int64_t i = 0; i < n; ++i) l += r[i] * static_cast<double>(s) * v[i];
        return l;
      },
      xd);
  // s * dy rounded once in fp32 (6e-8 relative); central differences of a linear function
  // in double are exact up to ~1e-10.
  check_close(x->grad, g, 1.2e-7, 1e-9, "dx");
}

TEST_CASE("sum: double-accurate, scalar shaped, thread-count independent, backward broadcasts") {
  const int64_t n = 10007;  // several 4096-element chunks, the last one partial
  Tape tape;
  VarP x = make_var(to_tensor({n}, random_vec(n, 7)), true);
  const auto xd = to_double(x->value);
  double want = 0;
  for (double v : xd) want += v;

  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const float one = sum(tape, x)->value[0];
  omp_set_num_threads(2);
  VarP y = sum(tape, x);
  omp_set_num_threads(saved);
  CHECK(y->value.shape() == Shape{});
  CHECK(one == y->value[0]);
  // Summed in double (error ~n * 2^-53 * sum|x| < 1e-11), then rounded once to float.
  check_close(y->value, {want}, std::ldexp(1.0, -24), 1e-10, "sum");

  tape.clear();
  x->grad = Tensor::full({n}, 1.0f);
  y = sum(tape, x);
  y->grad = Tensor::full({}, 0.5f);
  tape.replay();
  // d sum / dx_i = 1, times the seed 0.5, onto the existing 1: exactly 1.5.
  check_close(x->grad, std::vector<double>(n, 1.5), 0, 0, "dx");
}

TEST_CASE("elementwise ops record nothing when no input needs a grad") {
  Tape tape;
  VarP x = make_var(Tensor::full({4}, 2.0f));
  VarP y = sum(tape, scale(tape, add(tape, x, x), 3.0f));
  CHECK(y->value[0] == 48.0f);  // 4 * 3 * (2 + 2)
  CHECK_FALSE(y->requires_grad);
  CHECK(tape.size() == 0);
}
