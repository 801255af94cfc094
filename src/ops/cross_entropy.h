// Softmax cross-entropy fused with the pad mask (spec §4). Legend: N positions, V vocab.
#pragma once
#include "autograd/tape.h"

namespace sg {

struct CrossEntropyResult {
  VarP loss;            // scalar: mean over non-pad positions
  double accuracy = 0;  // fraction of non-pad positions with argmax == target
  int64_t n_valid = 0;  // non-pad positions
  Tensor loss_N;        // per-position loss, 0 at pad positions
};

// Kernels. Forward writes per-position loss and logsumexp (both 0 at pad positions) and
// correct_N (argmax == target, ties to the lower index). Backward adds (accumulate) or
// writes dlogits = g * (softmax - onehot) on non-pad rows, with g = dloss / n_valid;
// when writing, pad rows get 0.
void cross_entropy_forward(float* loss_N, float* lse_N, uint8_t* correct_N, const float* logits_NxV,
                           const int32_t* targets_N, int64_t N, int64_t V, int32_t pad_id);
void cross_entropy_backward(float* dlogits_NxV, const float* logits_NxV, const float* lse_N,
                            const int32_t* targets_N, float g, int64_t N, int64_t V, int32_t pad_id,
                            bool accumulate);

// logits [N, V] (or [..., V]), targets [N] with pad_id positions masked out of the mean.
// Backward writes d logits directly (softmax - onehot) / n_valid, no second [N, V] buffer.
// All-pad input is a defined result, not an error (a padded tail micro-batch must not
// stop training): loss 0, accuracy 0, n_valid 0, and backward adds nothing.
// Throws when a non-pad target lies outside [0, V).
CrossEntropyResult cross_entropy(Tape& tape, const VarP& logits_NxV, const IntTensor& targets_N,
                                 int32_t pad_id);

}  // namespace sg
