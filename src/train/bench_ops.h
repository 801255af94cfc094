// `sgatlin bench`: single-op timings and the whole-model training-step benchmark
// (train/bench.h), printed as reports with the load average around them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct OpBenchOptions {
  int reps = 20;   // timed repetitions per case (median reported)
  int warmup = 3;  // untimed repetitions first
};

// Times single ops (linear fp32/bf16, attention, sparse experts; median of timed reps,
// round-robin over the cases) and prints ms and GFLOP/s next to a raw oneDNN matmul.
void run_bench_ops(const OpBenchOptions& options, int threads);

struct ModelBenchOptions {
  std::string config;                  // run config
  std::vector<std::string> overrides;  // path=value, as train --set
  int64_t steps = 10;                  // timed steps
};

// Training steps of a whole model on random tokens, with the time per op kind: the
// figure behind every tokens/s claim in docs/PERFORMANCE.md.
void run_bench_model(const ModelBenchOptions& options, int threads);

}  // namespace sg
