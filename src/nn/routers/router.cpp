// Shared router machinery: pick counting, the factory and the product-router side.
// The differentiable pieces the routers are built from are ops (ops/route_topk.h,
// ops/key_similarity.h).
// Legend: N tokens, C channels, E neurons per channel, K picks, nk = sqrt(E).
#include "nn/routers/router.h"

#include <cmath>

#include "nn/ffw_types.h"

namespace sg {

Routing Router::route(Tape& tape, const VarP& x_NxD) {
  SG_CHECK(x_NxD->value.rank() == 2 && x_NxD->value.dim(1) == dims_.d_model, "router: x has shape ",
           shape_str(x_NxD->value.shape()), ", expected [N, ", dims_.d_model, "]");
  Routing r = compute(tape, x_NxD);
  r.scores_NxCxK = apply_routing_hook(tape, hook_, r.scores_NxCxK, r.idx_NxCxK, "router");
  const int64_t E = dims_.n_neurons, C = dims_.n_channels, K = dims_.knn;
  counts_.assign(static_cast<size_t>(C * E), 0);
  const int64_t rows = r.idx_NxCxK.numel() / K;  // (token, channel) pairs
  const int32_t* idx = r.idx_NxCxK.data();
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t k = 0; k < K; ++k) ++counts_[(row % C) * E + idx[row * K + k]];
  return r;
}

std::unique_ptr<Router> make_router(const std::string& type, const RouterDims& dims,
                                    const std::string& prefix, ParamStore& params, uint64_t seed) {
  SG_CHECK(dims.knn >= 1 && dims.n_channels >= 1 && dims.d_key >= 1 && dims.n_neurons >= 1, prefix,
           ": router ", type, " needs knn, n_channels, d_key, d_ffw >= 1 (got knn ", dims.knn,
           ", n_channels ", dims.n_channels, ", d_key ", dims.d_key, ", d_ffw ", dims.n_neurons,
           ")");
  const RouterTypeInfo* t = find_router_type(type);
  if (t && t->product) return t->make(dims, prefix, params, seed);  // checks K < sqrt(E) itself
  SG_CHECK(dims.knn <= dims.n_neurons, prefix, ": router ", type, " picks knn = ", dims.knn,
           " of only d_ffw = ", dims.n_neurons, " neurons");
  return router_type(type, prefix + ": ").make(dims, prefix, params, seed);
}

int64_t product_side(const RouterDims& dims, const std::string& who) {
  const int64_t E = dims.n_neurons;
  int64_t nk = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(E))));
  SG_CHECK(nk * nk == E, who,
           ": product router needs d_ffw (neurons N) to be a perfect square, got ", E);
  SG_CHECK(dims.knn < nk, who, ": product router needs knn < sqrt(N) = ", nk,
           ", got knn = ", dims.knn);
  return nk;
}

}  // namespace sg
