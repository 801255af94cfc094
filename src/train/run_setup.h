// Steps shared by `train` and `sweep` before a run starts.
#pragma once
#include <string>

#include "train/run_config.h"
#include "train/trainer.h"

namespace sg {

// Data paths become absolute (also in cfg.raw) so a run can be resumed from any folder;
// throws if a path is unset or does not exist.
void absolutize_data_paths(RunConfig& cfg);

// Loads the tokenizer (its vocabulary must fit model.vocab_size), takes eos/pad ids from
// it, creates run_dir and copies the tokenizer there so the run folder is self-contained.
TrainOptions prepare_run(const RunConfig& cfg, const std::string& run_dir, bool resume);

}  // namespace sg
