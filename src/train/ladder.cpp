#include "train/ladder.h"

#include "util/error.h"

namespace sg {

ModelConfig ladder_model(const std::string& type, int64_t scale, int64_t vocab_size) {
  SG_CHECK(scale >= 1, "scaling ladder: scale must be >= 1, got ", scale);
  ModelConfig m;
  m.vocab_size = vocab_size;
  m.d_model = 128 * scale;
  m.n_layers = 2 * scale;
  m.d_heads = 64;
  FfwConfig& f = m.ffw;
  f.type = type;
  if (type == "mlp" || type == "swiglu") {
    f.d_ffw = 8 * m.d_model / (3 * 256) * 256;  // integer floor: 8/3*D in floats can land just below an integer
    f.activation = type == "mlp" ? "gelu" : "identity";
  } else if (type == "moe") {
    f.d_ffw = m.d_model;
    f.n_channels = 16;
    f.knn = 2;
  } else if (type == "sgatlin" || type == "peer") {
    const int64_t nk = type == "sgatlin" ? 16 + 12 * scale : 32 + 24 * scale;
    f.d_ffw = nk * nk;
    f.n_channels = 16;
    f.knn = 8;
    f.d_key = 128;
    f.router_type = type == "sgatlin" ? "product_dense" : "product_key_value";
    f.activation = "identity";
  } else {
    fail("scaling ladder: unknown feedforward type '", type,
         "' (allowed: mlp, swiglu, moe, peer, sgatlin)");
  }
  return m;
}

}  // namespace sg
