// GPT-OSS mixture of experts (spec §2.4) as one fused op: softmax of the gate logits
// over ALL E experts (not renormalised), top-K experts by logit (ties to the lower
// index), y_n = sum_j p[n, e_j] * GLU_{e_j}(x_n). Tokens are grouped by expert so
// each expert runs one matmul over its gathered rows.
// Legend: N tokens, D d_model, E experts, F hidden width, K experts per token.
#pragma once
#include <vector>

#include "autograd/tape.h"
#include "tensor/bf16.h"

namespace sg {

// Everything backward needs; filled by the forward. R = N*K routed rows, grouped by
// expert (expert e owns rows [start[e], start[e+1])).
struct MoeSaved {
  int64_t N, D, E, F, K;
  Tensor probs_NxE, xg_RxD, z_Rx2F, h_RxF, o_RxD;
  IntTensor top_NxK;           // picked experts per token, best first
  std::vector<int64_t> start;  // [E + 1] row offsets per expert
  std::vector<int64_t> pos;    // [N*K] grouped row of (token n, slot j)
};

// The expert weights w1 [E, 2F, D], w2 [E, D, F] in fp32, and in the bf16 path their
// per-step bf16 copies (w1_16, w2_16 non-null): the expert matmuls then read those.
struct MoeWeights {
  const float *w1, *w2;
  const bf16 *w1_16, *w2_16;
};

// y_NxD (overwritten) from x and the gate logits; s must come with N..K set and its
// tensors allocated at the shapes their names give.
void moe_experts_forward(float* y_NxD, MoeSaved& s, const float* x_NxD, const float* logits_NxE,
                         const MoeWeights& w, const float* b1_Ex2F, const float* b2_ExD);
// Accumulates into any non-null gradient.
void moe_experts_backward(float* dx_NxD, float* dlogits_NxE, float* dw1_Ex2FxD, float* db1_Ex2F,
                          float* dw2_ExDxF, float* db2_ExD, const float* dy_NxD, const MoeSaved& s,
                          const MoeWeights& w);

// x [N, D], logits [N, E], w1 [E, 2F, D], b1 [E, 2F], w2 [E, D, F], b2 [E, D] -> y [N, D].
// counts_E receives how many tokens picked each expert. The expert matmuls run in the
// matmul precision set at forward time (ops/linear.h), backward too.
VarP moe_experts(Tape& tape, const VarP& x_NxD, const VarP& logits_NxE, const VarP& w1,
                 const VarP& b1, const VarP& w2, const VarP& b2, int64_t K,
                 std::vector<int64_t>& counts_E);

}  // namespace sg
