// Small elementwise autograd ops. Legend: n elements.
#pragma once
#include "autograd/tape.h"

namespace sg {

void add_forward(float* out, const float* a, const float* b, int64_t n);  // out = a + b
void scale_forward(float* out, const float* x, float s, int64_t n);       // out = s * x
// Sum in double over fixed chunks combined in order: independent of the thread count.
double sum_forward(const float* x, int64_t n);

VarP add(Tape& tape, const VarP& a, const VarP& b);  // residual add, same shapes
VarP scale(Tape& tape, const VarP& x, float s);      // s * x
VarP sum(Tape& tape, const VarP& x);                 // scalar (shape []) sum of all elements

}  // namespace sg
