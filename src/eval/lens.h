// Neuron lens: what each sgatlin/peer neuron reads and writes, read off the weights alone
// (no extra model). Legend: N neurons of one expert table, D d_model, V vocab, k tokens kept.
//
// Output side: neuron n adds a multiple of w_out[n] to the residual stream; through the
// final RMSNorm's scale g and the tied unembedding E its direct effect on logit v is
// proportional to w_out[n] . (g * E[v]). The top and bottom k tokens of that row are what
// the neuron promotes and suppresses (the rms factor is common to all v, so it changes no
// ranking).
// Input side: the tokens whose embeddings excite the neuron most are the top k of
// w_in[n] . (f * E[v] / rms(E[v])), E[v] as the layer's ffn_norm (scale f) would see it
// if the residual stream held only the token's embedding.
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

struct LensTopK {
  int64_t N = 0, k = 0;
  std::vector<int32_t> ids_NxK;  // best first (value desc for top, asc for bottom; id asc on ties)
  std::vector<float> values_NxK;
};

struct NeuronLens {
  LensTopK out_top, out_bottom, in_top;
};

NeuronLens neuron_lens(const float* w_in_NxD, const float* w_out_NxD, int64_t N, const float* E_VxD,
                       int64_t V, int64_t D, const float* final_scale_D, const float* ffn_scale_D,
                       int64_t k);

// Per row of a_NxV, the k largest (largest = true) or smallest entries, id asc on ties.
LensTopK row_topk(const float* a_NxV, int64_t N, int64_t V, int64_t k, bool largest);

}  // namespace sg
