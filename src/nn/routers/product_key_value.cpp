// product_key_value router (spec §2.2, PEER's): queries Q [2, C, Kd, D], sub-keys
// keys [2, C, nk, Kd], sim = <Q x, key> / sqrt(2 Kd) viewed [2, C, nk], product top-K.
// Legend: N tokens, D d_model, C channels, Kd d_key, nk = sqrt(E).
#include <cmath>

#include "nn/ffw/init.h"
#include "nn/routers/router.h"
#include "ops/linear.h"

namespace sg {

namespace {

class ProductKeyValueRouter : public Router {
 public:
  ProductKeyValueRouter(const RouterDims& dims, const std::string& prefix, ParamStore& params,
                        uint64_t seed)
      : Router(dims), nk_(product_side(dims, prefix)) {
    const std::string p = prefix + ".router.";
    const int64_t C = dims.n_channels, Kd = dims.d_key, D = dims.d_model;
    queries_ = add_truncated_normal(params, p + "queries.weight", {2 * C * Kd, D},
                                    1.0f / std::sqrt(static_cast<float>(D)), true, seed);
    keys_ = add_truncated_normal(params, p + "keys", {2, C, nk_, Kd}, 1.0f, false, seed);
  }

 protected:
  Routing compute(Tape& tape, const VarP& x_NxD) override {
    const int64_t C = dims_.n_channels, Kd = dims_.d_key;
    VarP q = linear(tape, x_NxD, queries_);  // [N, 2*C*Kd]: group g = half*C + c
    // keys [2, C, nk, Kd] read as [2C, nk, Kd]: the same groups as q.
    VarP sim = key_similarity(tape, q, keys_, 1.0f / std::sqrt(2.0f * Kd));
    return product_topk_route(tape, sim, C, dims_.knn);
  }

 private:
  int64_t nk_;
  VarP queries_, keys_;
};

}  // namespace

std::unique_ptr<Router> make_product_key_value_router(const RouterDims& dims,
                                                      const std::string& prefix, ParamStore& params,
                                                      uint64_t seed) {
  return std::make_unique<ProductKeyValueRouter>(dims, prefix, params, seed);
}

}  // namespace sg
