// Learning-rate schedules (spec §5). Step t counts from 0 to total_steps - 1.
//
// Discrete convention (chosen so that no step trains at lr 0):
//   warmup (W = warmup_steps): lr * (t + 1) / W for t < W, so step 0 gets lr / W and
//     step W - 1 the full lr. W = 0 means no warmup.
//   constant: lr at every step (no warmup).
//   cosine: after warmup, u = (t - W) / (total - W) and
//     lr * (0.1 + 0.9 * 0.5 * (1 + cos(pi * u))): full lr at t = W, reaching 0.1 * lr at
//     t = total, one past the last step.
//   warmup_stable_{linear,sqrt}_decay: D = round(decay_fraction * total) decay steps start
//     at s = total - D; for t >= s, u = (t - s) / D and the factor is 1 - u (linear) or
//     1 - sqrt(u) (sqrt): full lr at t = s, reaching 0 at t = total, one past the last step.
//     When warmup and decay overlap (short runs) the smaller factor wins.
// Steps t >= total continue the formulas with u clamped to 1.
#pragma once
#include <cstdint>
#include <string>

namespace sg {

struct ScheduleConfig {
  std::string name = "warmup_stable_sqrt_decay";
  double lr = 1e-3;
  int64_t warmup_steps = 100;
  double decay_fraction = 0.2;
  int64_t total_steps = 1;
};

double learning_rate_at(const ScheduleConfig& s, int64_t t);

}  // namespace sg
