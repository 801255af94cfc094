#include "ops/topk.h"

namespace sg {

void topk_row(const float* x, int64_t n, int64_t k, float* vals_k, int32_t* idx_k) {
  // Insertion into a sorted buffer of k: k is small (<= 32) for every router here.
  int64_t filled = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (filled == k && !(v > vals_k[k - 1])) continue;  // strict: earlier index wins ties
    int64_t j = filled < k ? filled++ : k - 1;
    while (j > 0 && v > vals_k[j - 1]) {
      vals_k[j] = vals_k[j - 1];
      idx_k[j] = idx_k[j - 1];
      --j;
    }
    vals_k[j] = v;
    idx_k[j] = static_cast<int32_t>(i);
  }
}

void topk(const Tensor& x, int64_t k, Tensor& vals, IntTensor& idx) {
  const int64_t n = x.dim(-1), rows = x.numel() / n;
  SG_CHECK(0 < k && k <= n, "topk: k = ", k, " must be in [1, ", n, "] for input shape ",
           shape_str(x.shape()));
  Shape out = x.shape();
  out.back() = k;
  vals = Tensor::empty(out);
  idx = IntTensor::empty(out);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    topk_row(x.data() + r * n, n, k, vals.data() + r * k, idx.data() + r * k);
}

}  // namespace sg
