// Learning-rate schedules against values worked out by hand from the convention in
// optim/schedule.h (warmup lr*(t+1)/W; decays reach their end value at t = total).
// The schedule is evaluated in double, so 1e-12 relative covers the cos/sqrt rounding.
#include <doctest/doctest.h>

#include <string>

#include "optim/schedule.h"
#include "util/error.h"

using sg::learning_rate_at;
using sg::ScheduleConfig;

namespace {
constexpr double kTol = 1e-12;
ScheduleConfig sched(const std::string& name, double lr, int64_t warmup, double frac,
                     int64_t total) {
  return {name, lr, warmup, frac, total};
}
}  // namespace

TEST_CASE("schedule: constant ignores warmup") {
  const auto s = sched("constant", 3e-4, 10, 0.2, 50);
  CHECK(learning_rate_at(s, 0) == 3e-4);
  CHECK(learning_rate_at(s, 49) == 3e-4);
}

TEST_CASE("schedule: warmup_stable_linear_decay and _sqrt_decay at hand-computed steps") {
  // total 20, warmup 4, decay_fraction 0.25 -> D = 5 decay steps starting at s = 15.
  const double lr = 2e-3;
  for (const char* name : {"warmup_stable_linear_decay", "warmup_stable_sqrt_decay"}) {
    INFO(name);
    const auto s = sched(name, lr, 4, 0.25, 20);
    CHECK(learning_rate_at(s, 0) == doctest::Approx(lr * 0.25).epsilon(kTol));  // (0+1)/4
    CHECK(learning_rate_at(s, 1) == doctest::Approx(lr * 0.50).epsilon(kTol));  // (1+1)/4
    CHECK(learning_rate_at(s, 3) == doctest::Approx(lr).epsilon(kTol));         // (3+1)/4 = 1
    CHECK(learning_rate_at(s, 4) == doctest::Approx(lr).epsilon(kTol));         // stable
    CHECK(learning_rate_at(s, 14) == doctest::Approx(lr).epsilon(kTol));        // stable
    CHECK(learning_rate_at(s, 15) == doctest::Approx(lr).epsilon(kTol));        // decay u = 0
  }
  const auto lin = sched("warmup_stable_linear_decay", lr, 4, 0.25, 20);
  CHECK(learning_rate_at(lin, 16) == doctest::Approx(lr * 0.8).epsilon(kTol));  // u = 1/5
  CHECK(learning_rate_at(lin, 19) == doctest::Approx(lr * 0.2).epsilon(kTol));  // u = 4/5
  CHECK(learning_rate_at(lin, 20) == 0.0);  // u = 1, past the end
  const auto sq = sched("warmup_stable_sqrt_decay", lr, 4, 0.25, 20);
  // 1 - sqrt(0.2) = 1 - 0.447213595499958 = 0.552786404500042
  CHECK(learning_rate_at(sq, 16) == doctest::Approx(lr * 0.552786404500042).epsilon(kTol));
  // 1 - sqrt(0.8) = 1 - 0.894427190999916 = 0.105572809000084
  CHECK(learning_rate_at(sq, 19) == doctest::Approx(lr * 0.105572809000084).epsilon(kTol));
  CHECK(learning_rate_at(sq, 20) == 0.0);
}

TEST_CASE("schedule: decay steps round half away from zero, overlapping warmup takes the min") {
  // total 10, fraction 0.25 -> 2.5 -> D = 3, decay from s = 7: t = 8 has u = 1/3.
  const auto s = sched("warmup_stable_linear_decay", 1.0, 0, 0.25, 10);
  CHECK(learning_rate_at(s, 0) == 1.0);  // warmup 0: full lr at once
  CHECK(learning_rate_at(s, 7) == 1.0);
  CHECK(learning_rate_at(s, 8) == doctest::Approx(2.0 / 3.0).epsilon(kTol));
  // total 4, warmup 4, fraction 0.5 -> D = 2 from s = 2.
  const auto o = sched("warmup_stable_linear_decay", 1.0, 4, 0.5, 4);
  CHECK(learning_rate_at(o, 0) == doctest::Approx(0.25).epsilon(kTol));  // min(1/4, 1)
  CHECK(learning_rate_at(o, 2) == doctest::Approx(0.75).epsilon(kTol));  // min(3/4, u=0 -> 1)
  CHECK(learning_rate_at(o, 3) == doctest::Approx(0.50).epsilon(kTol));  // min(1, u=1/2 -> 1/2)
  // decay_fraction 0: no decay at all.
  CHECK(learning_rate_at(sched("warmup_stable_sqrt_decay", 1.0, 0, 0.0, 10), 9) == 1.0);
}

TEST_CASE("schedule: cosine warms up then decays to 0.1 lr at t = total") {
  // total 12, warmup 2: u = (t - 2) / 10 and lr * (0.1 + 0.45 * (1 + cos(pi u))).
  const auto s = sched("cosine", 1.0, 2, 0.2, 12);
  CHECK(learning_rate_at(s, 0) == doctest::Approx(0.5).epsilon(kTol));
  CHECK(learning_rate_at(s, 1) == doctest::Approx(1.0).epsilon(kTol));
  CHECK(learning_rate_at(s, 2) == doctest::Approx(1.0).epsilon(kTol));  // u = 0
  // u = 0.2: cos(0.2 pi) = 0.809016994374947 -> 0.1 + 0.45 * 1.809016994374947
  CHECK(learning_rate_at(s, 4) == doctest::Approx(0.914057647468726).epsilon(kTol));
  CHECK(learning_rate_at(s, 7) == doctest::Approx(0.55).epsilon(kTol));  // u = 0.5: cos = 0
  CHECK(learning_rate_at(s, 12) == doctest::Approx(0.1).epsilon(kTol));  // u = 1
  CHECK(learning_rate_at(s, 30) == doctest::Approx(0.1).epsilon(kTol));  // clamped
}

TEST_CASE("schedule: bad inputs are errors naming the problem") {
  CHECK_THROWS_WITH_AS(learning_rate_at(sched("linear", 1, 0, 0.2, 10), 0),
                       doctest::Contains("unknown schedule \"linear\""), sg::Error);
  CHECK_THROWS_WITH_AS(learning_rate_at(sched("constant", 1, 0, 0.2, 10), -1),
                       doctest::Contains("step -1"), sg::Error);
  CHECK_THROWS_WITH_AS(learning_rate_at(sched("constant", 1, 0, 0.2, 0), 0),
                       doctest::Contains("total_steps = 0"), sg::Error);
}
