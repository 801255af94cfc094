// sgatlin scope: options only; the work is eval/scope.h.
#include <memory>

#include "cli/commands.h"
#include "eval/scope.h"

namespace sg::cli {

void register_scope(CLI::App& app) {
  auto a = std::make_shared<ScopeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "scope", "Record the picked neurons and scores of every token, layer and channel");
  cmd->add_option("--checkpoint", a->checkpoint, "Run folder or checkpoint folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--data", a->data, "Token shard (default: the run's valid shard)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Output folder (index.json + .npy files)")->required();
  cmd->add_option("--sequences", a->sequences, "Sequences (windows of seq_len) to record")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--layers", a->layers, "Layers to record (default: all)");
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--threads", *threads, "OpenMP threads (default: all cores)");
  cmd->add_option("--set", a->overrides, "precision=fp32|bf16|auto (default: the run's setting)");
  cmd->callback([a, threads] {
    apply_threads(*threads);
    run_scope(*a);
  });
}

}  // namespace sg::cli
