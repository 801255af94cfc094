// Checkpoints. Each one is a folder `checkpoints/step_NNNNNNNN/` in the run directory:
//   model.safetensors      spec §7 names (fp32 whatever the precision); metadata "config"
//                          (model JSON), "run_config" and "precision" (the resolved one)
//   optimizer.safetensors  AdamW moments "<param>.m", "<param>.v"
//   trainer_state.json     step, tokens, loader position, precision (absent: fp32)
// It is built under a temporary name, fsynced, renamed into place, and only then does
// the run's `checkpoints/latest` file (written atomically) point at it, so a kill at any
// moment leaves the previous checkpoint complete and current.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "nn/transformer.h"
#include "optim/adamw.h"

namespace sg {

struct TrainerState {
  int64_t step = 0;    // optimizer steps done
  int64_t tokens = 0;  // training tokens consumed
  LoaderState loader;
  double elapsed_s = 0;
  std::string precision = "fp32";  // resolved compute precision (train/precision.h)
};

void save_checkpoint(const std::string& run_dir, const Transformer& model, const AdamW& opt,
                     const TrainerState& state, const nlohmann::json& run_config, int keep = 2);

// Folder of the newest complete checkpoint of a run, or `dir` itself if it already is a
// checkpoint folder (holds model.safetensors). Throws naming the run when there is none.
std::string resolve_checkpoint(const std::string& dir);

// The run config stored in a checkpoint's model.safetensors.
nlohmann::json checkpoint_run_config(const std::string& ckpt_dir);

// Loads weights (names and shapes must match the model exactly) and, when given, the
// optimizer moments and trainer state.
void load_model_weights(const std::string& ckpt_dir, Transformer& model);
void load_training_state(const std::string& ckpt_dir, const Transformer& model, AdamW& opt,
                         TrainerState& state);

}  // namespace sg
