// Router decisions of a sparse feedforward layer, for interpretability: record what the
// router picked in the last forward, and optionally replace its decisions for chosen
// token rows (causal patching). Unused, the hook costs nothing and changes nothing.
// Legend: N tokens (B*T rows of the forward), C channels (heads), K picks, R overridden rows.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "autograd/tape.h"
#include "tensor/tensor.h"

namespace sg {

// Decisions of one forward: neuron ids and raw router scores per token row and channel.
// moe records its top-K experts as C = 1 with their gate logits as scores.
struct RoutingTrace {
  IntTensor idx_NxCxK;
  Tensor scores_NxCxK;
};

// Decisions to use instead of the router's for the listed token rows.
struct RoutingOverride {
  std::vector<int64_t> rows;  // rows of the forward's [N] token axis, each in [0, N)
  IntTensor idx_RxCxK;
  Tensor scores_RxCxK;
};

struct RoutingHook {
  bool record = false;  // keep the last forward's decisions in `last`
  RoutingTrace last;
  std::optional<RoutingOverride> patch;
};

// Applies hook.patch to (scores, idx) and records into hook.last when asked. Without a
// patch the inputs are returned untouched; with one, d scores flows back only into the
// rows that were not replaced (replaced rows are constants). `who` names the layer in
// errors (unknown rows, shapes that do not match [R, C, K]).
VarP apply_routing_hook(Tape& tape, RoutingHook& hook, const VarP& scores_NxCxK,
                        IntTensor& idx_NxCxK, const char* who);

}  // namespace sg
