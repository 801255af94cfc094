// mlp (spec §2.1): y = W2 act(W1 x), W1 [F, D], W2 [D, F]. Legend: N tokens, D d_model, F d_ffw.
#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "ops/linear.h"

namespace sg {

namespace {

class Mlp : public FeedForward {
 public:
  Mlp(const FfwConfig& cfg, int64_t D, const std::string& prefix, ParamStore& params, uint64_t seed)
      : cfg_(cfg), D_(D), act_(dense_activation(cfg)) {
    w1_ = add_linear_weight(params, prefix + ".w1.weight", {cfg.d_ffw, D}, seed);
    w2_ = add_linear_weight(params, prefix + ".w2.weight", {D, cfg.d_ffw}, seed);
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input("mlp", x_NxD, D_);
    return linear(tape, activation(tape, linear(tape, x_NxD, w1_), act_), w2_);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }

 private:
  FfwConfig cfg_;
  int64_t D_;
  Activation act_;
  VarP w1_, w2_;
};

}  // namespace

std::unique_ptr<FeedForward> make_mlp(const FfwConfig& cfg, int64_t d_model,
                                      const std::string& prefix, ParamStore& params,
                                      uint64_t seed) {
  return std::make_unique<Mlp>(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
