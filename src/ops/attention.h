// Fused causal self-attention core: softmax((q k^T) / sqrt(Dh) + causal mask) v,
// forward and backward as one op parallel over batch x heads.
// Legend: B batch, T query time, S key time (S >= T), H heads, Dh head dim.
#pragma once
#include "autograd/tape.h"

namespace sg {

// Kernels over q/out [B, T, H, Dh], k/v [B, S, H, Dh], in the matmul precision set
// (ops/linear.h): under bf16 every operand of the five products (q, k, v, dout, the
// probabilities P and dS) is rounded to bf16 and the sums stay fp32. Forward overwrites out and the
// per-row logsumexp of the scaled scores lse [B, H, T]. Backward recomputes the
// probabilities from lse and accumulates (+=) into dq, dk, dv; any of them may be null.
void attention_forward(float* out_BxTxHxDh, float* lse_BxHxT, const float* q_BxTxHxDh,
                       const float* k_BxSxHxDh, const float* v_BxSxHxDh, int64_t B, int64_t T,
                       int64_t S, int64_t H, int64_t Dh);
void attention_backward(float* dq_BxTxHxDh, float* dk_BxSxHxDh, float* dv_BxSxHxDh,
                        const float* dout_BxTxHxDh, const float* q_BxTxHxDh,
                        const float* k_BxSxHxDh, const float* v_BxSxHxDh, const float* out_BxTxHxDh,
                        const float* lse_BxHxT, int64_t B, int64_t T, int64_t S, int64_t H,
                        int64_t Dh);

// q [B, T, H, Dh], k and v [B, S, H, Dh] -> [B, T, H, Dh]. Query t sits at absolute
// position S - T + t and attends to keys 0 .. S - T + t (S > T when decoding with a
// KV cache). The 1/sqrt(Dh) scaling is applied inside.
VarP causal_attention(Tape& tape, const VarP& q_BxTxHxDh, const VarP& k_BxSxHxDh,
                      const VarP& v_BxSxHxDh);

}  // namespace sg
