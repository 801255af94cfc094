// sgatlin and peer layers (spec §2.2, §2.5) against the double references of ffw_ref.h.
#include <set>

#include "ffw_ref.h"
#include "nn/routers/router.h"
#include "ops/linear.h"
#include "ops/sparse_experts.h"

using namespace sg;
using namespace sg::test;

namespace {

// Odd small sizes: D 7, E 25 (nk 5), C 3, K 3 < nk, Kd 5, 5 tokens.
const SparseDims kDims{7, 25, 3, 3, 5};
constexpr int64_t kTokens = 5;

FfwConfig sparse_cfg(const std::string& type, const std::string& router, const std::string& act) {
  FfwConfig f;
  f.type = type;
  f.d_ffw = kDims.E;
  f.n_channels = kDims.C;
  f.knn = kDims.K;
  f.d_key = kDims.Kd;
  f.router_type = router;
  f.activation = act;
  return f;
}

// Every value here is O(1) and each output is a chain of at most three fp32 dot
// products of length <= 25: roundoff stays below ~1e-6 relative, finite differences
// in double (h = 1e-6) are good to ~1e-9; 1e-4 / 1e-5 leaves a wide margin.
constexpr double kRtol = 1e-4, kAtol = 1e-5;

void check_sgatlin_router(const std::string& router) {
  for (const char* act : {"identity", "gelu", "relu", "swish"}) {
    CAPTURE(act);
    const FfwConfig cfg = sparse_cfg("sgatlin", router, act);
    const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
      return sgatlin_ref(P, x, kTokens, kDims, router, act, m);
    };
    check_layer_reseeding(cfg, kDims.D, kTokens, 1.0, ref, kRtol, kAtol);
  }
}

}  // namespace

TEST_CASE("sgatlin: product_dense router, every activation, forward and gradients") {
  check_sgatlin_router("product_dense");
}
TEST_CASE("sgatlin: product_key_value router, every activation, forward and gradients") {
  check_sgatlin_router("product_key_value");
}
TEST_CASE("sgatlin: key_value router, every activation, forward and gradients") {
  check_sgatlin_router("key_value");
}
TEST_CASE("sgatlin: dense router, every activation, forward and gradients") {
  check_sgatlin_router("dense");
}

TEST_CASE("peer: forward and gradients vs double reference") {
  // "identity" in the config means the layer default, which is gelu for peer.
  const FfwConfig cfg = sparse_cfg("peer", "product_key_value", "identity");
  const LayerRef ref = [&](const Params& P, const Vec& x, Margin& m) {
    return peer_ref(P, x, kTokens, kDims, m);
  };
  check_layer_reseeding(cfg, kDims.D, kTokens, 1.0, ref, kRtol, kAtol);
}

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

TEST_CASE("sgatlin: pick counts match the routed indices of the last forward") {
  const FfwConfig cfg = sparse_cfg("sgatlin", "product_dense", "identity");
  ParamStore ps;
  auto layer = make_feedforward(cfg, kDims.D, "ffn", ps, 3);
  const int64_t N = 40;
  Tensor x = to_tensor({N, kDims.D}, random_vec(N * kDims.D, 9));
  Tape tape;
  layer->forward(tape, make_var(x));
  Params P;
  for (const auto& p : ps.all()) P[p.name.substr(4)] = to_double(p.var->value);
  const Vec xd = to_double(x);
  std::vector<int64_t> want(kDims.C * kDims.E, 0);
  Margin m;
  for (int64_t n = 0; n < N; ++n) {
    const auto picks = route_ref("product_dense", P, &xd[n * kDims.D], kDims, m);
    for (int64_t c = 0; c < kDims.C; ++c)
      for (const Pick& p : picks[c]) ++want[c * kDims.E + p.idx];
  }
  REQUIRE(m.min > 1e-5);  // fp32 and double routing agree away from ties
  CHECK(layer->pick_counts() == want);
}

TEST_CASE("peer: pick counts fold the heads onto the shared table") {
  const FfwConfig cfg = sparse_cfg("peer", "product_key_value", "gelu");
  ParamStore ps;
  auto layer = make_feedforward(cfg, kDims.D, "ffn", ps, 4);
  const int64_t N = 30;
  Tape tape;
  layer->forward(tape, make_var(to_tensor({N, kDims.D}, random_vec(N * kDims.D, 10))));
  const auto counts = layer->pick_counts();
  REQUIRE(counts.size() == static_cast<size_t>(kDims.E));
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  CHECK(total == N * kDims.C * kDims.K);
}

TEST_CASE("sgatlin, peer, moe: backward is bit-identical run to run, fp32 and bf16") {
  const int64_t N = 257, D = 32;
  for (MatmulPrecision prec : {MatmulPrecision::fp32, MatmulPrecision::bf16})
  for (const char* type : {"sgatlin", "peer", "moe"}) {
    CAPTURE(type);
    CAPTURE(prec == MatmulPrecision::bf16);
    const MatmulPrecisionScope scope(prec);
    FfwConfig cfg = sparse_cfg(type, "product_dense", "gelu");
    cfg.d_ffw = std::string(type) == "moe" ? 16 : 64;
    cfg.n_channels = 4;
    cfg.knn = 2;
    cfg.d_key = 16;
    auto grads = [&] {
      ParamStore ps;
      auto layer = make_feedforward(cfg, D, "ffn", ps, 5);
      Tape tape;
      VarP x = make_var(to_tensor({N, D}, random_vec(N * D, 11)), true);
      VarP y = layer->forward(tape, x);
      y->grad_or_zeros().fill(0.5f);
      tape.replay();
      std::vector<float> all(x->grad.data(), x->grad.data() + x->grad.numel());
      for (const auto& p : ps.all())
        all.insert(all.end(), p.var->grad.data(), p.var->grad.data() + p.var->grad.numel());
      return all;
    };
    CHECK(grads() == grads());
  }
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
    std::vector<VarP> v = {make_var(to_tensor({N, D}, x0), true),
                           make_var(to_tensor({N, C, K}, s0), true),
                           make_var(to_tensor({C, E, D}, win0), true),
                           make_var(to_tensor({C, E, D}, wout0), true)};
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
  auto gelu = [](double v) { return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); };
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
      bad += !(std::fabs(got[i] - want[i]) <= 1e-5 * (abs.empty() ? std::fabs(want[i]) : abs[i]) + 1e-6);
    CHECK_MESSAGE(bad == 0, std::string(what) << ": " << bad << " elements off");
  };
  check(y->value, y_ref, y_abs, "y");
  check(x->grad, dx, dx_abs, "dx");
  check(win->grad, dwin, dwin_abs, "dwin");
  check(wout->grad, dwout, dwout_abs, "dwout");
  check(s->grad, ds, {}, "ds");
}
