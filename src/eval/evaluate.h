// Held-out evaluation (spec §4): mean token cross-entropy over non-pad positions,
// accuracy and perplexity, over sequential batches of a shard.
#pragma once
#include <cstdint>

#include "data/loader.h"
#include "nn/transformer.h"

namespace sg {

struct EvalResult {
  double loss = 0, accuracy = 0, perplexity = 0;
  int64_t tokens = 0;
};

// Up to max_batches batches from `loader` (all windows of one epoch when <= 0).
EvalResult evaluate(Transformer& model, Loader& loader, int64_t max_batches, int32_t pad_id);

}  // namespace sg
