// AdamW against a two-step example worked by hand. Setup shared by both cases:
//   W [1, 3] = [1, -2, 0.5] (rank 2: decayed), b [2] = [0.5, 0.25] (rank 1: no decay)
//   lr_peak 0.1, weight_decay 0.01 -> decay coefficient wd / lr_peak = 0.1; eps 1e-8
//   step 1: lr_t = 0.1, gW = [0.5, -1, 1e-8], gb = [2, 0]
//   step 2: lr_t = 0.05, gW = [0.5, 1, 1e-8], gb = [2, -4]
//   bias corrections: t=1: 1-0.9 = 0.1, 1-0.999 = 0.001; t=2: 1-0.81 = 0.19, 1-0.998001 = 0.001999
// Tolerance 4e-7 absolute: the optimizer rounds p (|p| < 2, half-ulp <= 1.2e-7), m and v to
// fp32 once per step; two steps carry at most ~3e-7. Every mistake these examples target
// (eps placement, bias correction, decay of rank-1 params, clipping) moves a value by > 1e-3.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "optim/adamw.h"
#include "test_util.h"

using sg::AdamW;
using sg::AdamWConfig;
using sg::ParamStore;
using sg::Tensor;

namespace {

constexpr double kTol = 4e-7;

struct Setup {
  ParamStore ps;
  sg::VarP W, b;
  Setup() {
    W = ps.add("w", Tensor::from({1, 3}, {1.0f, -2.0f, 0.5f}));
    b = ps.add("b", Tensor::from({2}, {0.5f, 0.25f}));
  }
  void set_grads(std::vector<float> gW, std::vector<float> gb) {
    for (int i = 0; i < 3; ++i) W->grad_or_zeros()[i] = gW[i];
    for (int i = 0; i < 2; ++i) b->grad_or_zeros()[i] = gb[i];
  }
};

AdamWConfig config(double clip) {
  AdamWConfig c;
  c.lr_peak = 0.1;
  c.weight_decay = 0.01;
  c.clip = clip;
  return c;
}

}  // namespace

TEST_CASE("adamw: two hand-worked steps without clipping") {
  Setup s;
  AdamW opt(s.ps, config(0.0));

  s.set_grads({0.5f, -1.0f, 1e-8f}, {2.0f, 0.0f});
  // norm = sqrt(0.25 + 1 + 1e-16 + 4 + 0) = sqrt(5.25)
  CHECK(opt.step(0.1) == doctest::Approx(2.29128784747792).epsilon(1e-12));
  // Step 1: mhat = g, vhat = g^2, so u = g / (|g| + eps).
  // W0: u = 0.5/(0.5+1e-8) = 0.99999998;  1 - 0.1*(0.99999998 + 0.1*1)     = 0.890000002
  // W1: u = -1/(1+1e-8) = -0.99999999;   -2 - 0.1*(-0.99999999 + 0.1*-2)  = -1.880000001
  // W2: u = 1e-8/(1e-8+1e-8) = 0.5;     0.5 - 0.1*(0.5 + 0.1*0.5)         = 0.445
  // b0: u = 2/(2+1e-8) = 0.999999995;   0.5 - 0.1*0.999999995 (no decay)  = 0.4000000005
  // b1: g = 0 -> m = v = 0, u = 0;      0.25 (no decay)
  sg::test::check_close(s.W->value, {0.890000002, -1.880000001, 0.445}, 0, kTol, "W after step 1");
  sg::test::check_close(s.b->value, {0.4000000005, 0.25}, 0, kTol, "b after step 1");
  CHECK(opt.steps_done() == 1);

  s.set_grads({0.5f, 1.0f, 1e-8f}, {2.0f, -4.0f});
  // norm = sqrt(0.25 + 1 + 1e-16 + 4 + 16) = sqrt(21.25)
  CHECK(opt.step(0.05) == doctest::Approx(4.6097722286464435).epsilon(1e-12));
  // W0: m = 0.9*0.05 + 0.1*0.5 = 0.095, mhat = 0.095/0.19 = 0.5;
  //     v = 0.999*0.00025 + 0.001*0.25 = 0.00049975, vhat = /0.001999 = 0.25; u = 0.99999998
  //     0.890000002 - 0.05*(0.99999998 + 0.0890000002) = 0.835550003
  // W1: m = 0.9*-0.1 + 0.1*1 = 0.01, mhat = 1/19; v = 0.000999 + 0.001 = 0.001999, vhat = 1
  //     u = (1/19)/(1 + 1e-8) = 0.0526315784
  //     -1.880000001 - 0.05*(0.0526315784 - 0.1880000001) = -1.873231580
  // W2: u = 0.5 again; 0.445 - 0.05*(0.5 + 0.0445) = 0.417775
  // b0: u = 0.999999995; 0.4000000005 - 0.05*0.999999995 = 0.35000000075
  // b1: m = 0.1*-4 = -0.4, mhat = -0.4/0.19 = -2.10526316; v = 0.001*16 = 0.016,
  //     vhat = 0.016/0.001999 = 8.00400200, sqrt = 2.82913450; u = -0.744136821
  //     0.25 + 0.05*0.744136821 = 0.287206841
  sg::test::check_close(s.W->value, {0.835550003, -1.873231580, 0.417775}, 0, kTol,
                        "W after step 2");
  sg::test::check_close(s.b->value, {0.35000000075, 0.287206841}, 0, kTol, "b after step 2");
  // Moments are the raw (uncorrected) EMAs.
  sg::test::check_close(opt.m()[0], {0.095, 0.01, 1.9e-9}, 1e-6, 0, "m of W");
  sg::test::check_close(opt.v()[1], {0.007996, 0.016}, 1e-6, 0, "v of b");  // 0.999*0.004 + 0.004
}

