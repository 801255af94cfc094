// sgatlin train: one run from a JSON config, or --resume of a killed run.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "dist/comm.h"
#include "train/run_setup.h"
#include "train/trainer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace sg::cli {

namespace {

struct TrainArgs {
  std::string config, workdir, resume;
  std::vector<std::string> overrides;
  int threads = 0;
};

void run_train(const TrainArgs& a) {
  const int threads = apply_threads(a.threads);
  RunConfig cfg;
  std::string run_dir;
  if (!a.resume.empty()) {
    const std::string saved = (fs::path(a.resume) / "config.json").string();
    SG_CHECK(fs::exists(saved), "--resume ", a.resume, ": no config.json there (not a run folder)");
    cfg = load_run_config(saved, a.overrides);
    run_dir = a.resume;
  } else {
    SG_CHECK(!a.config.empty(), "train: pass --config FILE (or --resume RUN_DIR)");
    cfg = load_run_config(a.config, a.overrides);
    absolutize_data_paths(cfg);
    run_dir = (fs::path(a.workdir.empty() ? cfg.workdir : a.workdir) / cfg.name).string();
  }
  const TrainOptions opt = prepare_run(cfg, run_dir, !a.resume.empty());
  if (dist::size() > 1 && dist::is_root())
    std::cerr << "run folder " << opt.run_dir << " (" << dist::size() << " ranks x " << threads
              << " threads)\n";
  else if (dist::is_root())
    std::cerr << "run folder " << opt.run_dir << " (" << threads << " threads)\n";
  const TrainSummary s = train(cfg, opt);
  if (!dist::is_root()) return;
  std::cout << "done: " << s.steps << " steps, " << s.tokens << " tokens in "
            << static_cast<int64_t>(s.wall_s) << " s (" << static_cast<int64_t>(s.tokens_per_s)
            << " tokens/s); final train loss " << s.final_train_loss << "\n"
            << "validation: loss " << s.val_loss << ", accuracy " << s.val_accuracy
            << ", perplexity " << s.val_perplexity << "\n"
            << "sample with: sgatlin generate --checkpoint " << opt.run_dir
            << " --prompt \"...\"\n";
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd =
      app.add_subcommand("train",
                         "Train a model from a JSON config; writes config.json, metrics.jsonl and "
                         "checkpoints/ into WORKDIR/NAME");
  cmd->add_option("--config", a->config, "Run config JSON (see configs/)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--set", a->overrides,
                  "Override a config key, e.g. --set optimizer.learning_rate=3e-4 (repeatable)");
  cmd->add_option("--workdir", a->workdir,
                  "Parent folder of the run folder (default: config's workdir)");
  CLI::Option* resume = cmd->add_option("--resume", a->resume,
                                        "Continue the run in this folder from its last checkpoint")
                            ->check(CLI::ExistingDirectory);
  resume->excludes(cmd->get_option("--config"))->excludes(cmd->get_option("--workdir"));
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all cores)");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace sg::cli
