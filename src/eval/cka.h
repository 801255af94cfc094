// Linear CKA (centered kernel alignment, Kornblith et al. 2019) between two representations
// of the same n examples, X [n, p] and Y [n, q]:
//   CKA = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F),  Xc, Yc column-centred.
// 1 for X with itself, invariant to orthogonal transforms and isotropic scaling of either
// side, near 0 for independent data. Here it measures how much of a layer's routing is
// token identity (X = input embeddings) and how alike two layers route.
// A layer's gating is the 0/1 matrix with one column per (channel, neuron): row t has a 1
// at (c, idx[t, c, k]) for each of its C*K picks; it is never materialised (C*M columns).
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

double linear_cka(const std::vector<double>& X_nxp, int64_t p, const std::vector<double>& Y_nxq,
                  int64_t q);

struct PickMatrix {
  const int32_t* idx_NxCxK = nullptr;
  int64_t N = 0, C = 0, K = 0, M = 0;  // N examples, C channels of K picks among M neurons
};

// CKA between a dense representation X [N, p] and a layer's gating.
double linear_cka_picks(const std::vector<double>& X_nxp, int64_t p, const PickMatrix& Y);
// CKA between two layers' gating (same N).
double linear_cka_picks(const PickMatrix& A, const PickMatrix& B);

}  // namespace sg
