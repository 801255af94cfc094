// Rotary position embedding, rotate-half convention (spec §1): frequencies
// 1/10000^(2i/Dh), angle table tiled twice along Dh, out = x*cos + rotate_half(x)*sin,
// rotate_half([a, b]) = [-b, a]. Legend: B batch, T time, H heads, Dh head dim.
#pragma once
#include "autograd/tape.h"

namespace sg {

// x [B, T, H, Dh]; position of token t is pos_offset + t (KV-cache decoding).
VarP rope(Tape& tape, const VarP& x_BxTxHxDh, int64_t pos_offset = 0);

}  // namespace sg
