// Compute-budget sweeps (`sgatlin sweep`). A sweep file is JSON:
//
//   {
//     "description": "any text (optional, ignored)",
//     "base": "configs/kjv_sgatlin.json",      // run config that supplies data, optimizer,
//                                              // logging and vocab_size (path from the cwd)
//     "budgets": [1e14, 3e14],                 // training FLOP budgets (spec §5), > 0
//     "types": ["mlp", "swiglu", "moe", "peer", "sgatlin"],   // distinct ffw types
//     "scales": [1, 2],                        // ladder scales (spec §6), distinct, >= 1
//     "overrides": {"eval_every": 50},         // optional: run config keys set in every run
//     "grid": {"optimizer.learning_rate": [1e-3, 2e-3]},  // optional: each key a non-empty
//                                              // list of values; runs take every combination
//     "workdir": "runs/sweeps/kjv_small"       // run folders, summary and plots go here
//   }
//
// Expansion, in this order: budgets (file order) x types (file order) x scales (file
// order) x grid combinations (keys in alphabetical order, values in file order). Each run
// is the base config with `model` replaced by ladder_model(type, scale, base vocab_size),
// flops_budget = the budget, max_steps = null, then `overrides`, then the grid values,
// applied like `train --set` (so model keys may be overridden too). The sweep owns name,
// workdir, flops_budget and max_steps; overrides and grid may not set them.
// Run names are deterministic: b<budget>_<type>_s<scale> then _<label><value> per grid key,
// e.g. b1e15_sgatlin_s1_lr0.002; the label is a short form of the key's last component
// (learning_rate -> lr, weight_decay -> wd, batch_size -> bs, ...). Each run lives in
// workdir/<name>.
// Validation is as strict as for run configs: unknown keys, wrong types and bad values
// raise sg::Error naming the file, the JSON path, the value and what is allowed; a bad
// override or grid value is reported by the run config parser with the run it built.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/run_config.h"

namespace sg {

struct SweepSpec {
  std::string source;  // the sweep file, for messages
  std::string base, workdir;
  std::vector<double> budgets;
  std::vector<std::string> types;
  std::vector<int64_t> scales;
  nlohmann::json overrides = nlohmann::json::object();                    // "json.path" -> value
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // sorted by key
};

SweepSpec parse_sweep(const nlohmann::json& j, const std::string& source);
SweepSpec load_sweep(const std::string& path);

struct PlannedRun {
  std::string name, type;
  double budget = 0;
  int64_t scale = 0;
  std::vector<std::pair<std::string, nlohmann::json>> grid_values;  // key -> this run's value
  RunConfig cfg;  // fully resolved: name, workdir, flops_budget set
  int64_t steps = 0, tokens = 0, n_params = 0;
  double train_flops_per_token = 0;  // 3x forward (spec §5 counting, no embedding/logits)
  std::string run_dir;               // workdir/name
};

// `base` is the parsed base config (data paths as they should appear in the runs).
std::vector<PlannedRun> expand_sweep(const SweepSpec& s, const RunConfig& base);

// "1e15", "3e14", "2.5e17": the budget as it appears in run names and plot files.
std::string format_budget(double budget);

}  // namespace sg
