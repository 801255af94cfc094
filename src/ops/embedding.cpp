// Token embedding: gather rows of E, scatter-add the output grad back into them.
// Legend: N tokens (all dims of ids flattened), V vocabulary, D d_model.
#include "ops/embedding.h"
#include "util/profiler.h"

#include <algorithm>

#include <omp.h>

namespace sg {

namespace {

void check_ids(const int32_t* ids_N, int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n)
    SG_CHECK(0 <= ids_N[n] && ids_N[n] < V, "embedding: id ", ids_N[n], " at position ", n,
             " is out of range for vocabulary size V=", V);
}

}  // namespace

// out_NxD[n] = E_VxD[ids_N[n]].
void embedding_forward(float* out_NxD, const int32_t* ids_N, const float* E_VxD, int64_t N,
                       int64_t D) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) std::copy_n(E_VxD + ids_N[n] * D, D, out_NxD + n * D);
}

// dE_VxD[ids_N[n]] += dout_NxD[n]. Threads own disjoint column ranges of dE and each walks
// all tokens in order, so repeated ids never race and every element sums in token order:
// the result does not depend on the thread count.
void embedding_backward(float* dE_VxD, const float* dout_NxD, const int32_t* ids_N, int64_t N,
                        int64_t D) {
#pragma omp parallel
  {
    // Ranges in whole 16-float (64-byte) lines so threads never share a cache line.
    const int64_t lines = (D + 15) / 16, nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t d0 = std::min(D, lines * t / nt * 16),
                  d1 = std::min(D, lines * (t + 1) / nt * 16);
    for (int64_t n = 0; n < N; ++n) {
      float* dst = dE_VxD + ids_N[n] * D;
      const float* src = dout_NxD + n * D;
      for (int64_t d = d0; d < d1; ++d) dst[d] += src[d];
    }
  }
}

VarP embedding(Tape& tape, const IntTensor& ids, const VarP& table_VxD) {
  ScopedTimer timer(OpKind::embedding);
  const Tensor& E = table_VxD->value;
  SG_CHECK(E.rank() == 2, "embedding: table has shape ", shape_str(E.shape()), ", expected [V, D]");
  const int64_t V = E.dim(0), D = E.dim(1), N = ids.numel();
  check_ids(ids.data(), N, V);
  Shape out_shape = ids.shape();
  out_shape.push_back(D);
  VarP out = make_var(Tensor::empty(out_shape), tape.needs_grad(table_VxD));
  embedding_forward(out->value.data(), ids.data(), E.data(), N, D);
  if (out->requires_grad)
    // A copy of the ids: callers may refill their batch buffer before backward runs.
    tape.record_backward(OpKind::embedding, out, [ids = ids.clone(), table_VxD, out, N, D] {
      embedding_backward(table_VxD->grad_or_zeros().data(), out->grad.data(), ids.data(), N, D);
    });
  return out;
}

}  // namespace sg
