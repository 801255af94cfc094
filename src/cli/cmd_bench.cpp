// sgatlin bench: options only; the benchmarks are train/bench_ops.h.
#include <memory>

#include "cli/commands.h"
#include "train/bench_ops.h"

namespace sg::cli {

CLI::App* register_bench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench",
                                       "Benchmarks: --config FILE times training steps of a model; "
                                       "the ops subcommand times kernels");
  bench->require_subcommand(0, 1);
  auto opts = std::make_shared<OpBenchOptions>();
  auto ops_threads = std::make_shared<int>(0);
  CLI::App* ops = bench->add_subcommand(
      "ops",
      "Time single ops (linear fp32/bf16 forward and forward+backward) against a raw "
      "oneDNN matmul baseline; prints median ms and GFLOP/s");
  ops->add_option("--threads", *ops_threads, "OpenMP threads (0 = all cores)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  ops->add_option("--reps", opts->reps, "timed repetitions per case (median is reported)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  ops->add_option("--warmup", opts->warmup, "untimed repetitions before timing")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  ops->callback([opts, ops_threads] { run_bench_ops(*opts, apply_threads(*ops_threads)); });
  auto model = std::make_shared<ModelBenchOptions>();
  auto model_threads = std::make_shared<int>(0);
  bench
      ->add_option("--config", model->config,
                   "Run config: time training steps of its model on random tokens")
      ->check(CLI::ExistingFile);
  bench->add_option("--set", model->overrides, "Override a config key: path=value (repeatable)");
  bench->add_option("--steps", model->steps, "Timed steps (median reported)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  bench->add_option("--threads", *model_threads, "OpenMP threads (0 = all cores)")
      ->check(CLI::Range(0, 4096));
  bench->callback([bench, model, model_threads] {
    if (!bench->get_subcommands().empty()) return;
    if (model->config.empty())
      throw CLI::RequiredError("bench: --config FILE (a model) or the ops subcommand");
    run_bench_model(*model, apply_threads(*model_threads));
  });
  return bench;
}

}  // namespace sg::cli
