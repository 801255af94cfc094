// product_dense router (spec §2.2, the default): q = Wkey x, sub = Wsub q viewed
// [2, C, nk], product top-K per channel. Legend: N tokens, D d_model, Kd d_key.
#include "nn/ffw/init.h"
#include "nn/routers/router.h"
#include "ops/linear.h"

namespace sg {

namespace {

class ProductDenseRouter : public Router {
 public:
  ProductDenseRouter(const RouterDims& dims, const std::string& prefix, ParamStore& params,
                     uint64_t seed)
      : Router(dims), nk_(product_side(dims, prefix)) {
    const std::string p = prefix + ".router.";
    w_key_ = add_linear_weight(params, p + "w_key.weight", {dims.d_key, dims.d_model}, seed);
    w_sub_ = add_linear_weight(params, p + "w_sub.weight", {2 * dims.n_channels * nk_, dims.d_key},
                               seed);
  }

 protected:
  Routing compute(Tape& tape, const VarP& x_NxD) override {
    VarP q_NxKd = linear(tape, x_NxD, w_key_);
    VarP sub = linear(tape, q_NxKd, w_sub_);
    return product_topk_route(tape, sub, dims_.n_channels, dims_.knn);
  }

 private:
  int64_t nk_;
  VarP w_key_, w_sub_;
};

}  // namespace

std::unique_ptr<Router> make_product_dense_router(const RouterDims& dims, const std::string& prefix,
                                                  ParamStore& params, uint64_t seed) {
  return std::make_unique<ProductDenseRouter>(dims, prefix, params, seed);
}

}  // namespace sg
