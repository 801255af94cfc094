// Neuron lens (see lens.h): two matmuls against the (scaled) embedding table and a
// per-row top-k.
#include "eval/lens.h"

#include <algorithm>
#include <numeric>

#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "util/error.h"

namespace sg {

LensTopK row_topk(const float* a_NxV, int64_t N, int64_t V, int64_t k, bool largest) {
  SG_CHECK(0 < k && k <= V, "lens: k = ", k, " must be in [1, ", V, "]");
  LensTopK r{N, k, std::vector<int32_t>(N * k), std::vector<float>(N * k)};
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* row = a_NxV + n * V;
    std::vector<int32_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      if (row[a] != row[b]) return largest ? row[a] > row[b] : row[a] < row[b];
      return a < b;
    });
    for (int64_t j = 0; j < k; ++j) {
      r.ids_NxK[n * k + j] = order[j];
      r.values_NxK[n * k + j] = row[order[j]];
    }
  }
  return r;
}

NeuronLens neuron_lens(const float* w_in_NxD, const float* w_out_NxD, int64_t N, const float* E_VxD,
                       int64_t V, int64_t D, const float* final_scale_D, const float* ffn_scale_D,
                       int64_t k) {
  MatmulPrecisionScope fp32(MatmulPrecision::fp32);  // rankings of small logit differences
  std::vector<float> table_VxD(V * D), scores_NxV(N * V);
  // Output side: E scaled column-wise by the final norm's scale.
  for (int64_t v = 0; v < V; ++v)
    for (int64_t d = 0; d < D; ++d) table_VxD[v * D + d] = E_VxD[v * D + d] * final_scale_D[d];
  linear_forward(scores_NxV.data(), w_out_NxD, table_VxD.data(), N, D, V);
  NeuronLens lens;
  lens.out_top = row_topk(scores_NxV.data(), N, V, k, true);
  lens.out_bottom = row_topk(scores_NxV.data(), N, V, k, false);
  // Input side: each embedding through the layer's ffn_norm.
  std::vector<float> rstd_V(V);
  rmsnorm_forward(table_VxD.data(), rstd_V.data(), E_VxD, ffn_scale_D, V, D);
  linear_forward(scores_NxV.data(), w_in_NxD, table_VxD.data(), N, D, V);
  lens.in_top = row_topk(scores_NxV.data(), N, V, k, true);
  return lens;
}

}  // namespace sg
