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
  double train_flops_per_token = 0;                                 // 3x forward incl. logits
  std::array<double, static_cast<size_t>(OpKind::count)> ms_per_step{};  // breakdown
  std::string precision;                                                 // resolved: fp32 | bf16
  // Memory: the estimate is params + grads + AdamW moments + bf16 weight copies (bf16
  // only), from the parameter count, + activations: the peak of live tensor bytes during
  // a timed step above what lives between steps, minus the grads.
  int64_t params_bytes = 0, grads_bytes = 0, optimizer_bytes = 0, bf16_copy_bytes = 0;
  int64_t activation_bytes = 0, peak_rss_bytes = 0;
  int64_t estimate_bytes() const {
    return params_bytes + grads_bytes + optimizer_bytes + bf16_copy_bytes + activation_bytes;
  }
};

// Runs 1 warm-up step then `steps` timed forward+backward+AdamW steps in the config's
// precision (resolved on this CPU).
ModelBenchResult bench_model(const RunConfig& cfg, int64_t steps);

}  // namespace sg
