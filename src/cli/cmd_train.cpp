// sgatlin train: one run from a JSON config, or --resume of a killed run.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg::cli {

namespace {

struct TrainArgs {
  std::string config, workdir, resume;
  std::vector<std::string> overrides;
  int threads = 0;
};

// Data paths become absolute so a run can be resumed from any folder.
void absolutize_data_paths(RunConfig& cfg) {
  for (auto [field, key] : {std::pair{&cfg.data.train, "train"}, {&cfg.data.valid, "valid"},
                            {&cfg.data.tokenizer, "tokenizer"}}) {
    SG_CHECK(!field->empty(), "config: data.", key, " is not set (run 'sgatlin data prepare' and "
             "point data.", key, " at its output)");
    SG_CHECK(fs::exists(*field), "config: data.", key, " = \"", *field,
             "\": no such file (run 'sgatlin data prepare' first?)");
    *field = fs::absolute(*field).lexically_normal().string();
    cfg.raw["data"][key] = *field;
  }
}

void run_train(const TrainArgs& a) {
  const int threads = apply_threads(a.threads);
  TrainOptions opt;
  RunConfig cfg;
  if (!a.resume.empty()) {
    const std::string saved = (fs::path(a.resume) / "config.json").string();
    SG_CHECK(fs::exists(saved), "--resume ", a.resume, ": no config.json there (not a run folder)");
    cfg = load_run_config(saved, a.overrides);
    opt.run_dir = a.resume;
    opt.resume = true;
  } else {
    SG_CHECK(!a.config.empty(), "train: pass --config FILE (or --resume RUN_DIR)");
    cfg = load_run_config(a.config, a.overrides);
    absolutize_data_paths(cfg);
    opt.run_dir = (fs::path(a.workdir.empty() ? cfg.workdir : a.workdir) / cfg.name).string();
  }
  const Tokenizer tok = Tokenizer::load(cfg.data.tokenizer);
  SG_CHECK(tok.vocab_size() <= cfg.model.vocab_size, "config: model.vocab_size = ",
           cfg.model.vocab_size, " is smaller than the tokenizer's ", tok.vocab_size(), " (",
           cfg.data.tokenizer, ")");
  opt.eos_id = tok.eos_id();
  opt.pad_id = tok.pad_id();
  fs::create_directories(opt.run_dir);
  write_file_atomic((fs::path(opt.run_dir) / "tokenizer.model").string(), read_file(cfg.data.tokenizer));
  std::cerr << "run folder " << opt.run_dir << " (" << threads << " threads)\n";
  const TrainSummary s = train(cfg, opt);
  std::cout << "done: " << s.steps << " steps, " << s.tokens << " tokens in "
            << static_cast<int64_t>(s.wall_s) << " s (" << static_cast<int64_t>(s.tokens_per_s)
            << " tokens/s); final train loss " << s.final_train_loss << "\n"
            << "validation: loss " << s.val_loss << ", accuracy " << s.val_accuracy
            << ", perplexity " << s.val_perplexity << "\n"
            << "sample with: sgatlin generate --checkpoint " << opt.run_dir << " --prompt \"...\"\n";
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a model from a JSON config; writes config.json, metrics.jsonl and "
               "checkpoints/ into WORKDIR/NAME");
  cmd->add_option("--config", a->config, "Run config JSON (see configs/)")->check(CLI::ExistingFile);
  cmd->add_option("--set", a->overrides,
                  "Override a config key, e.g. --set optimizer.learning_rate=3e-4 (repeatable)");
  cmd->add_option("--workdir", a->workdir, "Parent folder of the run folder (default: config's workdir)");
  cmd->add_option("--resume", a->resume, "Continue the run in this folder from its last checkpoint")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all cores)");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace sg::cli
