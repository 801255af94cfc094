// Scaled dot products of per-group queries with a key table (key_value routers, spec §2.2).
// Legend: N tokens, G groups, M keys per group, Kd d_key.
#pragma once
#include "autograd/tape.h"

namespace sg {

// sim[n, g, m] = scale * <q[n, g, :], keys[g, m, :]>; q [N, G*Kd], keys [..., M, Kd]
// with its leading dims flattened to G; sim is [N, G*M].
VarP key_similarity(Tape& tape, const VarP& q_NxGKd, const VarP& keys_GxMxKd, float scale);

}  // namespace sg
