// swiglu (spec §2.3, GPT-OSS GLU): y = W2 glu(W1 x + b1) + b2, W1 [2F, D], W2 [D, F].
// Legend: N tokens, D d_model, F d_ffw.
#include "nn/counting.h"
#include "nn/ffw/init.h"
#include "nn/ffw/layers.h"
#include "ops/bias.h"
#include "ops/glu.h"
#include "ops/linear.h"

namespace sg {

namespace {

class SwiGlu : public FeedForward {
 public:
  SwiGlu(const FfwConfig& cfg, int64_t D, const std::string& prefix, ParamStore& params,
         uint64_t seed)
      : cfg_(cfg), D_(D) {
    const int64_t F = cfg.d_ffw;
    w1_ = add_linear_weight(params, prefix + ".w1.weight", {2 * F, D}, seed);
    b1_ = add_zeros(params, prefix + ".w1.bias", {2 * F});
    w2_ = add_linear_weight(params, prefix + ".w2.weight", {D, F}, seed);
    b2_ = add_zeros(params, prefix + ".w2.bias", {D});
  }
  VarP forward(Tape& tape, const VarP& x_NxD) override {
    check_ffw_input("swiglu", x_NxD, D_);
    VarP z = bias_add(tape, linear(tape, x_NxD, w1_), b1_);
    return bias_add(tape, linear(tape, glu(tape, z), w2_), b2_);
  }
  int64_t flops_per_token() const override { return ffw_flops_per_token(cfg_, D_); }

 private:
  FfwConfig cfg_;
  int64_t D_;
  VarP w1_, b1_, w2_, b2_;
};

}  // namespace

std::unique_ptr<FeedForward> make_swiglu(const FfwConfig& cfg, int64_t d_model,
                                         const std::string& prefix, ParamStore& params,
                                         uint64_t seed) {
  return std::make_unique<SwiGlu>(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
