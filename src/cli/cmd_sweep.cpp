// sgatlin sweep: options only; the runner is train/sweep_runner.h.
#include <memory>

#include "cli/commands.h"
#include "train/sweep_runner.h"

namespace sg::cli {

void register_sweep(CLI::App& app) {
  auto a = std::make_shared<SweepOptions>();
  auto threads = std::make_shared<int>(0);
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Train a compute-budget sweep (budgets x types x ladder scales x grid), one run "
      "after another; rerun to continue an interrupted sweep (see docs/SWEEPS.md)");
  cmd->add_option("--config", a->config, "Sweep JSON (see sweeps/)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--dry-run", a->dry_run,
                "Print the plan (params, steps, tokens, estimated time) without training");
  cmd->add_option("--bench-steps", a->bench_steps,
                  "Timed steps per model shape for --dry-run estimates (0: no benchmark)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", *threads, "OpenMP threads (default: all cores)");
  cmd->add_option("--set", a->overrides, "Override a key of the base config, e.g. precision=fp32");
  cmd->callback([a, threads] { run_sweep(*a, apply_threads(*threads)); });
}

}  // namespace sg::cli
