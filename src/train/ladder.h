// The scaling ladder (spec §6): the model of each feedforward type at scale s = 1, 2, ...
// Only the vocabulary size comes from outside; everything else is fixed by the ladder.
#pragma once
#include <string>

#include "nn/model_config.h"

namespace sg {

// d_model 128*s, n_layers 2*s, d_heads 64, and per type
//   mlp, swiglu  F = floor(8/3 * d_model / 256) * 256   (mlp with gelu)
//   moe          F = d_model, 16 experts, top 2
//   sgatlin      N = (16 + 12*s)^2, C 16, K 8, Kd 128, product_dense, identity
//   peer         N = (32 + 24*s)^2, C 16, K 8, Kd 128, product_key_value
// Fields a type does not use keep the FfwConfig defaults. Throws for an unknown type or
// a scale < 1.
ModelConfig ladder_model(const std::string& type, int64_t scale, int64_t vocab_size);

}  // namespace sg
