// Softmax cross-entropy fused with the pad mask (spec §4). Legend: N positions, V vocab.
#pragma once
#include "autograd/tape.h"

namespace sg {

struct CrossEntropyResult {
  VarP loss;           // scalar: mean over non-pad positions
  double accuracy = 0; // fraction of non-pad positions with argmax == target
  int64_t n_valid = 0; // non-pad positions
  Tensor loss_N;       // per-position loss, 0 at pad positions
};

// logits [N, V] (or [..., V]), targets [N] with pad_id positions masked out of the mean.
// Backward writes d logits directly (softmax - onehot) / n_valid, no second [N, V] buffer.
CrossEntropyResult cross_entropy(Tape& tape, const VarP& logits_NxV, const IntTensor& targets_N,
                                 int32_t pad_id);

}  // namespace sg
