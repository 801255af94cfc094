// Elementwise ops over flat buffers. Legend: n elements.
#include "ops/elementwise.h"
#include "util/profiler.h"

#include <algorithm>
#include <vector>

namespace sg {

namespace {

// dst[i] += s * src[i].
void axpy(float* dst, const float* src, float s, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) dst[i] += s * src[i];
}

// Partial sums over fixed chunks, combined in chunk order: the result depends on n only,
// not on the thread count or timing. Double accumulation keeps large sums accurate.
constexpr int64_t kSumChunk = 4096;

}  // namespace

void add_forward(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void scale_forward(float* out, const float* x, float s, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = s * x[i];
}

double sum_forward(const float* x, int64_t n) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> partial(chunks);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    double acc = 0;
    for (int64_t i = c * kSumChunk; i < std::min(n, (c + 1) * kSumChunk); ++i) acc += x[i];
    partial[c] = acc;
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

VarP add(Tape& tape, const VarP& a, const VarP& b) {
  ScopedTimer timer(OpKind::elementwise);
  check_shape("add", "b", b->value.shape(), a->value.shape());
  const int64_t n = a->value.numel();
  VarP y = make_var(Tensor::empty(a->value.shape()), tape.needs_grad(a, b));
  add_forward(y->value.data(), a->value.data(), b->value.data(), n);
  if (y->requires_grad)
    tape.record_backward(OpKind::elementwise, y, [a, b, y, n] {
      if (a->requires_grad) axpy(a->grad_or_zeros().data(), y->grad.data(), 1.0f, n);
      if (b->requires_grad) axpy(b->grad_or_zeros().data(), y->grad.data(), 1.0f, n);
    });
  return y;
}

VarP scale(Tape& tape, const VarP& x, float s) {
  ScopedTimer timer(OpKind::elementwise);
  const int64_t n = x->value.numel();
  VarP y = make_var(Tensor::empty(x->value.shape()), tape.needs_grad(x));
  scale_forward(y->value.data(), x->value.data(), s, n);
  if (y->requires_grad)
    tape.record_backward(OpKind::elementwise, y,
                         [x, y, s, n] { axpy(x->grad_or_zeros().data(), y->grad.data(), s, n); });
  return y;
}

VarP sum(Tape& tape, const VarP& x) {
  const int64_t n = x->value.numel();
  VarP y = make_var(Tensor::full({}, static_cast<float>(sum_forward(x->value.data(), n))),
                    tape.needs_grad(x));
  if (y->requires_grad)
    tape.record_backward(y, [x, y, n] {
      const float g = y->grad[0];
      float* dx = x->grad_or_zeros().data();
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < n; ++i) dx[i] += g;
    });
  return y;
}

}  // namespace sg
