// The gathered-row expert op (spec §2.2, §2.5) on its own, with fixed routing: linearity,
// accumulation into existing gradients, and a double loop with many tokens per row.
// The sgatlin and peer layer tests (tests/nn/test_sgatlin.cpp) cover it behind routers.
#include "ops/sparse_experts.h"

#include <random>

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

TEST_CASE("sparse_experts: identity activation with fixed routing is linear in x") {
  const int64_t N = 6, D = 9, C = 2, K = 3, E = 11;
  Tensor s = to_tensor({N, C, K}, random_vec(N * C * K, 1));
  IntTensor idx = IntTensor::empty({N, C, K});
  for (int64_t i = 0; i < idx.numel(); ++i) idx[i] = static_cast<int32_t>((i * 7 + 3) % E);
  VarP win = make_var(to_tensor({C, E, D}, random_vec(C * E * D, 2)));
  VarP wout = make_var(to_tensor({C, E, D}, random_vec(C * E * D, 3)));
  auto run = [&](const Vec& x) {
    Tape tape;
    return sparse_experts(tape, make_var(to_tensor({N, D}, x)), make_var(s), idx, win, wout,
                          Activation::identity, ExpertGate::pre_activation)
        ->value;
  };
  const Vec x1 = random_vec(N * D, 4), x2 = random_vec(N * D, 5);
  const double a = 0.75, b = -1.5;  // exact in fp32
  Vec mix(N * D);
  for (int64_t i = 0; i < N * D; ++i) mix[i] = a * x1[i] + b * x2[i];
  const Tensor y1 = run(x1), y2 = run(x2), ymix = run(mix);
  Vec want(N * D);
  for (int64_t i = 0; i < N * D; ++i) want[i] = a * y1[i] + b * y2[i];
  // Three fp32 evaluations of sums of 6 products of O(1) terms: roundoff ~1e-6.
  check_close(ymix, want, 1e-5, 1e-5, "y(a x1 + b x2) vs a y(x1) + b y(x2)");
}

TEST_CASE("sparse_experts: backward adds onto gradients already present") {
  // The first backward into a fresh buffer writes; a later one must add. Both paths
  // run here; the fresh one is checked against finite differences by the layer tests.
  const int64_t N = 6, D = 9, C = 2, K = 3, E = 11;
  IntTensor idx = IntTensor::empty({N, C, K});
  for (int64_t i = 0; i < idx.numel(); ++i) idx[i] = static_cast<int32_t>((i * 5 + 1) % E);
  const Vec x0 = random_vec(N * D, 1), s0 = random_vec(N * C * K, 2),
            win0 = random_vec(C * E * D, 3), wout0 = random_vec(C * E * D, 4),
            dy = random_vec(N * D, 5);
  auto grads = [&](bool seeded) {
    std::vector<VarP> v = {
        make_var(to_tensor({N, D}, x0), true), make_var(to_tensor({N, C, K}, s0), true),
        make_var(to_tensor({C, E, D}, win0), true), make_var(to_tensor({C, E, D}, wout0), true)};
    if (seeded)
      for (size_t i = 0; i < v.size(); ++i)
        v[i]->grad = to_tensor(v[i]->value.shape(), random_vec(v[i]->value.numel(), 10 + i));
    Tape tape;
    VarP y = sparse_experts(tape, v[0], v[1], idx, v[2], v[3], Activation::gelu,
                            ExpertGate::pre_activation);
    y->grad = to_tensor({N, D}, dy);
    tape.replay();
    return v;
  };
  const auto fresh = grads(false), seeded = grads(true);
  const char* names[] = {"dx", "ds", "dwin", "dwout"};
  for (size_t i = 0; i < fresh.size(); ++i) {
    const int64_t n = fresh[i]->grad.numel();
    const Vec seed = random_vec(n, 10 + i);
    Vec want(n);
    for (int64_t j = 0; j < n; ++j) want[j] = static_cast<double>(fresh[i]->grad[j]) + seed[j];
    // The same fp32 terms summed in another order, once more rounded: ~1e-7 of O(1).
    check_close(seeded[i]->grad, want, 1e-6, 1e-6, names[i]);
  }
}

