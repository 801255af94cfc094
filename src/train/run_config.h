// A whole run config (spec §8). load_run_config() parses and validates it: unknown
// keys, wrong types and impossible values raise sg::Error naming the file, the JSON
// path, the value and what is allowed, e.g.
//   configs/x.json: model.ffw.router_type = "foo": unknown router (allowed: product_dense, ...)
// Rules beyond the spec:
// - Missing keys take the struct defaults, except two that depend on model.ffw.type:
//   activation defaults to gelu for mlp (spec §2.1) and identity otherwise (sgatlin,
//   §2.2; swiglu/moe/peer do not use it); router_type defaults to product_key_value for
//   peer (the only router PEER has, §2.5; any other value is an error) and product_dense
//   otherwise. Keys a type does not use (e.g. knn for mlp) are accepted and ignored.
// - Integers may be written as integral floats (1e5). seed is an unsigned 64-bit integer.
//   flops_budget and max_steps may be null. clip_by_global_norm 0 disables clipping.
// - Duplicate keys in the file are an error.
// - An unknown key's message suggests the closest known key at that level.
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
  // constant | cosine | warmup_stable_linear_decay | warmup_stable_sqrt_decay
  std::string schedule = "warmup_stable_sqrt_decay";
  int64_t warmup_steps = 100;
  double decay_fraction = 0.2;
  double clip_by_global_norm = 1.0;
  int64_t n_gradient_accumulation = 1;
};

struct RunConfig {
  std::string name = "run";
  uint64_t seed = 0;
  std::string precision = "auto";  // fp32 | bf16 | auto (train/precision.h resolves it)
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

// `overrides` are "json.path=value" strings applied in order before validation, e.g.
// "optimizer.learning_rate=3e-4", "model.ffw.type=mlp", "max_steps=null". The path must
// name a known key; the value is parsed as JSON if it parses, else taken as a string, and
// for string-valued keys always taken as the raw text (so "name=123" names the run "123").
// Errors about an overridden value name the override. `raw` is to_json() of the result.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides = {});
RunConfig parse_run_config(const nlohmann::json& j, const std::string& source,
                           const std::vector<std::string>& overrides = {});
nlohmann::json to_json(const RunConfig& c);
// The `model` section alone (checkpoint metadata); paths in errors have no "model." prefix.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source);
nlohmann::json to_json(const ModelConfig& m);

}  // namespace sg
