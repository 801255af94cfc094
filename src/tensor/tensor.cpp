#include "tensor/tensor.h"

namespace sg {

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    SG_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
    n *= d;
  }
  return n;
}

void check_shape(const char* op, const char* what, const Shape& got, const Shape& expected) {
  SG_CHECK(got == expected, op, ": ", what, " has shape ", shape_str(got), ", expected ",
           shape_str(expected));
}

Bf16Tensor to_bf16(const Tensor& x) {
  Bf16Tensor y = Bf16Tensor::empty(x.shape());
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = float_to_bf16(x[i]);
  return y;
}

Tensor to_fp32(const Bf16Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_float(x[i]);
  return y;
}

}  // namespace sg
