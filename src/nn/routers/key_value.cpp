// key_value router (spec §2.2): queries [C*Kd, D], keys [C, E, Kd],
// sim = <Q[c] x, keys[c, j]> / sqrt(Kd) over all E neurons, top-K per channel.
// Legend: N tokens, D d_model, C channels, E neurons per channel, Kd d_key.
#include <cmath>

#include "nn/ffw/init.h"
#include "nn/routers/router.h"
#include "ops/linear.h"

namespace sg {

namespace {

class KeyValueRouter : public Router {
 public:
  KeyValueRouter(const RouterDims& dims, const std::string& prefix, ParamStore& params,
                 uint64_t seed)
      : Router(dims) {
    const std::string p = prefix + ".router.";
    const int64_t C = dims.n_channels, Kd = dims.d_key, D = dims.d_model;
    queries_ = add_truncated_normal(params, p + "queries.weight", {C * Kd, D},
                                    1.0f / std::sqrt(static_cast<float>(D)), true, seed);
    keys_ = add_truncated_normal(params, p + "keys", {C, dims.n_neurons, Kd}, 1.0f, false, seed);
  }

 protected:
  Routing compute(Tape& tape, const VarP& x_NxD) override {
    VarP q = linear(tape, x_NxD, queries_);  // [N, C*Kd]
    VarP sim = key_similarity(tape, q, keys_, 1.0f / std::sqrt(static_cast<float>(dims_.d_key)));
    return topk_route(tape, sim, dims_.n_channels, dims_.knn);
  }

 private:
  VarP queries_, keys_;
};

}  // namespace

std::unique_ptr<Router> make_key_value_router(const RouterDims& dims, const std::string& prefix,
                                              ParamStore& params, uint64_t seed) {
  return std::make_unique<KeyValueRouter>(dims, prefix, params, seed);
}

}  // namespace sg
