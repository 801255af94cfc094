// sgatlin eval: held-out metrics (spec §4) and neuron usage of a checkpoint.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "eval/evaluate.h"
#include "train/checkpoint_model.h"
#include "train/precision.h"

namespace sg::cli {

namespace {

struct EvalArgs {
  std::string checkpoint, data;
  int64_t batches = 0, batch_size = 0;
  bool json = false;
  int threads = 0;
  std::vector<std::string> overrides;  // --set precision=...
};

void print_usage_row(const char* what, const UsageStats& s) {
  std::printf("    %-13s min/max %.4f  cv %.4f  used %.4f  entropy %.4f\n", what, s.min_max_ratio,
              s.cv, s.frac_used, s.entropy);
}

void run_eval(const EvalArgs& a) {
  apply_threads(a.threads);
  CheckpointModel cm = load_checkpoint_model(a.checkpoint);
  apply_precision(saved_model_precision(cm.run_config, a.overrides), cm.dir);
  const nlohmann::json& data = cm.run_config.at("data");
  const std::string shard = a.data.empty() ? data.at("valid").get<std::string>() : a.data;
  const int64_t T = data.at("seq_len").get<int64_t>();
  // Sequential windows, never more per batch than the shard holds (no wrap-around).
  const int64_t windows = Loader(shard, 1, T, 0, kEosId, false).windows_per_epoch();
  SG_CHECK(windows >= 1, shard, ": fewer tokens than one window of seq_len ", T);
  const int64_t want = a.batch_size > 0 ? a.batch_size : data.value("batch_size", int64_t{8});
  Loader loader(shard, std::min(want, windows), T, 0, kEosId, /*shuffle=*/false);
  const EvalResult r = evaluate(*cm.model, loader, a.batches, kPadId);

  nlohmann::json usage = nlohmann::json::array();
  for (const LayerUsage& u : r.usage) usage.push_back(to_json(u));
  if (a.json) {
    std::cout << nlohmann::json{{"checkpoint", cm.dir},
                                {"data", shard},
                                {"tokens", r.tokens},
                                {"sequences", r.sequences},
                                {"loss", r.loss},
                                {"acc", r.accuracy},
                                {"perplexity", r.perplexity},
                                {"perplexity_last_token", r.perplexity_last_token},
                                {"usage", usage}}
                     .dump(2)
              << "\n";
    return;
  }
  std::printf("checkpoint %s\ndata %s: %lld tokens in %lld sequences\n", cm.dir.c_str(),
              shard.c_str(), static_cast<long long>(r.tokens), static_cast<long long>(r.sequences));
  std::printf("loss %.4f  acc %.4f  perplexity %.3f  perplexity_last_token %.3f\n", r.loss,
              r.accuracy, r.perplexity, r.perplexity_last_token);
  if (!r.usage.empty()) std::printf("neuron usage (mean over pools; entropy / log N):\n");
  for (const LayerUsage& u : r.usage) {
    std::printf("  layer %lld (%s)\n", static_cast<long long>(u.layer), u.type.c_str());
    print_usage_row("whole set", u.set);
    print_usage_row("per sequence", u.per_sequence);
  }
}

}  // namespace

void register_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Loss, accuracy, perplexity and neuron usage of a checkpoint");
  cmd->add_option("--checkpoint", a->checkpoint, "Run folder or checkpoint folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--data", a->data, "Token shard (default: the run's valid shard)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--batches", a->batches, "Batches to evaluate (0: one pass over the shard)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", a->batch_size, "Sequences per batch (default: the run's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all cores)");
  cmd->add_option("--set", a->overrides, "precision=fp32|bf16|auto (default: the run's setting)");
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace sg::cli
