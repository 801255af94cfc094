// Rotary position embedding, rotate-half convention (spec §1): frequencies
// 1/10000^(2i/Dh), angle table tiled twice along Dh, out = x*cos + rotate_half(x)*sin,
// rotate_half([a, b]) = [-b, a]. Legend: B batch, T time, H heads, Dh head dim,
// P positions in the table, Hf = Dh/2 frequencies.
#pragma once
#include "autograd/tape.h"

namespace sg {

// Kernels over x [B, T, H, Dh]; cos/sin tables [P, Hf] with P >= pos_offset + T.
// Forward overwrites y; backward applies the inverse rotation and accumulates into dx.
void rope_forward(float* y, const float* x, const float* cos_PxHf, const float* sin_PxHf, int64_t B,
                  int64_t T, int64_t H, int64_t Dh, int64_t pos_offset);
void rope_backward(float* dx, const float* dy, const float* cos_PxHf, const float* sin_PxHf,
                   int64_t B, int64_t T, int64_t H, int64_t Dh, int64_t pos_offset);

// x [B, T, H, Dh]; position of token t is pos_offset + t (KV-cache decoding).
VarP rope(Tape& tape, const VarP& x_BxTxHxDh, int64_t pos_offset = 0);

}  // namespace sg
