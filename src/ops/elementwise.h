// Small elementwise autograd ops.
#pragma once
#include "autograd/tape.h"

namespace sg {

VarP add(Tape& tape, const VarP& a, const VarP& b);  // residual add, same shapes
VarP scale(Tape& tape, const VarP& x, float s);      // s * x
VarP sum(Tape& tape, const VarP& x);                 // scalar sum of all elements

}  // namespace sg
