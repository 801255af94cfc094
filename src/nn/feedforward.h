// The feedforward sublayer interface shared by mlp, swiglu, moe, peer and sgatlin.
// Legend: N tokens (B*T flattened), D d_model.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/param_store.h"
#include "autograd/tape.h"
#include "nn/model_config.h"
#include "nn/routing_trace.h"

namespace sg {

class FeedForward {
 public:
  virtual ~FeedForward() = default;
  // x_NxD -> y_NxD.
  virtual VarP forward(Tape& tape, const VarP& x_NxD) = 0;
  // Forward matmul FLOPs per token (spec §2).
  virtual int64_t flops_per_token() const = 0;
  // How often each neuron/expert was picked in the last forward, flattened
  // [C*N] (sgatlin), [N] (peer) or [E] (moe); empty for dense layers.
  virtual std::vector<int64_t> pick_counts() const { return {}; }
  // Record/override of the router decisions (sgatlin, peer; moe records only);
  // nullptr for dense layers.
  virtual RoutingHook* routing() { return nullptr; }
};

// Builds the layer of cfg.type, registering its parameters under `prefix`
// (e.g. "layers.3.ffn") with spec §7 names and spec §3 initialisation.
std::unique_ptr<FeedForward> make_feedforward(const FfwConfig& cfg, int64_t d_model,
                                              const std::string& prefix, ParamStore& params,
                                              uint64_t seed);

}  // namespace sg
