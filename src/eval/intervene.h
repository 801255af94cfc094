// Causal patching of router decisions (issue 5): run a clean and a counterfactual
// prompt of equal token length, then the clean prompt again with the routing (indices
// and scores) of chosen sparse layers at chosen positions taken from the counterfactual
// run, and compare the answer margins.
// Legend: T tokens of a prompt, V vocab.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/transformer.h"

namespace sg {

struct PatchRun {
  Tensor logits_clean_TxV, logits_cf_TxV, logits_patched_TxV;
};

// One sequence each (B = 1). Positions index the token sequences given; layers must be
// sgatlin or peer layers. Throws when the lengths differ or a layer/position is invalid.
PatchRun patch_routing(Transformer& model, const std::vector<int32_t>& clean,
                       const std::vector<int32_t>& cf, const std::vector<int64_t>& layers,
                       const std::vector<int64_t>& positions);

// d = logsumexp(logits[answers_a]) - logsumexp(logits[answers_b]) over one row of V.
double answer_margin(const float* logits_V, int64_t V, const std::vector<int32_t>& answers_a,
                     const std::vector<int32_t>& answers_b);

struct PairOutcome {
  double d_clean = 0, d_cf = 0, d_patched = 0;
  double recovered = 0;  // (d_clean - d_patched) / (d_clean - d_cf); NaN when d_clean == d_cf
  bool rank_flip = false, correct_clean = false, correct_cf = false;
};
PairOutcome pair_outcome(double d_clean, double d_cf, double d_patched);

}  // namespace sg
