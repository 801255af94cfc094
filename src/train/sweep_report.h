// What a sweep leaves in its workdir besides the run folders:
//   summary.json, summary.csv  one row per finished run, in plan order (rewritten
//                              atomically after every run)
//   plots/isoflop_b<budget>.png  final validation loss against parameters (log x), one
//                              curve per type; a point is the best run over the grid
//   plots/loss_b<budget>.png   training and validation loss against tokens, every run
//   plots/sweep.gp, plots/data/  the gnuplot script and the data it reads
#pragma once
#include <string>
#include <vector>

#include "train/sweep.h"
#include "train/trainer.h"

namespace sg {

struct SweepRow {
  PlannedRun run;
  TrainSummary result;
};

// The run's summary.json (written by train()) as a TrainSummary.
TrainSummary read_train_summary(const std::string& path);

// Columns: name, budget, type, scale, one per grid key, n_params, train_flops_per_token,
// steps, tokens, final_train_loss, val_loss, val_perplexity, val_accuracy, wall_s,
// tokens_per_s, run_dir.
nlohmann::json sweep_summary_json(const std::vector<SweepRow>& rows);
std::string sweep_summary_csv(const SweepSpec& s, const std::vector<SweepRow>& rows);
void write_sweep_summary(const SweepSpec& s, const std::vector<SweepRow>& rows);

bool gnuplot_available();
// Writes the plot data and script under workdir/plots and runs gnuplot. Returns the
// PNG files written; throws with gnuplot's output if it fails.
std::vector<std::string> plot_sweep(const SweepSpec& s, const std::vector<SweepRow>& rows);

}  // namespace sg
