// Dense, contiguous, row-major tensors on 64-byte aligned storage.
// A tensor is a shared handle: copies alias the same storage, reshape() and rows()
// return views without copying, clone() makes an independent copy.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/bf16.h"
#include "tensor/block_cache.h"
#include "util/error.h"

namespace sg {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);

// Throws "op: what has shape [..], expected [..]" when the shapes differ.
void check_shape(const char* op, const char* what, const Shape& got, const Shape& expected);

template <typename T>
class TensorT {
 public:
  TensorT() = default;

  static TensorT empty(Shape shape) {  // uninitialised
    TensorT t;
    t.shape_ = std::move(shape);
    t.storage_ = aligned_storage(sizeof(T) * static_cast<size_t>(shape_numel(t.shape_)));
    t.data_ = static_cast<T*>(t.storage_.get());
    return t;
  }
  static TensorT zeros(Shape shape) { return full(std::move(shape), T{}); }
  static TensorT full(Shape shape, T value) {
    TensorT t = empty(std::move(shape));
    t.fill(value);
    return t;
  }
  static TensorT from(Shape shape, const std::vector<T>& values) {
    SG_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()), "Tensor::from: shape ",
             shape_str(shape), " needs ", shape_numel(shape), " values, got ", values.size());
    TensorT t = empty(std::move(shape));
    for (size_t i = 0; i < values.size(); ++i) t.data_[i] = values[i];
    return t;
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const {
    SG_CHECK(-rank() <= i && i < rank(), "dim(", i, ") out of range for shape ", shape_str(shape_));
    return shape_[i < 0 ? i + rank() : i];
  }
  int64_t numel() const { return shape_numel(shape_); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](int64_t i) { return data_[i]; }
  const T& operator[](int64_t i) const { return data_[i]; }

  void fill(T value) {
    const int64_t n = numel();
#pragma omp parallel for simd schedule(static) if (n > (int64_t{1} << 16))
    for (int64_t i = 0; i < n; ++i) data_[i] = value;
  }
  void zero() { fill(T{}); }

  // A view with a new shape over the same elements (one dim may be -1).
  TensorT reshape(Shape shape) const {
    const Shape requested = shape;  // for the message: the -1 is about to be replaced
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == -1) {
        SG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
        infer = static_cast<int64_t>(i);
      } else {
        known *= shape[i];
      }
    }
    const bool inferable = infer < 0 || (known > 0 && numel() % known == 0);
    if (infer >= 0 && inferable) shape[infer] = numel() / known;
    SG_CHECK(inferable && shape_numel(shape) == numel(), "reshape: cannot view ", shape_str(shape_),
             " as ", shape_str(requested));
    TensorT t = *this;
    t.shape_ = std::move(shape);
    return t;
  }

  // A view of rows [begin, end) of the leading axis.
  TensorT rows(int64_t begin, int64_t end) const {
    SG_CHECK(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0), "rows: [", begin, ", ",
             end, ") out of range for shape ", shape_str(shape_));
    TensorT t = *this;
    t.shape_[0] = end - begin;
    t.data_ = data_ + begin * (numel() / (dim(0) ? dim(0) : 1));
    return t;
  }

  TensorT clone() const {
    TensorT t = empty(shape_);
    const int64_t n = numel();
#pragma omp parallel for simd schedule(static) if (n > (int64_t{1} << 16))
    for (int64_t i = 0; i < n; ++i) t.data_[i] = data_[i];
    return t;
  }

 private:
  std::shared_ptr<void> storage_;
  T* data_ = nullptr;
  Shape shape_;
};

using Tensor = TensorT<float>;
using IntTensor = TensorT<int32_t>;
using Bf16Tensor = TensorT<bf16>;

// fp32 <-> bf16 (round to nearest even), parallel over elements.
Bf16Tensor to_bf16(const Tensor& x);
Tensor to_fp32(const Bf16Tensor& x);

}  // namespace sg
