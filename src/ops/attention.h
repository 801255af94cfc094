// Fused causal self-attention core: softmax((q k^T) / sqrt(Dh) + causal mask) v,
// forward and backward as one op parallel over batch x heads.
// Legend: B batch, T query time, S key time (S >= T), H heads, Dh head dim.
#pragma once
#include "autograd/tape.h"

namespace sg {

// q [B, T, H, Dh], k and v [B, S, H, Dh] -> [B, T, H, Dh]. Query t sits at absolute
// position S - T + t and attends to keys 0 .. S - T + t (S > T when decoding with a
// KV cache). The 1/sqrt(Dh) scaling is applied inside.
VarP causal_attention(Tape& tape, const VarP& q_BxTxHxDh, const VarP& k_BxSxHxDh,
                      const VarP& v_BxSxHxDh);

}  // namespace sg
