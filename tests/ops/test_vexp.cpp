#include "ops/vexp.h"

#include "test_util.h"

using namespace sg;

TEST_CASE("vexp: relative error against double exp over the whole range") {
  // Cephes expf is about 1 ulp (<= 1.2e-7 relative); the final scaling by 2^n is exact.
  // A 2 ulp bound (2.4e-7) leaves room for the fp32 evaluation of the polynomial.
  double worst = 0;
  for (double x = -87.0; x <= 88.0; x += 1e-3) {
    const float xf = static_cast<float>(x);
    const double want = std::exp(static_cast<double>(xf));
    worst = std::max(worst, std::fabs(vexp(xf) - want) / want);
  }
  CHECK(worst < 2.4e-7);
  CHECK(vexp(0.0f) == 1.0f);
  CHECK(vexp(-1000.0f) < 1e-37f);  // clamped, documented
}
