// The unigram baseline: cross-entropy (nats/token) of one shard under the add-one
// smoothed token frequencies of another. A trained model should land far below it.
#pragma once
#include "data/shard.h"

namespace sg {

double unigram_loss(const TokenShard& fit, const TokenShard& eval);

}  // namespace sg
