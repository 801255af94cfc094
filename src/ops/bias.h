// Bias add: y = x + b broadcast over rows (the GLU layers of spec §2.3/2.4).
// Legend: N rows, F features.
#pragma once
#include "autograd/tape.h"

namespace sg {

void bias_forward(float* y_NxF, const float* x_NxF, const float* b_F, int64_t N, int64_t F);
// db_F += column sums of dy (each column summed over rows in order: deterministic).
void bias_backward(float* db_F, const float* dy_NxF, int64_t N, int64_t F);

// Autograd op: x [..., F], b [F]; dx += dy (when x requires grad), db += sum of dy.
VarP bias_add(Tape& tape, const VarP& x, const VarP& b);

}  // namespace sg
