// Routing record / override (see routing_trace.h); the override itself is an op
// (ops/routing_override.h).
// Legend: N tokens, C channels, K picks, R overridden rows.
#include "nn/routing_trace.h"

#include "ops/routing_override.h"

namespace sg {

VarP apply_routing_hook(Tape& tape, RoutingHook& hook, const VarP& scores_NxCxK,
                        IntTensor& idx_NxCxK, const char* who) {
  VarP out = scores_NxCxK;
  if (hook.patch)
    out = override_routing_rows(tape, scores_NxCxK, idx_NxCxK, hook.patch->rows,
                                hook.patch->idx_RxCxK, hook.patch->scores_RxCxK, who);
  if (hook.record) hook.last = {idx_NxCxK.clone(), out->value.clone()};
  return out;
}

}  // namespace sg
