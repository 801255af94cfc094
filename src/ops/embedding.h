// Token embedding lookup. Legend: N tokens, V vocabulary, D d_model.
#pragma once
#include "autograd/tape.h"

namespace sg {

// out_NxD[n] = E_VxD[ids_N[n]] (ids must already be in range).
void embedding_forward(float* out_NxD, const int32_t* ids_N, const float* E_VxD, int64_t N,
                       int64_t D);
// dE_VxD[ids_N[n]] += dout_NxD[n], deterministic and independent of the thread count.
void embedding_backward(float* dE_VxD, const float* dout_NxD, const int32_t* ids_N, int64_t N,
                        int64_t D);

// ids [...] (values in [0, V)) and table E [V, D] -> [..., D]. Backward scatter-adds
// into the table without data races. Throws naming the id, its position and V when an
// id is out of range.
VarP embedding(Tape& tape, const IntTensor& ids, const VarP& table_VxD);

}  // namespace sg
