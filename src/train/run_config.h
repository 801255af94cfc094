// A whole run config (spec §8). load_run_config() parses and validates it: unknown
// keys, wrong types and impossible values raise sg::Error naming the file, the JSON
// path, the value and what is allowed.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/model_config.h"

namespace sg {

struct DataConfig {
  std::string train, valid, tokenizer;  // shard paths and the sentencepiece model
  int64_t batch_size = 256;
  int64_t seq_len = 1024;
};

struct OptimizerConfig {
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;
  std::string schedule = "warmup_stable_sqrt_decay";  // constant | cosine | warmup_stable_linear_decay | warmup_stable_sqrt_decay
  int64_t warmup_steps = 100;
  double decay_fraction = 0.2;
  double clip_by_global_norm = 1.0;
  int64_t n_gradient_accumulation = 1;
};

struct RunConfig {
  std::string name = "run";
  uint64_t seed = 0;
  ModelConfig model;
  DataConfig data;
  OptimizerConfig optimizer;
  std::optional<double> flops_budget;
  std::optional<int64_t> max_steps;
  int64_t log_every = 100, eval_every = 1000, checkpoint_every = 1000;
  int64_t eval_batches = 20;  // validation batches per evaluation (0: the whole shard)
  std::string workdir = "runs";
  nlohmann::json raw;  // the resolved JSON (defaults filled, overrides applied)
};

// `overrides` are "json.path=value" strings (value parsed as JSON, else as a string),
// applied before validation, e.g. "optimizer.learning_rate=3e-4", "model.ffw.type=mlp".
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides = {});
RunConfig parse_run_config(const nlohmann::json& j, const std::string& source,
                           const std::vector<std::string>& overrides = {});
nlohmann::json to_json(const RunConfig& c);
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source);
nlohmann::json to_json(const ModelConfig& m);

}  // namespace sg
