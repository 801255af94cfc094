#include "tensor/tensor.h"

#include <cstdlib>

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

std::shared_ptr<void> aligned_storage(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  SG_CHECK(p != nullptr, "out of memory allocating ", bytes, " bytes");
  return std::shared_ptr<void>(p, std::free);
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