TEST_CASE("adamw: two hand-worked steps with global-norm clipping at 2") {
  Setup s;
  AdamW opt(s.ps, config(2.0));
  // s1 = 2/sqrt(5.25) = 0.872871561, s1^2 = 4/5.25 = 0.761904762
  // s2 = 2/sqrt(21.25) = 0.433860916, s2^2 = 4/21.25 = 0.188235294
  s.set_grads({0.5f, -1.0f, 1e-8f}, {2.0f, 0.0f});
  CHECK(opt.step(0.1) == doctest::Approx(2.29128784747792).epsilon(1e-12));  // pre-clip norm
  // Step 1 u = s1*g / (s1*|g| + eps): unchanged at fp32 precision except where eps matters:
  // W2: u = s1/(s1 + 1) = 0.466060556; 0.5 - 0.1*(0.466060556 + 0.05) = 0.448393944
  sg::test::check_close(s.W->value, {0.890000002, -1.880000001, 0.448393944}, 0, kTol,
                        "W after step 1");
  sg::test::check_close(s.b->value, {0.4000000006, 0.25}, 0, kTol, "b after step 1");

  s.set_grads({0.5f, 1.0f, 1e-8f}, {2.0f, -4.0f});
  CHECK(opt.step(0.05) == doctest::Approx(4.6097722286464435).epsilon(1e-12));
  // W0: m = 0.5*(0.09 s1 + 0.1 s2) = 0.0609722660, mhat = /0.19 = 0.320906663
  //     v = 0.25*(0.000999 s1^2 + 0.001 s2^2) = 0.000237344538, vhat = /0.001999 = 0.118731635
  //     u = 0.320906663/(0.344574571 + 1e-8) = 0.931312643
  //     0.890000002 - 0.05*(0.931312643 + 0.0890000002) = 0.838984370
  // W1: m = -0.09 s1 + 0.1 s2 = -0.0351723489, mhat = -0.185117626
  //     v = 0.000999 s1^2 + 0.001 s2^2 = 0.000949378151, vhat = 0.474926539, sqrt = 0.689149141
  //     u = -0.268617651; -1.880000001 - 0.05*(-0.268617651 - 0.188) = -1.857169119
  // W2: m = 1e-8*(0.09 s1 + 0.1 s2) = 1.21944532e-9, mhat = 6.41813327e-9
  //     vhat = 1e-16*0.474926539, sqrt = 6.89149141e-9; u = 6.41813327/(6.89149141 + 10) =
  //     0.379962498 0.448393944 - 0.05*(0.379962498 + 0.0448393944) = 0.427153850
  // b0: g = 2 s: m, sqrt(v) are 4x those of W0, so eps matters 4x less: u = 0.931312663
  //     0.4000000006 - 0.05*0.931312663 = 0.353434367
  // b1: only one nonzero gradient, Adam is scale invariant: u = -0.744136818 as unclipped
  //     0.25 + 0.05*0.744136818 = 0.287206841
  sg::test::check_close(s.W->value, {0.838984370, -1.857169119, 0.427153850}, 0, kTol,
                        "W after step 2");
  sg::test::check_close(s.b->value, {0.353434367, 0.287206841}, 0, kTol, "b after step 2");
}

