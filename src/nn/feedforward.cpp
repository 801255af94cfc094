#include "nn/feedforward.h"

#include "nn/ffw/layers.h"
#include "nn/ffw_types.h"

namespace sg {

Activation dense_activation(const FfwConfig& cfg) {
  return cfg.activation == "identity" ? Activation::gelu : parse_activation(cfg.activation);
}

void check_ffw_input(const char* layer, const VarP& x_NxD, int64_t d_model) {
  SG_CHECK(x_NxD->value.rank() == 2 && x_NxD->value.dim(1) == d_model, layer, ": x has shape ",
           shape_str(x_NxD->value.shape()), ", expected [N, ", d_model, "]");
}

std::unique_ptr<FeedForward> make_feedforward(const FfwConfig& cfg, int64_t d_model,
                                              const std::string& prefix, ParamStore& params,
                                              uint64_t seed) {
  SG_CHECK(d_model >= 1 && cfg.d_ffw >= 1, prefix, ": ffw needs d_model >= 1 and d_ffw >= 1, got ",
           d_model, " and ", cfg.d_ffw);
  return ffw_type(cfg.type, prefix + ": ").make(cfg, d_model, prefix, params, seed);
}

}  // namespace sg
