// RMSNorm over the last axis with fp32 statistics: y = x * rsqrt(mean(x^2) + eps) * scale.
// Used for the block norms (over D) and the QK-norm (over Dh). Legend: N rows, D last axis.
#pragma once
#include "autograd/tape.h"

namespace sg {

constexpr float kRmsNormEps = 1e-6f;

// Kernels: rstd_N keeps 1/rms per row for backward; backward accumulates (+=).
void rmsnorm_forward(float* y_NxD, float* rstd_N, const float* x_NxD, const float* scale_D,
                     int64_t N, int64_t D);
void rmsnorm_backward(float* dx_NxD, float* dscale_D, const float* dy_NxD, const float* x_NxD,
                      const float* scale_D, const float* rstd_N, int64_t N, int64_t D);

// x [..., D], scale [D].
VarP rmsnorm(Tape& tape, const VarP& x, const VarP& scale);

}  // namespace sg
