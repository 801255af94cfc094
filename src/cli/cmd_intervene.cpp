// sgatlin intervene: options only; the work is eval/intervene_pairs.h.
#include <memory>

#include "cli/commands.h"
#include "eval/intervene_pairs.h"

namespace sg::cli {

void register_intervene(CLI::App& app) {
  auto a = std::make_shared<InterveneOptions>();
  CLI::App* cmd = app.add_subcommand(
      "intervene", "Patch router decisions of a clean run with a counterfactual run's");
  cmd->add_option("--checkpoint", a->checkpoint, "Run folder or checkpoint folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option(
         "--pairs", a->pairs,
         "JSONL: {\"clean\", \"counterfactual\", \"answers_clean\": [..], \"answers_cf\": [..]}")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--position", a->position,
                  "Prompt token position to patch (0-based, negative from the end, or 'diff': "
                  "every position where the prompts differ)")
      ->required();
  cmd->add_option("--measure", a->measure, "Prompt token position whose logits are compared")
      ->capture_default_str();
  cmd->add_option("--layers", a->layers, "Layers to patch (default: all)");
  cmd->add_flag("--json", a->json, "Print one JSON object");
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--threads", *threads, "OpenMP threads (default: all cores)");
  cmd->add_option("--set", a->overrides, "precision=fp32|bf16|auto (default: the run's setting)");
  cmd->callback([a, threads] {
    apply_threads(*threads);
    run_intervene(*a);
  });
}

}  // namespace sg::cli
