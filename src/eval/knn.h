// Exact nearest neighbours for the report's maps (the 2-D layout itself is UMAP, run by
// tools/report with umap-js on these graphs). Legend: N points, k neighbours, C channels,
// K picks per channel, M neurons, D features.
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

struct KnnGraph {
  int64_t N = 0, k = 0;
  std::vector<int32_t> ids_NxK;  // nearest first (distance asc, id asc on ties)
  std::vector<float> distances_NxK;
};

// Gating patterns of one layer: distance = 1 - (shared picks) / (C * K), the complement of
// the cosine of the 0/1 pick vectors (picks within a channel are distinct).
KnnGraph gating_knn(const int32_t* idx_NxCxK, int64_t N, int64_t C, int64_t K, int64_t M,
                    int64_t k);
// Rows of X by cosine distance 1 - cos (zero rows are at distance 1 from everything).
KnnGraph cosine_knn(const float* X_NxD, int64_t N, int64_t D, int64_t k);

}  // namespace sg
