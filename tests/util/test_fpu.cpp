#include "util/fpu.h"

#include <doctest/doctest.h>
#include <omp.h>

#include <cfloat>
#include <cstdlib>
#include <vector>

using namespace sg;

TEST_CASE("fpu: denormals are flushed on every OpenMP thread") {
  // FLT_MIN / 4 is a denormal; with FTZ/DAZ the product comes out as 0 instead.
  REQUIRE(flush_denormals_on_all_threads());
  const int T = omp_get_max_threads();
  std::vector<int> flushed(T, 0);
  std::vector<float> products(T, 1.0f);
  volatile float tiny = FLT_MIN;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    flushed[t] = denormals_flushed_here();
    products[t] = tiny * 0.25f;
  }
  for (int t = 0; t < T; ++t) {
    CHECK(flushed[t] == 1);
    CHECK(products[t] == 0.0f);
  }
}
