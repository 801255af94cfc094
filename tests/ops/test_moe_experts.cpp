// The fused mixture-of-experts op (spec §2.4) on its own: forward against a double loop
// (softmax over all E gate logits, top-K by logit, clamped GLU experts), gradients of
// every input against central differences. tests/nn/test_dense_ffw.cpp covers the layer.
#include "ops/moe_experts.h"

#include <algorithm>
#include <numeric>

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

namespace {

constexpr int64_t N = 7, D = 4, E = 5, F = 3, K = 2;

struct MoeIn {
  Vec x, logits, w1, b1, w2, b2;
};

Vec moe_ref(const MoeIn& in) {
  Vec y(N * D, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const double* l = &in.logits[n * E];
    const double mx = *std::max_element(l, l + E);
    double total = 0;
    for (int64_t e = 0; e < E; ++e) total += std::exp(l[e] - mx);
    std::vector<int> order(E);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return l[a] > l[b]; });
    for (int64_t j = 0; j < K; ++j) {
      const int64_t e = order[j];
      const double p = std::exp(l[e] - mx) / total;
      Vec h(F);
      for (int64_t f = 0; f < F; ++f) {
        double g = in.b1[e * 2 * F + f], lin = in.b1[e * 2 * F + F + f];
        for (int64_t d = 0; d < D; ++d) {
          g += in.w1[(e * 2 * F + f) * D + d] * in.x[n * D + d];
          lin += in.w1[(e * 2 * F + F + f) * D + d] * in.x[n * D + d];
        }
        g = std::min(g, 7.0);
        lin = std::clamp(lin, -7.0, 7.0);
        h[f] = g / (1 + std::exp(-1.702 * g)) * (lin + 1);
      }
      for (int64_t d = 0; d < D; ++d) {
        double o = in.b2[e * D + d];
        for (int64_t f = 0; f < F; ++f) o += in.w2[(e * D + d) * F + f] * h[f];
        y[n * D + d] += p * o;
      }
    }
  }
  return y;
}

}  // namespace

TEST_CASE("moe_experts: forward and every gradient against a double reference") {
  MoeIn in{random_vec(N * D, 91),     random_vec(N * E, 92),     random_vec(E * 2 * F * D, 93),
           random_vec(E * 2 * F, 94), random_vec(E * D * F, 95), random_vec(E * D, 96)};
  const Vec dy = random_vec(N * D, 97);
  Tape tape;
  VarP x = make_var(to_tensor({N, D}, in.x), true),
       l = make_var(to_tensor({N, E}, in.logits), true),
       w1 = make_var(to_tensor({E, 2 * F, D}, in.w1), true),
       b1 = make_var(to_tensor({E, 2 * F}, in.b1), true),
       w2 = make_var(to_tensor({E, D, F}, in.w2), true),
       b2 = make_var(to_tensor({E, D}, in.b2), true);
  std::vector<int64_t> counts;
  VarP y = moe_experts(tape, x, l, w1, b1, w2, b2, K, counts);
  // Chains of two fp32 matmuls of length <= 6, a softmax and a GLU, all O(1): ~1e-6.
  check_close(y->value, moe_ref(in), 1e-4, 1e-5, "y");
  CHECK(std::accumulate(counts.begin(), counts.end(), int64_t{0}) == N * K);

  y->grad = to_tensor({N, D}, dy);
  tape.replay();
  auto grad_of = [&](Vec MoeIn::*field) {
    return fd_grad(
        [&](const Vec& v) {
          MoeIn m = in;
          m.*field = v;
          const Vec yy = moe_ref(m);
          double t = 0;
          for (int64_t i = 0; i < N * D; ++i) t += dy[i] * yy[i];
          return t;
        },
        in.*field);
  };
  // The random logits keep top-K away from ties (gaps >> the 1e-6 step).
  check_close(x->grad, grad_of(&MoeIn::x), 1e-4, 1e-5, "dx");
  check_close(l->grad, grad_of(&MoeIn::logits), 1e-4, 1e-5, "dlogits");
  check_close(w1->grad, grad_of(&MoeIn::w1), 1e-4, 1e-5, "dw1");
  check_close(b1->grad, grad_of(&MoeIn::b1), 1e-4, 1e-5, "db1");
  check_close(w2->grad, grad_of(&MoeIn::w2), 1e-4, 1e-5, "dw2");
  check_close(b2->grad, grad_of(&MoeIn::b2), 1e-4, 1e-5, "db2");
}

TEST_CASE("moe_experts: knn outside [1, E] is named") {
  Tape tape;
  std::vector<int64_t> counts;
  auto z = [](const Shape& s) { return make_var(Tensor::zeros(s)); };
  CHECK_THROWS_WITH_AS(moe_experts(tape, z({2, D}), z({2, E}), z({E, 2 * F, D}), z({E, 2 * F}),
                                   z({E, D, F}), z({E, D}), E + 1, counts),
                       "moe_experts: knn = 6 must be in [1, 5]", Error);
}
