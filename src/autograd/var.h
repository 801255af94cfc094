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
  // grad_or_zeros() when this Var takes part in backprop, else nullptr: ops skip the
  // gradients nobody needs.
  float* grad_if_needed() { return requires_grad ? grad_or_zeros().data() : nullptr; }
  // For a backward that can either write or add: the grad buffer (nullptr when not
  // needed), with `accumulate` set when gradient has already arrived. A fresh buffer is
  // left uninitialised and the caller must write every element; that skips
  // zero-filling buffers as large as the [N, V] logits only to add into them.
  float* grad_for(bool& accumulate) {
    accumulate = grad.defined();
    if (!requires_grad) return nullptr;
    if (!accumulate) grad = Tensor::empty(value.shape());
    return grad.data();
  }
  bool has_grad() const { return grad.defined(); }

  // bf16 compute (spec §1) reads weights through a bf16 copy of `value`, converted at most
  // once per change: whoever changes `value` in place (the optimizer, checkpoint loading)
  // calls mark_changed(), which makes the next bf16_value() convert again.
  void mark_changed() { ++version; }
  const bf16* bf16_value() {
    if (!value_bf16.defined() || bf16_version != version) {
      value_bf16 = to_bf16(value);
      bf16_version = version;
    }
    return value_bf16.data();
  }
  // For an optimizer that writes the new value and its bf16 copy in one pass: the copy
  // to write into (nullptr when no bf16 copy is kept), marked as matching the value.
  bf16* bf16_value_to_refresh() {
    if (!value_bf16.defined()) return nullptr;
    bf16_version = version;
    return value_bf16.data();
  }
  uint64_t version = 0;

 private:
  Bf16Tensor value_bf16;
  uint64_t bf16_version = 0;
};

using VarP = std::shared_ptr<Var>;

inline VarP make_var(Tensor value, bool requires_grad = false) {
  auto v = std::make_shared<Var>();
  v->value = std::move(value);
  v->requires_grad = requires_grad;
  return v;
}

}  // namespace sg
