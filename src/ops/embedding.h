// Token embedding lookup. Legend: N tokens, V vocabulary, D d_model.
#pragma once
#include "autograd/tape.h"

namespace sg {

// ids [...] (values in [0, V)) and table E [V, D] -> [..., D]. Backward scatter-adds
// into the table without data races.
VarP embedding(Tape& tape, const IntTensor& ids, const VarP& table_VxD);

}  // namespace sg
