// sgatlin info: sizes and FLOP counts of a config, without building the model.
#include <iostream>

#include "cli/commands.h"
#include "nn/counting.h"
#include "train/run_config.h"

namespace sg::cli {

namespace {

struct InfoArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool json = false;
};

void run_info(const InfoArgs& a) {
  const RunConfig cfg = load_run_config(a.config, a.overrides);
  const int64_t T = cfg.data.seq_len;
  const int64_t fwd = fwd_flops_per_sequence(cfg.model, T);
  nlohmann::json j = {
      {"name", cfg.name},
      {"ffw_type", cfg.model.ffw.type},
      {"n_params", n_params(cfg.model)},
      {"seq_len", T},
      {"fwd_flops_per_sequence", fwd},
      {"train_flops_per_sequence", 3 * fwd},
      {"fwd_flops_per_token", fwd / T},
      {"ffw_flops_per_token", ffw_flops_per_token(cfg.model.ffw, cfg.model.d_model)},
      {"steps_for_budget", nullptr}};
  if (cfg.flops_budget)
    j["steps_for_budget"] = steps_for_budget(*cfg.flops_budget, cfg.model, T, cfg.data.batch_size);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "config                      " << a.config << " (" << cfg.name << ")\n"
            << "feedforward                 " << cfg.model.ffw.type << "\n"
            << "parameters                  " << j["n_params"] << "\n"
            << "forward FLOPs / sequence    " << fwd << "  (T = " << T
            << ", attention + ffw, no embedding/logits)\n"
            << "training FLOPs / sequence   " << 3 * fwd << "\n"
            << "forward FLOPs / token       " << fwd / T << "\n"
            << "  of which feedforward      " << j["ffw_flops_per_token"] << " per layer\n"
            << "steps for flops_budget      "
            << (cfg.flops_budget ? j["steps_for_budget"].dump() : std::string("(no budget set)"))
            << "\n";
}

}  // namespace

void register_info(CLI::App& app) {
  auto a = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Print parameters and FLOP counts of a config");
  cmd->add_option("--config", a->config, "Run config JSON")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", a->overrides, "Override a config key: path=value (repeatable)");
  cmd->add_flag("--json", a->json, "Print JSON (n_params, fwd_flops_per_sequence, ...)");
  cmd->callback([a] { run_info(*a); });
}

}  // namespace sg::cli
