// GPT-OSS mixture of experts (spec §2.4) as one fused op: softmax of the gate logits
// over ALL E experts (not renormalised), top-K experts by logit (ties to the lower
// index), y_n = sum_j p[n, e_j] * GLU_{e_j}(x_n). Tokens are grouped by expert so
// each expert runs one matmul over its gathered rows.
// Legend: N tokens, D d_model, E experts, F hidden width, K experts per token.
#pragma once
#include <vector>

#include "autograd/tape.h"

namespace sg {

// x [N, D], logits [N, E], w1 [E, 2F, D], b1 [E, 2F], w2 [E, D, F], b2 [E, D] -> y [N, D].
// counts_E receives how many tokens picked each expert. The expert matmuls run in the
// matmul precision set at forward time (ops/linear.h), backward too.
VarP moe_experts(Tape& tape, const VarP& x_NxD, const VarP& logits_NxE, const VarP& w1,
                 const VarP& b1, const VarP& w2, const VarP& b2, int64_t K,
                 std::vector<int64_t>& counts_E);

}  // namespace sg
