// Factories of the feedforward layer types (one file each); make_feedforward picks one.
#pragma once
#include "nn/feedforward.h"
#include "ops/activation.h"

namespace sg {

std::unique_ptr<FeedForward> make_mlp(const FfwConfig& cfg, int64_t d_model,
                                      const std::string& prefix, ParamStore& params, uint64_t seed);
std::unique_ptr<FeedForward> make_swiglu(const FfwConfig& cfg, int64_t d_model,
                                         const std::string& prefix, ParamStore& params,
                                         uint64_t seed);
std::unique_ptr<FeedForward> make_moe(const FfwConfig& cfg, int64_t d_model,
                                      const std::string& prefix, ParamStore& params, uint64_t seed);
std::unique_ptr<FeedForward> make_peer(const FfwConfig& cfg, int64_t d_model,
                                       const std::string& prefix, ParamStore& params,
                                       uint64_t seed);
std::unique_ptr<FeedForward> make_sgatlin(const FfwConfig& cfg, int64_t d_model,
                                          const std::string& prefix, ParamStore& params,
                                          uint64_t seed);

// mlp and peer are gelu layers (spec §2.1, §2.5); the config's default activation,
// "identity", is sgatlin's, so it means "the layer's default" here. Any other name
// is honoured.
Activation dense_activation(const FfwConfig& cfg);

// Throws unless x is [N, d_model], naming the layer.
void check_ffw_input(const char* layer, const VarP& x_NxD, int64_t d_model);

}  // namespace sg
