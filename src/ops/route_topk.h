// Differentiable routing top-K (spec §2.2): the picks of a sparse feedforward's router.
// Top-K itself has no gradient; the picked scores do, and it scatters back into the
// logits (or, for product keys, into both half-scores of each picked pair).
// Legend: N tokens, C channels, E neurons per channel, K picks, nk = sqrt(E).
#pragma once
#include <cstdint>

#include "autograd/tape.h"
#include "tensor/tensor.h"

namespace sg {

struct Routing {
  VarP scores_NxCxK;    // raw scores; gradients flow back into the router parameters
  IntTensor idx_NxCxK;  // neuron ids in [0, E), no gradient
};

// Top-K of s1[a] + s2[b] over all nk*nk pairs, index a*nk + b, via the K*K candidates
// from the top-K of each half; ties toward the lower index. Exact: a pair outside the
// candidates is dominated by K candidates.
void product_topk_row(const float* s1_nk, const float* s2_nk, int64_t nk, int64_t K, float* vals_K,
                      int32_t* idx_K);

// logits [N, C*E] viewed [N, C, E] -> top-K per (token, channel); d scores scatter
// back into the picked logits. Throws on NaN/inf logits (a diverged model).
Routing topk_route(Tape& tape, const VarP& logits_NxCE, int64_t C, int64_t K);
// sub [N, 2*C*nk] viewed [N, 2, C, nk] -> product top-K per (token, channel).
Routing product_topk_route(Tape& tape, const VarP& sub_Nx2Cnk, int64_t C, int64_t K);

}  // namespace sg
