// sgatlin (spec §2.2): per channel the router picks K of E neurons with raw scores s;
// y = sum_{c,k} act(s * <x, w_in[c, i]>) * w_out[c, i]. w_in, w_out [C, E, D].
// Legend: N tokens, D d_model, C channels, E neurons per channel (d_ffw), K picks.
#include <cmath>

#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "nn/routers/router.h"
#include "ops/sparse_experts.h"

namespace sg {

namespace {

class Sgatlin : public FeedForward {
 public:
  Sgatlin(const FfwConfig& cfg, int64_t D, const std::string& prefix, ParamStore& params,
          uint64_t seed)
      : cfg_(cfg), D_(D), act_(parse_activation(cfg.activation)) {
    const int64_t C = cfg.n_channels, E = cfg.d_ffw;
    router_ = make_router(cfg.router_type, {D, E, C, cfg.knn, cfg.d_key}, prefix, params, seed);
    const float std = 1.0f / std::sqrt(static_cast<float>(E));  // fan-in over the neuron axis
    w_in_ = add_truncated_normal(params, prefix + ".experts.w_in", {C, E, D}, std, true, seed);
    w_out_ = add_truncated_normal(params, prefix + ".experts.w_out", {C, E, D}, std, true, seed);
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input("sgatlin", x_NxD, D_);
    Routing r = router_->route(tape, x_NxD);
    return sparse_experts(tape, x_NxD, r.scores_NxCxK, r.idx_NxCxK, w_in_, w_out_, act_,
                          ExpertGate::pre_activation);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }
  RoutingHook* routing() override { return &router_->hook(); }
  std::vector<int64_t> pick_counts() const override { return router_->pick_counts(); }

 private:
  FfwConfig cfg_;
  int64_t D_;
  Activation act_;
  std::unique_ptr<Router> router_;
  VarP w_in_, w_out_;
};

}  // namespace

std::unique_ptr<FeedForward> make_sgatlin(const FfwConfig& cfg, int64_t d_model,
                                          const std::string& prefix, ParamStore& params,
                                          uint64_t seed) {
  return std::make_unique<Sgatlin>(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