TEST_CASE("sparse_experts: many tokens per row match a double loop") {
  // The layer tests route a handful of tokens; here every table row gathers ~1800
  // entries, split over the threads by row, with each thread's dx partial summed after.
  const int64_t N = 8192, D = 40, C = 2, K = 2, E = 9;
  const Vec x0 = random_vec(N * D, 21), s0 = random_vec(N * C * K, 22),
            win0 = random_vec(C * E * D, 23), wout0 = random_vec(C * E * D, 24),
            dy = random_vec(N * D, 25);
  IntTensor idx = IntTensor::empty({N, C, K});
  std::mt19937 gen(26);
  for (int64_t i = 0; i < N * C; ++i) {  // K distinct neurons per (token, channel)
    idx[i * K] = static_cast<int32_t>(gen() % E);
    idx[i * K + 1] = static_cast<int32_t>((idx[i * K] + 1 + gen() % (E - 1)) % E);
  }
  VarP x = make_var(to_tensor({N, D}, x0), true), s = make_var(to_tensor({N, C, K}, s0), true),
       win = make_var(to_tensor({C, E, D}, win0), true),
       wout = make_var(to_tensor({C, E, D}, wout0), true);
  Tape tape;
  VarP y = sparse_experts(tape, x, s, idx, win, wout, Activation::gelu, ExpertGate::pre_activation);
  y->grad = to_tensor({N, D}, dy);
  tape.replay();

  // Double loop over entries; `abs` collects sum |term| per output for the error bound.
  auto gelu = [](double v) {
    return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
  };
  auto gelu_grad = [&](double v) { return (gelu(v + 1e-6) - gelu(v - 1e-6)) / 2e-6; };
  Vec y_ref(N * D), dx(N * D), ds(N * C * K), dwin(C * E * D), dwout(C * E * D);
  Vec y_abs(N * D), dx_abs(N * D), dwin_abs(C * E * D), dwout_abs(C * E * D);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t e = (n * C + c) * K + k, r = c * E + idx[e];
        double h = 0, dz = 0;
        for (int64_t d = 0; d < D; ++d) {
          h += x0[n * D + d] * win0[r * D + d];
          dz += dy[n * D + d] * wout0[r * D + d];
        }
        const double a = s0[e] * h, z = gelu(a), dh = dz * gelu_grad(a) * s0[e];
        ds[e] = dz * gelu_grad(a) * h;
        for (int64_t d = 0; d < D; ++d) {
          y_ref[n * D + d] += z * wout0[r * D + d];
          y_abs[n * D + d] += std::fabs(z * wout0[r * D + d]);
          dwout[r * D + d] += z * dy[n * D + d];
          dwout_abs[r * D + d] += std::fabs(z * dy[n * D + d]);
          dwin[r * D + d] += dh * x0[n * D + d];
          dwin_abs[r * D + d] += std::fabs(dh * x0[n * D + d]);
          dx[n * D + d] += dh * win0[r * D + d];
          dx_abs[n * D + d] += std::fabs(dh * win0[r * D + d]);
        }
      }
  // fp32 sums of ~1800 terms (entries per row) of inputs rounded once: error within
  // 1e-5 of the sum of |terms|; the gelu slope by differences in double is good to 1e-9.
  auto check = [](const Tensor& got, const Vec& want, const Vec& abs, const char* what) {
    int64_t bad = 0;
    for (int64_t i = 0; i < got.numel(); ++i)
      bad += !(std::fabs(got[i] - want[i]) <=
               1e-5 * (abs.empty() ? std::fabs(want[i]) : abs[i]) + 1e-6);
    CHECK_MESSAGE(bad == 0, std::string(what) << ": " << bad << " elements off");
  };
  check(y->value, y_ref, y_abs, "y");
  check(x->grad, dx, dx_abs, "dx");
  check(win->grad, dwin, dwin_abs, "dwin");
  check(wout->grad, dwout, dwout_abs, "dwout");
  check(s->grad, ds, {}, "ds");
}
