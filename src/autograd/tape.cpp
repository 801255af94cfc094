#include "autograd/tape.h"

namespace sg {

void Tape::backward(const VarP& loss) {
  SG_CHECK(loss->value.numel() == 1, "backward: loss must be a scalar, got shape ",
           shape_str(loss->value.shape()));
  loss->grad_or_zeros()[0] += 1.0f;
  replay();
}

void Tape::replay() {
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  steps_.clear();
}

}  // namespace sg
