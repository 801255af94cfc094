// moe (spec §2.4): gate logits g = Wg x (Wg [E, D]), then the fused expert op.
// Legend: N tokens, D d_model, E experts (n_channels), F d_ffw, K experts per token (knn).
#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "ops/linear.h"
#include "ops/moe_experts.h"
#include "ops/topk.h"

namespace sg {

namespace {

class Moe : public FeedForward {
 public:
  Moe(const FfwConfig& cfg, int64_t D, const std::string& prefix, ParamStore& params, uint64_t seed)
      : cfg_(cfg), D_(D) {
    const int64_t E = cfg.n_channels, F = cfg.d_ffw;
    SG_CHECK(E >= 1 && 1 <= cfg.knn && cfg.knn <= E, prefix, ": moe picks knn = ", cfg.knn,
             " of n_channels = ", E, " experts; need 1 <= knn <= n_channels");
    gate_ = add_linear_weight(params, prefix + ".gate.weight", {E, D}, seed);
    w1_ = add_linear_weight(params, prefix + ".experts.w1.weight", {E, 2 * F, D}, seed);
    b1_ = add_zeros(params, prefix + ".experts.w1.bias", {E, 2 * F});
    w2_ = add_linear_weight(params, prefix + ".experts.w2.weight", {E, D, F}, seed);
    b2_ = add_zeros(params, prefix + ".experts.w2.bias", {E, D});
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input("moe", x_NxD, D_);
    VarP logits_NxE = linear(tape, x_NxD, gate_);
    SG_CHECK(!hook_.patch, "moe: routing override is not supported (sgatlin and peer only)");
    if (hook_.record) record_picks(logits_NxE->value);
    return moe_experts(tape, x_NxD, logits_NxE, w1_, b1_, w2_, b2_, cfg_.knn, counts_);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }
  std::vector<int64_t> pick_counts() const override { return counts_; }
  RoutingHook* routing() override { return &hook_; }

 private:
  FfwConfig cfg_;
  int64_t D_;
  VarP gate_, w1_, b1_, w2_, b2_;
  std::vector<int64_t> counts_;
  RoutingHook hook_;

  // The same top-K (ties to the lower index) moe_experts takes, as one channel.
  void record_picks(const Tensor& logits_NxE) {
    const int64_t N = logits_NxE.dim(0), K = cfg_.knn;
    Tensor vals;
    IntTensor idx;
    topk(logits_NxE, K, vals, idx);
    hook_.last = {idx.reshape({N, 1, K}), vals.reshape({N, 1, K})};
  }
};

}  // namespace

std::unique_ptr<FeedForward> make_moe(const FfwConfig& cfg, int64_t d_model,
                                      const std::string& prefix, ParamStore& params,
                                      uint64_t seed) {
  return std::make_unique<Moe>(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
