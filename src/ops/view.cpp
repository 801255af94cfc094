#include "ops/view.h"

namespace sg {

VarP view(Tape& tape, const VarP& x, const Shape& shape) {
  VarP y = make_var(x->value.reshape(shape), tape.needs_grad(x));
  if (y->requires_grad) y->grad = x->grad_or_zeros().reshape(y->value.shape());
  return y;
}

}  // namespace sg