TEST_CASE("adamw: global norm matches a double reference and is thread-count stable") {
  ParamStore ps;
  // Odd sizes so the static chunks are uneven; one param without a gradient.
  const std::vector<sg::Shape> shapes = {{37, 13}, {1001}, {3, 5, 7}, {11}};
  double want = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const int64_t n = sg::shape_numel(shapes[k]);
    sg::VarP v = ps.add("p" + std::to_string(k), Tensor::zeros(shapes[k]));
    if (k == 3) continue;
    const auto g = sg::test::random_vec(n, 100 + k, -2, 2);
    v->grad = sg::test::to_tensor(shapes[k], g);
    for (float x : sg::test::to_double(v->grad)) want += static_cast<double>(x) * x;
  }
  want = std::sqrt(want);
  const double got = sg::global_grad_norm(ps);
  // Summed in double from fp32 values: only the order differs, ~1e-15 relative.
  CHECK(got == doctest::Approx(want).epsilon(1e-13));
  CHECK(sg::global_grad_norm(ps) == got);  // bit-identical on a rerun
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const double one = sg::global_grad_norm(ps);
  omp_set_num_threads(threads);
  CHECK(one == doctest::Approx(want).epsilon(1e-13));
}

TEST_CASE("adamw: a parameter without a gradient still decays, restore checks shapes") {
  ParamStore ps;
  sg::VarP w = ps.add("w", Tensor::from({1, 2}, {1.0f, -1.0f}));
  AdamW opt(ps, config(1.0));
  CHECK(opt.step(0.1) == 0.0);
  // No gradient: u = 0, only the decay: 1 - 0.1*0.1*1 = 0.99
  sg::test::check_close(w->value, {0.99, -0.99}, 0, kTol, "w decayed");

  CHECK_THROWS_WITH_AS(opt.restore({Tensor::zeros({2})}, {Tensor::zeros({1, 2})}, 5),
                       doctest::Contains("w.m"), sg::Error);
  opt.restore({Tensor::full({1, 2}, 0.5f)}, {Tensor::zeros({1, 2})}, 7);
  CHECK(opt.steps_done() == 7);
  CHECK(opt.m()[0][1] == 0.5f);
}

TEST_CASE("adamw: a kept bf16 copy of a weight is refreshed in the update, once per step") {
  ParamStore ps;
  sg::VarP w = ps.add("w", Tensor::from({2, 2}, {1.0f, -2.0f, 0.5f, 3.0f}));
  const sg::bf16* copy = w->bf16_value();  // converted now (first use)
  const uint64_t version = w->version;
  AdamW opt(ps, AdamWConfig{0.1, 0.0, 0.9, 0.999, 1e-8, 0.0});
  for (int i = 0; i < 4; ++i) w->grad_or_zeros()[i] = 0.5f * (i + 1);
  opt.step(0.1);
  CHECK(w->version == version + 1);
  // The same buffer, updated in place: every element is the rounding of the new value.
  CHECK(w->bf16_value() == copy);
  for (int i = 0; i < 4; ++i) {
    const float want = sg::bf16_to_float(sg::float_to_bf16(w->value[i]));
    CHECK(sg::bf16_to_float(copy[i]) == want);
    CHECK(w->value[i] != doctest::Approx(std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}[i]));
  }
  // A change made outside the optimizer shows through once it is marked.
  w->value[0] = 7.0f;
  w->mark_changed();
  CHECK(sg::bf16_to_float(w->bf16_value()[0]) == 7.0f);
}
