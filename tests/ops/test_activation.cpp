#include "ops/activation.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// The activations written out in double, independently of activation.h.
double act_ref(Activation a, double x) {
  switch (a) {
    case Activation::identity: return x;
    case Activation::relu: return std::max(x, 0.0);
    case Activation::sigmoid: return 1 / (1 + std::exp(-x));
    case Activation::swish: return x / (1 + std::exp(-x));
    case Activation::gelu:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  }
  return NAN;
}

const Activation kAll[] = {Activation::identity, Activation::gelu, Activation::relu,
                           Activation::swish, Activation::sigmoid};

// -8 .. 8 in steps of 0.0625 shifted by 1/3 so no point is a kink of relu (x = 0).
std::vector<float> grid() {
  std::vector<float> xs;
  for (int i = -128; i <= 128; ++i) xs.push_back(static_cast<float>(i / 16.0 + 1.0 / 3.0 / 16.0));
  return xs;
}

// Float evaluation of these formulas: a handful of roundings in exp/tanh and their
// arguments (each 2^-24 relative). The argument of tanh/exp has |u| <= 13 on the grid, so
// a relative error there moves the result by up to |u| * few ulp relative: rtol 2e-6 is
// ~30 ulp. Where 1 + tanh(u) or 1 - s cancels (gelu, swish' at very negative x) the
// error is absolute, ulp(1) times the factor in front (|x| <= 8): atol 1e-6.
constexpr double kRtol = 2e-6, kAtol = 1e-6;

}  // namespace

TEST_CASE("activation: forward matches the double formulas") {
  const auto xs = grid();
  for (Activation a : kAll) {
    CAPTURE(activation_name(a));
    std::vector<float> got;
    std::vector<double> want;
    for (float x : xs) {
      got.push_back(act_forward(a, x));
      want.push_back(act_ref(a, x));
    }
    check_close(got.data(), want, kRtol, kAtol, activation_name(a));
  }
}

TEST_CASE("activation: act_grad matches central differences of the double formulas") {
  const auto xs = grid();
  for (Activation a : kAll) {
    CAPTURE(activation_name(a));
    std::vector<float> got;
    std::vector<double> want;
    for (float x : xs) {
      got.push_back(act_grad(a, x));
      // h = 1e-5: truncation |f'''| h^2 / 6 < 1e-10, cancellation 1e-16 / h = 1e-11.
      want.push_back(fd_grad([&](const auto& v) { return act_ref(a, v[0]); }, {x}, 1e-5)[0]);
    }
    check_close(got.data(), want, kRtol, kAtol, activation_name(a));
  }
}

TEST_CASE("activation: saturates to finite values for huge inputs") {
  // Hand-derived limits: gelu -> x / 0, swish -> x / 0, sigmoid -> 1 / 0; slopes 1 / 0.
  for (float x : {1e20f, -1e20f, 1e30f, -1e30f}) {
    CAPTURE(x);
    const bool pos = x > 0;
    CHECK(act_forward(Activation::gelu, x) == (pos ? x : 0.0f));
    CHECK(act_forward(Activation::swish, x) == (pos ? x : 0.0f));
    CHECK(act_forward(Activation::sigmoid, x) == (pos ? 1.0f : 0.0f));
    CHECK(act_grad(Activation::gelu, x) == (pos ? 1.0f : 0.0f));
    CHECK(act_grad(Activation::swish, x) == (pos ? 1.0f : 0.0f));
    CHECK(act_grad(Activation::sigmoid, x) == 0.0f);
  }
}

TEST_CASE("activation op: forward and backward against the double formulas") {
  const int64_t B = 2, T = 7, D = 13, n = B * T * D;
  const auto x0 = random_vec(n, 1, -4, 4), r = random_vec(n, 2), g0 = random_vec(n, 3);
  for (Activation a : kAll) {
    CAPTURE(activation_name(a));
    Tape tape;
    VarP x = make_var(to_tensor({B, T, D}, x0), true);
    x->grad = to_tensor({B, T, D}, g0);  // backward must add onto this
    const auto xd = to_double(x->value);
    VarP y = activation(tape, x, a);
    CHECK(y->value.shape() == Shape{B, T, D});
    y->grad = to_tensor({B, T, D}, r);
    tape.replay();

    std::vector<double> want_y(n);
    for (int64_t i = 0; i < n; ++i) want_y[i] = act_ref(a, xd[i]);
    check_close(y->value, want_y, kRtol, kAtol, "y");
    // d/dx sum(r * act(x)) by central differences, plus the grad already there (g0 was
    // rounded to float once: 6e-8) and one more rounding of the sum (|.| <= 3: 2e-7).
    const auto fd = fd_grad(
        [&](const std::vector<double>& v) {
          double l = 0;
          for (int64_t i = 0; i < n; ++i) l += r[i] * act_ref(a, v[i]);
          return l;
        },
        xd, 1e-5);
    std::vector<double> want_dx(n);
    for (int64_t i = 0; i < n; ++i) want_dx[i] = g0[i] + fd[i];
    check_close(x->grad, want_dx, kRtol, kAtol + 3e-7, "dx");
  }
}

TEST_CASE("activation: names round-trip and unknown names list the allowed ones") {
  for (Activation a : kAll) CHECK(parse_activation(activation_name(a)) == a);
  CHECK_THROWS_WITH_AS(parse_activation("tanh"),
                       "unknown activation 'tanh' (allowed: identity, gelu, relu, swish, sigmoid)",
                       Error);
}
