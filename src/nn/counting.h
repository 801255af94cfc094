// Parameter and FLOP counts worked out from a config alone (spec §2, §5), so that
// `info`, budgets and sweeps need no model in memory.
#pragma once
#include <optional>

#include "nn/model_config.h"

namespace sg {

int64_t ffw_flops_per_token(const FfwConfig& f, int64_t d_model);
// Parameters of one feedforward layer (all its tensors, router included).
int64_t ffw_n_params(const FfwConfig& f, int64_t d_model);
// n_layers * (attention + ffw) per sequence of T tokens; embedding and logits excluded.
int64_t fwd_flops_per_sequence(const ModelConfig& m, int64_t T);
int64_t n_params(const ModelConfig& m);
// budget // (3 * fwd_flops_per_sequence * batch_size).
int64_t steps_for_budget(double budget, const ModelConfig& m, int64_t T, int64_t batch_size);

}  // namespace sg
