// A Var is a tensor that may take part in backpropagation: its value, and the
// gradient of the loss with respect to it, allocated (zeroed) on first use.
#pragma once
#include <memory>

#include "tensor/tensor.h"

namespace sg {

struct Var {
  Tensor value;
  Tensor grad;  // undefined until something flows into it
  bool requires_grad = false;

  Tensor& grad_or_zeros() {
    if (!grad.defined()) grad = Tensor::zeros(value.shape());
    return grad;
  }
  bool has_grad() const { return grad.defined(); }
};

using VarP = std::shared_ptr<Var>;

inline VarP make_var(Tensor value, bool requires_grad = false) {
  auto v = std::make_shared<Var>();
  v->value = std::move(value);
  v->requires_grad = requires_grad;
  return v;
}

}  // namespace sg
