// Autoregressive sampling from a model, incremental with a KV cache or (for tests)
// by recomputing the whole sequence at every step.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/transformer.h"

namespace sg {

struct SampleOptions {
  int64_t max_tokens = 200;
  double temperature = 0.8;  // 0: greedy
  int64_t top_k = 40;        // 0: the whole vocabulary
  uint64_t seed = 0;
  int32_t stop_id = -1;  // stop after emitting this id (eos); -1: never
  bool use_cache = true;
};

// Returns the new ids; on_token (if set) sees each id as soon as it is drawn.
std::vector<int32_t> generate(Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& opt,
                              const std::function<void(int32_t)>& on_token = nullptr);

// Draws the next id from one row of logits [V] (temperature, top-k, seeded).
int32_t sample_next(const float* logits_V, int64_t V, const SampleOptions& opt, uint64_t counter);

}  // namespace sg
