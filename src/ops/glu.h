// GPT-OSS clamped gated linear unit (spec §2.3): z [N, 2F] splits into gate = z[:, :F]
// and lin = z[:, F:]; gate = min(gate, 7), lin = clamp(lin, -7, 7);
// h = gate * sigmoid(1.702 gate) * (lin + 1).
// Legend: N rows, F hidden width.
#pragma once
#include "autograd/tape.h"

namespace sg {

constexpr float kGluLimit = 7.0f, kGluAlpha = 1.702f;

void glu_forward(float* h_NxF, const float* z_Nx2F, int64_t N, int64_t F);
// dz += dh * dh/dz; zero where the clamp is active (|value| beyond the limit), as in
// PyTorch's clamp, whose gradient passes at exactly the limit.
void glu_backward(float* dz_Nx2F, const float* dh_NxF, const float* z_Nx2F, int64_t N, int64_t F);

// Autograd op: z [..., 2F] -> h [..., F].
VarP glu(Tape& tape, const VarP& z);

}  // namespace sg
