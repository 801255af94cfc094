// Top-k over the last axis; ties go to the lower index (spec §2.2). No gradient:
// callers gather the picked values themselves so gradients flow through them.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace sg {

// The k largest of x[0..n) in descending order, ties toward the lower index.
void topk_row(const float* x, int64_t n, int64_t k, float* vals_k, int32_t* idx_k);

// x [..., n] -> vals [..., k], idx [..., k], parallel over rows.
void topk(const Tensor& x, int64_t k, Tensor& vals, IntTensor& idx);

}  // namespace sg
