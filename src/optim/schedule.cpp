#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace sg {

double learning_rate_at(const ScheduleConfig& s, int64_t t) {
  SG_CHECK(t >= 0, "learning_rate_at: step ", t, " is negative");
  SG_CHECK(s.total_steps >= 1, "learning_rate_at: total_steps = ", s.total_steps,
           ", expected >= 1");
  SG_CHECK(s.warmup_steps >= 0, "learning_rate_at: warmup_steps = ", s.warmup_steps,
           ", expected >= 0");
  SG_CHECK(s.decay_fraction >= 0 && s.decay_fraction <= 1,
           "learning_rate_at: decay_fraction = ", s.decay_fraction, ", expected in [0, 1]");
  const int64_t W = s.warmup_steps, S = s.total_steps;
  const double warm = t < W ? static_cast<double>(t + 1) / W : 1.0;
  if (s.name == "constant") return s.lr;
  if (s.name == "cosine") {
    if (t < W) return s.lr * warm;
    const double u = S > W ? std::min(1.0, static_cast<double>(t - W) / (S - W)) : 1.0;
    return s.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * u)));
  }
  const bool linear = s.name == "warmup_stable_linear_decay";
  SG_CHECK(linear || s.name == "warmup_stable_sqrt_decay", "learning_rate_at: unknown schedule \"",
           s.name, "\" (allowed: constant, cosine, warmup_stable_linear_decay, ",
           "warmup_stable_sqrt_decay)");
  const auto D = static_cast<int64_t>(std::llround(s.decay_fraction * static_cast<double>(S)));
  double decay = 1.0;
  if (D > 0 && t >= S - D) {
    const double u = std::min(1.0, static_cast<double>(t - (S - D)) / D);
    decay = linear ? 1 - u : 1 - std::sqrt(u);
  }
  return s.lr * std::min(warm, decay);
}

}  // namespace sg
