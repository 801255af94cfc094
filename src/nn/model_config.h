// The `model` section of a run config (spec §8). Parsing and validation live in
// src/train/run_config.*; this header is the plain data every layer is built from.
#pragma once
#include <cstdint>
#include <string>

namespace sg {

struct FfwConfig {
  std::string type = "sgatlin";  // mlp | swiglu | moe | peer | sgatlin
  int64_t d_ffw = 1024;          // hidden width (mlp/swiglu/moe) or neurons N (sgatlin/peer)
  int64_t n_channels = 8;        // C (sgatlin/peer) or experts E (moe)
  int64_t knn = 8;               // K (sgatlin/peer) or experts per token (moe)
  int64_t d_key = 128;           // Kd
  std::string router_type =
      "product_dense";                  // product_dense | product_key_value | key_value | dense
  std::string activation = "identity";  // identity | gelu | relu | swish
};

struct ModelConfig {
  int64_t vocab_size = 8192;
  int64_t d_model = 256;
  int64_t d_heads = 64;
  int64_t n_layers = 4;
  FfwConfig ffw;
  int64_t n_heads() const { return d_model / d_heads; }
};

}  // namespace sg
