// sgatlin (spec §2.2) and peer (§2.5) are one layer: a router picks K of E neurons per
// channel with raw scores s, and the gathered-experts op combines the picked rows of
// w_in and w_out. They differ only in the gate and in whether the channels share a table:
//   sgatlin: y = sum_{c,k} act(s * <x, w_in[c, i]>) * w_out[c, i]          w_* [C, E, D]
//   peer:    y = sum_{c,k} softmax_k(s[c])[k] * gelu(<x, w_in[i]>) * w_out[i]   w_* [E, D]
// Legend: N tokens, D d_model, C channels (peer: heads), E neurons (d_ffw), K picks.
#include <cmath>

#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "nn/ffw_types.h"
#include "nn/routers/router.h"
#include "ops/sparse_experts.h"

namespace sg {

namespace {

struct GatherSpec {
  const char* name;  // in error messages
  ExpertGate gate;
  bool shared_table;   // one [E, D] table for all channels (peer) or one per channel
  std::string router;  // router type
  Activation act;
};

class GatheredExperts : public FeedForward {
 public:
  GatheredExperts(GatherSpec spec, const FfwConfig& cfg, int64_t D, const std::string& prefix,
                  ParamStore& params, uint64_t seed)
      : spec_(std::move(spec)), cfg_(cfg), D_(D) {
    const int64_t C = cfg.n_channels, E = cfg.d_ffw;
    router_ = make_router(spec_.router, {D, E, C, cfg.knn, cfg.d_key}, prefix, params, seed);
    const float std = 1.0f / std::sqrt(static_cast<float>(E));  // fan-in over the neuron axis
    const Shape table = spec_.shared_table ? Shape{E, D} : Shape{C, E, D};
    w_in_ = add_truncated_normal(params, prefix + ".experts.w_in", table, std, true, seed);
    w_out_ = add_truncated_normal(params, prefix + ".experts.w_out", table, std, true, seed);
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input(spec_.name, x_NxD, D_);
    Routing r = router_->route(tape, x_NxD);
    return sparse_experts(tape, x_NxD, r.scores_NxCxK, r.idx_NxCxK, w_in_, w_out_, spec_.act,
                          spec_.gate);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }
  RoutingHook* routing() override { return &router_->hook(); }
  // Per table: with one shared table the channels' counts fold into [E].
  std::vector<int64_t> pick_counts() const override {
    const auto& per_channel = router_->pick_counts();
    if (!spec_.shared_table) return per_channel;
    const int64_t E = cfg_.d_ffw;
    std::vector<int64_t> counts(E, 0);
    for (size_t i = 0; i < per_channel.size(); ++i) counts[i % E] += per_channel[i];
    return counts;
  }

 private:
  GatherSpec spec_;
  FfwConfig cfg_;
  int64_t D_;
  std::unique_ptr<Router> router_;
  VarP w_in_, w_out_;
};

}  // namespace

std::unique_ptr<FeedForward> make_sgatlin(const FfwConfig& cfg, int64_t d_model,
                                          const std::string& prefix, ParamStore& params,
                                          uint64_t seed) {
  GatherSpec spec{"sgatlin", ExpertGate::pre_activation, false, cfg.router_type,
                  parse_activation(cfg.activation)};
  return std::make_unique<GatheredExperts>(std::move(spec), cfg, d_model, prefix, params, seed);
}

std::unique_ptr<FeedForward> make_peer(const FfwConfig& cfg, int64_t d_model,
                                       const std::string& prefix, ParamStore& params,
                                       uint64_t seed) {
  GatherSpec spec{"peer", ExpertGate::softmax_post_activation, true,
                  ffw_type(FfwType::peer).fixed_router, dense_activation(cfg)};
  return std::make_unique<GatheredExperts>(std::move(spec), cfg, d_model, prefix, params, seed);
}

}  // namespace sg
