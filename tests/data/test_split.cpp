#include <doctest/doctest.h>

#include <algorithm>

#include "data/split.h"
#include "data_test_util.h"
#include "util/error.h"

using namespace sg;

TEST_CASE("split: deterministic, per-document, about the requested fraction") {
  const auto a = split_valid(2000, 0.05, 7), b = split_valid(2000, 0.05, 7);
  CHECK(a == b);
  // Membership of a document depends only on (seed, index), not on the corpus size.
  const auto prefix = split_valid(1000, 0.05, 7);
  CHECK(std::equal(prefix.begin(), prefix.end(), a.begin()));
  // Binomial(2000, 0.05): mean 100, sd 9.7; [60, 140] is a 4-sigma band.
  const auto n_valid = std::count(a.begin(), a.end(), true);
  CHECK(n_valid >= 60);
  CHECK(n_valid <= 140);
  CHECK(split_valid(2000, 0.05, 8) != a);
}

TEST_CASE("split: at least one document on each side") {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto tiny = split_valid(3, 0.01, seed);  // almost surely no draw below 0.01
    CHECK(std::count(tiny.begin(), tiny.end(), true) == 1);
    const auto huge = split_valid(3, 0.999, seed);  // almost surely all draws below
    CHECK(std::count(huge.begin(), huge.end(), false) == 1);
  }
  CHECK_THROWS_WITH_AS(split_valid(1, 0.05, 0), sg::test::has("at least 2 documents"), Error);
  CHECK_THROWS_AS(split_valid(10, 0.0, 0), Error);
  CHECK_THROWS_AS(split_valid(10, 1.0, 0), Error);
}
