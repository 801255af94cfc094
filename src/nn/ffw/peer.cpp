// peer (spec §2.5): product_key_value router with C heads over one shared table;
// y = sum_{c,k} softmax_k(s[c])[k] * gelu(<x, w_in[i]>) * w_out[i]. w_in, w_out [E, D].
// Legend: N tokens, D d_model, C heads, E neurons (d_ffw), K picks per head.
#include <cmath>

#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "nn/routers/router.h"
#include "ops/sparse_experts.h"

namespace sg {

namespace {

class Peer : public FeedForward {
 public:
  Peer(const FfwConfig& cfg, int64_t D, const std::string& prefix, ParamStore& params,
       uint64_t seed)
      : cfg_(cfg), D_(D), act_(dense_activation(cfg)) {
    const int64_t E = cfg.d_ffw;
    router_ = make_router("product_key_value", {D, E, cfg.n_channels, cfg.knn, cfg.d_key}, prefix,
                          params, seed);
    const float std = 1.0f / std::sqrt(static_cast<float>(E));
    w_in_ = add_truncated_normal(params, prefix + ".experts.w_in", {E, D}, std, true, seed);
    w_out_ = add_truncated_normal(params, prefix + ".experts.w_out", {E, D}, std, true, seed);
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input("peer", x_NxD, D_);
    Routing r = router_->route(tape, x_NxD);
    return sparse_experts(tape, x_NxD, r.scores_NxCxK, r.idx_NxCxK, w_in_, w_out_, act_,
                          ExpertGate::softmax_post_activation);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }
  RoutingHook* routing() override { return &router_->hook(); }
  // One shared table: the heads' counts fold into [E].
  std::vector<int64_t> pick_counts() const override {
    const auto& per_head = router_->pick_counts();
    const int64_t E = cfg_.d_ffw;
    std::vector<int64_t> counts(E, 0);
    for (size_t i = 0; i < per_head.size(); ++i) counts[i % E] += per_head[i];
    return counts;
  }

 private:
  FfwConfig cfg_;
  int64_t D_;
  Activation act_;
  std::unique_ptr<Router> router_;
  VarP w_in_, w_out_;
};

}  // namespace

std::unique_ptr<FeedForward> make_peer(const FfwConfig& cfg, int64_t d_model,
                                       const std::string& prefix, ParamStore& params,
                                       uint64_t seed) {
  return std::make_unique<Peer>(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
