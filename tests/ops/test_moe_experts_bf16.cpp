// The bf16 path of the fused moe op (spec §2.4) against a double reference (the fp32 path:
// test_moe_experts.cpp).
#include "ops/moe_experts.h"

#include "bf16_bound.h"
#include "ops/linear.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("moe_experts bf16: forward within the bf16 bound of the exact values") {
  // Small weights keep every GLU input inside the clamps (|z| < 7), where
  // glu(g, l) = g sigmoid(1.702 g) (l + 1) is smooth.
  const int64_t N = 9, D = 24, F = 10, E = 4, K = 2;
  const auto x = random_vec(N * D, 70), logits = random_vec(N * E, 71),
             w1 = random_vec(E * 2 * F * D, 72, -0.2, 0.2),
             b1 = random_vec(E * 2 * F, 73, -0.1, 0.1), w2 = random_vec(E * D * F, 74, -0.3, 0.3),
             b2 = random_vec(E * D, 75, -0.1, 0.1);
  std::vector<int64_t> counts;
  Tensor y;
  {
    const MatmulPrecisionScope scope(MatmulPrecision::bf16);
    Tape tape;
    tape.set_recording(false);
    y = moe_experts(tape, make_var(to_tensor({N, D}, x)), make_var(to_tensor({N, E}, logits)),
                    make_var(to_tensor({E, 2 * F, D}, w1)), make_var(to_tensor({E, 2 * F}, b1)),
                    make_var(to_tensor({E, D, F}, w2)), make_var(to_tensor({E, D}, b2)), K, counts)
            ->value;
  }
  // Bound. z = W1 x + b1 has two rounded factors per term: |dz| <= r2 sum_d |W1 x| with
  // r2 = (1+u)^2 - 1 + D 2^-24 (bf16_bound.h). |d/dg (g sigmoid(1.702 g))| <= 1.1 everywhere,
  // so by the mean value theorem |dh| <= 1.1 |dg| (|l| + 1 + |dl|) + (|g s| + 1.1 |dg|) |dl|.
  // Then o = W2 h with W2 and h rounded: |do| <= sum_f |W2| (|dh| + ((1+u)^2 - 1) |h|) plus
  // fp32 sums, and y = sum of the picked p_e (o + b2) in fp32.
  const double u = std::ldexp(1.0, -9), r2 = (1 + u) * (1 + u) - 1,
               f32 = (D + F + K + 4) * std::ldexp(1.0, -24);
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  size_t bad = 0, checked = 0;
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> p(E);
    double mx = -1e300, sum = 0;
    for (int64_t e = 0; e < E; ++e) mx = std::max(mx, logits[n * E + e]);
    for (int64_t e = 0; e < E; ++e) sum += (p[e] = std::exp(logits[n * E + e] - mx));
    std::vector<int64_t> order(E);
    for (int64_t e = 0; e < E; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return logits[n * E + a] > logits[n * E + b]; });
    std::vector<double> want(D), bound(D);
    for (int64_t j = 0; j < K; ++j) {
      const int64_t e = order[j];
      const double pe = p[e] / sum;
      std::vector<double> h(F), dh(F);
      for (int64_t f = 0; f < F; ++f) {
        double g = b1[e * 2 * F + f], l = b1[e * 2 * F + F + f], ga = 0, la = 0;
        for (int64_t d = 0; d < D; ++d) {
          g += w1[(e * 2 * F + f) * D + d] * x[n * D + d];
          l += w1[(e * 2 * F + F + f) * D + d] * x[n * D + d];
          ga += std::fabs(w1[(e * 2 * F + f) * D + d] * x[n * D + d]);
          la += std::fabs(w1[(e * 2 * F + F + f) * D + d] * x[n * D + d]);
        }
        REQUIRE(std::fabs(g) < 7);
        REQUIRE(std::fabs(l) < 7);
        const double dg = (r2 + f32) * ga + f32 * std::fabs(g),
                     dl = (r2 + f32) * la + f32 * std::fabs(l);
        const double gs = g * sig(1.702 * g);
        h[f] = gs * (l + 1);
        dh[f] = 1.1 * dg * (std::fabs(l) + 1 + dl) + (std::fabs(gs) + 1.1 * dg) * dl;
      }
      for (int64_t d = 0; d < D; ++d) {
        double o = b2[e * D + d], oa = std::fabs(b2[e * D + d]), err = 0;
        for (int64_t f = 0; f < F; ++f) {
          const double w = w2[(e * D + d) * F + f];
          o += w * h[f];
          oa += std::fabs(w * h[f]);
          err += std::fabs(w) * (dh[f] + r2 * std::fabs(h[f]));
        }
        want[d] += pe * o;
        bound[d] += pe * (err + f32 * oa);
      }
    }
    for (int64_t d = 0; d < D; ++d, ++checked)
      bad += !(std::fabs(y[n * D + d] - want[d]) <= bound[d]);
  }
  CHECK(checked == static_cast<size_t>(N * D));
  CHECK(bad == 0);
}
