#include "autograd/tape.h"

namespace sg {

void Tape::backward(const VarP& loss, const std::function<void(size_t)>& after_step) {
  SG_CHECK(loss->value.numel() == 1, "backward: loss must be a scalar, got shape ",
           shape_str(loss->value.shape()));
  loss->grad_or_zeros()[0] += 1.0f;
  replay(after_step);
}

void Tape::replay(const std::function<void(size_t)>& after_step) {
  for (size_t i = steps_.size(); i-- > 0;) {
    steps_[i]();
    if (after_step) after_step(i);
  }
  clear();
}

}  // namespace sg
