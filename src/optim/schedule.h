// Learning-rate schedules (spec §5). Step t counts from 0 to total_steps - 1.
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
