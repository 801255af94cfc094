// `sgatlin sweep`: train every run of a compute-budget sweep (train/sweep.h) one after
// another, or print its plan with dry_run. Running the same sweep again continues an
// interrupted one: finished runs (summary.json) are skipped, a run with a checkpoint
// resumes from it. summary.json/.csv and plots are refreshed after every run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct SweepOptions {
  std::string config;                  // the sweep JSON
  bool dry_run = false;                // print the plan only
  int64_t bench_steps = 2;             // timed steps per model shape for the dry run's estimates
  std::vector<std::string> overrides;  // --set applied to the base config
};

// `threads`: the OpenMP thread count in use (reported with the estimates). Throws
// sg::Error when any run failed, after finishing the others.
void run_sweep(const SweepOptions& options, int threads);

}  // namespace sg
