// Loading a trained model from a run or checkpoint folder, for the inspection commands
// (generate, eval, intervene, scope).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "nn/transformer.h"

namespace sg {

struct CheckpointModel {
  std::string dir;            // the checkpoint folder itself
  nlohmann::json run_config;  // as stored in its model.safetensors
  std::unique_ptr<Transformer> model;
};

// `dir` is a run folder (its newest checkpoint is used) or a checkpoint folder.
CheckpointModel load_checkpoint_model(const std::string& dir);

// The run folder keeps a copy of its tokenizer; falls back to the config's path.
std::string find_tokenizer(const std::string& ckpt_dir, const nlohmann::json& run_config);

}  // namespace sg
