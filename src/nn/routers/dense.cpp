// dense router (spec §2.2): q = Wkey x, logits = Wexp q viewed [C, E], top-K per channel.
// Legend: N tokens, D d_model, C channels, E neurons per channel, Kd d_key.
#include "nn/ffw/init.h"
#include "nn/routers/router.h"
#include "ops/linear.h"

namespace sg {

namespace {

class DenseRouter : public Router {
 public:
  DenseRouter(const RouterDims& dims, const std::string& prefix, ParamStore& params, uint64_t seed)
      : Router(dims) {
    const std::string p = prefix + ".router.";
    w_key_ = add_linear_weight(params, p + "w_key.weight", {dims.d_key, dims.d_model}, seed);
    w_experts_ = add_linear_weight(params, p + "w_experts.weight",
                                   {dims.n_channels * dims.n_neurons, dims.d_key}, seed);
  }

 protected:
  Routing compute(Tape& tape, const VarP& x_NxD) override {
    VarP q_NxKd = linear(tape, x_NxD, w_key_);
    VarP logits = linear(tape, q_NxKd, w_experts_);  // [N, C*E]
    return topk_route(tape, logits, dims_.n_channels, dims_.knn);
  }

 private:
  VarP w_key_, w_experts_;
};

}  // namespace

std::unique_ptr<Router> make_dense_router(const RouterDims& dims, const std::string& prefix,
                                          ParamStore& params, uint64_t seed) {
  return std::make_unique<DenseRouter>(dims, prefix, params, seed);
}

}  // namespace sg
