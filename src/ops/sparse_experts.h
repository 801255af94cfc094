// The gathered-row expert op shared by sgatlin and peer (spec §2.2, §2.5): every token
// uses only the K picked rows of w_in / w_out per channel, and backward scatter-adds
// into just those rows. Gradients reach x, the scores and the picked rows; none flows
// through the indices.
// Legend: N tokens, D d_model, C channels, K picks per channel, E neurons per table,
// P tables (P = C for sgatlin, one table per channel; P = 1 for peer, shared).
#pragma once
#include <vector>

#include "autograd/tape.h"
#include "ops/activation.h"

namespace sg {

enum class ExpertGate {
  pre_activation,           // sgatlin: z = act(s * <x, u>)
  softmax_post_activation,  // peer:    z = softmax_k(s)[k] * act(<x, u>)
};

struct SparseExpertsDims {
  int64_t N, D, C, K, E, P;
};

// Entries e = (n*C + c)*K + k grouped by the table row t(c)*E + idx[e] they use,
// t(c) = P == 1 ? 0 : c; ascending entry order within a row.
struct RowGroups {
  std::vector<int64_t> start;  // [P*E + 1]: row r owns order[start[r] .. start[r+1])
  std::vector<int64_t> order;  // [N*C*K] entry ids
  std::vector<int32_t> token;  // [N*C*K] token of order[j], the row each entry gathers
};
RowGroups group_by_row(const int32_t* idx_NxCxK, const SparseExpertsDims& dims);

// Both passes walk the tables row by row, each thread owning a contiguous range of rows:
// every table row is read once and used for all the tokens that picked it, while the
// per-token side (x, dy and the outputs) is what gets gathered; it is far smaller than
// the tables, so it stays in cache. Token outputs go to per-thread [N, D] partials
// summed in thread order: bit-identical for a fixed thread count.

// y_NxD = sum_{c,k} z[n,c,k] * w_out[t(c), idx[n,c,k]] (overwrites y); writes the dot
// products h_NxCxK = <x_n, w_in[t(c), idx]> that backward needs.
void sparse_experts_forward(float* y_NxD, float* h_NxCxK, const float* x_NxD, const float* s_NxCxK,
                            const RowGroups& groups, const float* win_PxExD,
                            const float* wout_PxExD, const SparseExpertsDims& dims, Activation act,
                            ExpertGate gate);
// Accumulates into ds, dwin, dwout and, when accumulate_dx, dx (else overwrites dx);
// any may be null.
void sparse_experts_backward(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD, float* dwout_PxExD,
                             const float* dy_NxD, const float* h_NxCxK, const float* x_NxD,
                             const float* s_NxCxK, const RowGroups& groups, const float* win_PxExD,
                             const float* wout_PxExD, const SparseExpertsDims& dims, Activation act,
                             ExpertGate gate, bool accumulate_dx = true);

// The same with bf16 rows (x, dy and both tables) widened exactly to fp32 and fp32 sums;
// the gate values z and dh that multiply rows are rounded to bf16 as well, so every
// product has two bf16 operands (a bf16 matmul with fp32 accumulation). Outputs and
// gradients stay fp32.
void sparse_experts_forward_bf16(float* y_NxD, float* h_NxCxK, const bf16* x_NxD,
                                 const float* s_NxCxK, const RowGroups& groups,
                                 const bf16* win_PxExD, const bf16* wout_PxExD,
                                 const SparseExpertsDims& dims, Activation act, ExpertGate gate);
void sparse_experts_backward_bf16(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD,
                                  float* dwout_PxExD, const bf16* dy_NxD, const float* h_NxCxK,
                                  const bf16* x_NxD, const float* s_NxCxK, const RowGroups& groups,
                                  const bf16* win_PxExD, const bf16* wout_PxExD,
                                  const SparseExpertsDims& dims, Activation act, ExpertGate gate,
                                  bool accumulate_dx = true);

// Autograd op: x [N, D], scores [N, C, K], idx [N, C, K], w_in/w_out [C, E, D] or [E, D].
// Runs in the matmul precision set when the forward runs (ops/linear.h), backward too.
VarP sparse_experts(Tape& tape, const VarP& x_NxD, const VarP& scores_NxCxK,
                    const IntTensor& idx_NxCxK, const VarP& w_in, const VarP& w_out, Activation act,
                    ExpertGate gate);

}  // namespace sg
