// Replaces the routing decisions of chosen token rows (causal patching, see
// nn/routing_trace.h). Replaced rows are constants: d scores flows back only into the
// rows that were kept.
// Legend: N tokens, C channels, K picks, R overridden rows.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/tape.h"
#include "tensor/tensor.h"

namespace sg {

// Returns fresh scores with rows[r] replaced by scores_RxCxK[r] and sets idx_NxCxK to a
// fresh copy with the same rows replaced by idx_RxCxK[r] (the router's backward still
// holds the originals). `who` names the layer in errors (rows outside [0, N), shapes
// other than [R, C, K]).
VarP override_routing_rows(Tape& tape, const VarP& scores_NxCxK, IntTensor& idx_NxCxK,
                           const std::vector<int64_t>& rows, const IntTensor& idx_RxCxK,
                           const Tensor& scores_RxCxK, const char* who);

}  // namespace sg
