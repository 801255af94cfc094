// cross_entropy: mean over non-pad positions of logsumexp(logits) - logits[target].
// Legend: N positions (all leading dims flattened), V vocabulary.
#include "ops/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "ops/vexp.h"
#include "util/profiler.h"

namespace sg {

namespace {
constexpr int64_t kSumBlock = 256;
}

void cross_entropy_forward(float* loss_N, float* lse_N, uint8_t* correct_N, const float* logits_NxV,
                           const int32_t* targets_N, int64_t N, int64_t V, int32_t pad_id) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const float* x = logits_NxV + n * V;
    if (targets_N[n] == pad_id) {
      loss_N[n] = lse_N[n] = 0.0f;
      correct_N[n] = 0;
      continue;
    }
    float m = x[0];
#pragma omp simd reduction(max : m)
    for (int64_t i = 1; i < V; ++i) m = x[i] > m ? x[i] : m;
    int64_t arg = 0;  // the first maximum: ties go to the lower index (bounded for NaN rows)
    while (arg < V - 1 && x[arg] != m) ++arg;
    // Max-subtracted, so every term is in (0, 1]. Blocks of kSumBlock are summed in fp32
    // (that vectorises; a double simd reduction does not) and the blocks in double.
    double sum = 0;
    for (int64_t i0 = 0; i0 < V; i0 += kSumBlock) {
      const int64_t i1 = std::min(V, i0 + kSumBlock);
      float block = 0;
#pragma omp simd reduction(+ : block)
      for (int64_t i = i0; i < i1; ++i) block += vexp(x[i] - m);
      sum += block;
    }
    const double lse = m + std::log(sum);
    lse_N[n] = static_cast<float>(lse);
    loss_N[n] = static_cast<float>(lse - x[targets_N[n]]);
    correct_N[n] = arg == targets_N[n];
  }
}

void cross_entropy_backward(float* dlogits_NxV, const float* logits_NxV, const float* lse_N,
                            const int32_t* targets_N, float g, int64_t N, int64_t V, int32_t pad_id,
                            bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    float* dx = dlogits_NxV + n * V;
    if (targets_N[n] == pad_id) {
      if (!accumulate) std::fill_n(dx, V, 0.0f);
      continue;
    }
    const float* x = logits_NxV + n * V;
    const float lse = lse_N[n];
    if (accumulate)
      for (int64_t i = 0; i < V; ++i) dx[i] += g * vexp(x[i] - lse);
    else
      for (int64_t i = 0; i < V; ++i) dx[i] = g * vexp(x[i] - lse);
    dx[targets_N[n]] -= g;
  }
}

CrossEntropyResult cross_entropy(Tape& tape, const VarP& logits, const IntTensor& targets,
                                 int32_t pad_id) {
  ScopedTimer timer(OpKind::loss);
  const Shape& ls = logits->value.shape();
  SG_CHECK(!ls.empty() && ls.back() > 0, "cross_entropy: logits have shape ", shape_str(ls),
           ", expected [..., V] with V > 0");
  const int64_t V = ls.back(), N = logits->value.numel() / V;
  SG_CHECK(targets.numel() == N, "cross_entropy: targets have shape ", shape_str(targets.shape()),
           ", expected ", N, " positions to match logits ", shape_str(ls));
  const int32_t* tgt = targets.data();
  int64_t n_valid = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (tgt[n] == pad_id) continue;
    SG_CHECK(0 <= tgt[n] && tgt[n] < V, "cross_entropy: target ", tgt[n], " at position ", n,
             " is outside the vocabulary [0, ", V, ") and is not the pad id ", pad_id);
    ++n_valid;
  }

  CrossEntropyResult res;
  res.n_valid = n_valid;
  res.loss_N = Tensor::empty({N});
  Tensor lse_N = Tensor::empty({N});
  TensorT<uint8_t> correct_N = TensorT<uint8_t>::empty({N});
  cross_entropy_forward(res.loss_N.data(), lse_N.data(), correct_N.data(), logits->value.data(),
                        tgt, N, V, pad_id);
  double sum = 0;  // fixed-order serial sums: bit-identical for any thread count
  int64_t correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    sum += res.loss_N[n];
    correct += correct_N[n];
  }
  const double mean = n_valid ? sum / n_valid : 0.0;
  res.accuracy = n_valid ? static_cast<double>(correct) / n_valid : 0.0;
  res.loss = make_var(Tensor::full({}, static_cast<float>(mean)), tape.needs_grad(logits));

  VarP loss = res.loss;
  // The closure keeps its own copy of the targets: callers may refill their batch buffer
  // before backward runs (N ints, negligible next to the [N, V] logits).
  if (loss->requires_grad)
    tape.record_backward(OpKind::loss, loss,
                         [logits, targets = targets.clone(), loss, lse_N, N, V, pad_id, n_valid] {
                           if (n_valid == 0) return;
                           const float g = loss->grad[0] / static_cast<float>(n_valid);
                           bool accumulate = false;
                           float* dlogits = logits->grad_for(accumulate);
                           cross_entropy_backward(dlogits, logits->value.data(), lse_N.data(),
                                                  targets.data(), g, N, V, pad_id, accumulate);
                         });
  return res;
}

}  // namespace sg
