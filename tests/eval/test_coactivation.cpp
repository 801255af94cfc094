// Co-activation counts on hand-made picks, and top pairs / partners against a brute-force
// count over tokens.
#include "eval/coactivation.h"

#include <doctest/doctest.h>

#include "util/error.h"

using namespace sg;

TEST_CASE("coactivation: counts tokens picking both neurons, per channel") {
  // N = 3 tokens, C = 2 channels, K = 2 of M = 4 neurons. Per token: channel 0, channel 1.
  const std::vector<int32_t> idx = {0, 1, 2, 3,  //
                                    1, 0, 3, 2,  //
                                    1, 2, 0, 3};
  const auto c0 = coactivation(idx.data(), 3, 2, 2, 4, 0);
  CHECK(c0[0 * 4 + 1] == 2);  // tokens 0 and 1
  CHECK(c0[1 * 4 + 0] == 2);
  CHECK(c0[1 * 4 + 2] == 1);  // token 2
  CHECK(c0[1 * 4 + 1] == 3);  // usage on the diagonal
  CHECK(c0[0 * 4 + 2] == 0);
  const auto c1 = coactivation(idx.data(), 3, 2, 2, 4, 1);
  CHECK(c1[2 * 4 + 3] == 2);
  CHECK(c1[0 * 4 + 3] == 1);
  const auto pairs = top_pairs(c0, 4, 10);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].a == 0);
  CHECK(pairs[0].b == 1);
  CHECK(pairs[0].count == 2);
  CHECK(pairs[1].a == 1);
  CHECK(pairs[1].b == 2);
  const auto partners = top_partners(c1, 4, 3, 5);
  REQUIRE(partners.size() == 2);
  CHECK(partners[0].b == 2);
  CHECK(partners[0].count == 2);
  CHECK(partners[1].b == 0);
  CHECK_THROWS_WITH_AS(coactivation(idx.data(), 3, 2, 2, 4, 2), doctest::Contains("channel 2"),
                       Error);
}
