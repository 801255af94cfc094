// GPT-OSS clamped GLU (spec §2.3): forward against the double formula, backward against
// central differences, inside and beyond the clamp.
#include "ops/glu.h"

#include <algorithm>

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

namespace {

Vec glu_ref(const Vec& z, int64_t N, int64_t F) {
  Vec h(N * F);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      const double g = std::min(z[n * 2 * F + f], 7.0);
      const double l = std::clamp(z[n * 2 * F + F + f], -7.0, 7.0);
      h[n * F + f] = g / (1 + std::exp(-1.702 * g)) * (l + 1);
    }
  return h;
}

}  // namespace

TEST_CASE("glu: forward and backward against the double formula, clamped and not") {
  const int64_t N = 6, F = 5;
  // Values in [-10, 10]: about a third sit beyond the clamp; none within 1e-3 of +-7,
  // where the one-sided slopes differ and differences would straddle the kink.
  Vec z0 = random_vec(N * 2 * F, 71, -10, 10);
  for (double& v : z0)
    if (std::fabs(std::fabs(v) - 7) < 1e-3) v += 0.01;
  const Vec dy = random_vec(N * F, 72);
  Tape tape;
  VarP z = make_var(to_tensor({N, 2 * F}, z0), true);
  VarP h = glu(tape, z);
  REQUIRE(h->value.shape() == Shape{N, F});
  // One exp and a few products in fp32 of values up to ~56: relative roundoff ~1e-6.
  check_close(h->value, glu_ref(z0, N, F), 1e-5, 1e-6, "h");
  h->grad = to_tensor({N, F}, dy);
  tape.replay();
  auto loss = [&](const Vec& zz) {
    const Vec hh = glu_ref(zz, N, F);
    double t = 0;
    for (int64_t i = 0; i < N * F; ++i) t += dy[i] * hh[i];
    return t;
  };
  int64_t clamped = 0;
  for (double v : z0) clamped += std::fabs(v) > 7;
  CHECK(clamped > 5);
  check_close(z->grad, fd_grad(loss, z0), 1e-5, 1e-5, "dz");
}

TEST_CASE("glu: an odd last dim is named") {
  Tape tape;
  CHECK_THROWS_AS(glu(tape, make_var(Tensor::zeros({2, 5}))), Error);
}
