// The training loop: builds the model and optimizer from a RunConfig, streams
// batches, logs metrics.jsonl, validates, checkpoints atomically and resumes.
#pragma once
#include <cstdint>
#include <string>

#include "train/run_config.h"

namespace sg {

struct TrainOptions {
  std::string run_dir;  // config.json, metrics.jsonl, checkpoints/ go here
  bool resume = false;  // continue from run_dir's latest checkpoint
  int32_t eos_id = 1, pad_id = 0;
  bool quiet = false;  // no header or progress line (tests, sweeps print their own)
};

struct TrainSummary {
  int64_t steps = 0, tokens = 0, n_params = 0;
  double final_train_loss = 0, val_loss = 0, val_accuracy = 0, val_perplexity = 0;
  double wall_s = 0, tokens_per_s = 0;
  std::string precision;  // resolved: fp32 | bf16
};

// Number of optimizer steps: from flops_budget (spec §5), else max_steps, else one
// pass over `train_tokens`.
int64_t planned_steps(const RunConfig& cfg, int64_t train_tokens);

// Trains to the planned step count; on success writes run_dir/summary.json, which
// marks the run as finished.
TrainSummary train(const RunConfig& cfg, const TrainOptions& opt);
nlohmann::json to_json(const TrainSummary& s);

}  // namespace sg
