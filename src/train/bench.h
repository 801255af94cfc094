// Whole-model training-step benchmark on random tokens: the source of every
// tokens/s figure in docs/PERFORMANCE.md.
#pragma once
#include <array>
#include <string>

#include "train/run_config.h"
#include "util/profiler.h"

namespace sg {

struct ModelBenchResult {
  int64_t tokens_per_step = 0, steps = 0;
  double median_ms = 0, mean_ms = 0, tokens_per_s = 0, gflops = 0;  // rates from the median step
  double train_flops_per_token = 0;                      // 3x forward incl. logits
  std::array<double, static_cast<size_t>(OpKind::count)> ms_per_step{};  // breakdown
};

// Runs 1 warm-up step then `steps` timed forward+backward+AdamW steps.
ModelBenchResult bench_model(const RunConfig& cfg, int64_t steps);

}  // namespace sg
