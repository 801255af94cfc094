// A Var that views another's values under a new shape, without copying. Its grad
// aliases the source's grad storage, so gradients need no backward step of their own.
#pragma once
#include "autograd/tape.h"

namespace sg {

VarP view(Tape& tape, const VarP& x, const Shape& shape);

}  // namespace sg
