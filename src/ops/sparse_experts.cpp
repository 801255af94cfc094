// Legend: N tokens, D d_model, C channels, K picks per channel, E neurons per table,
// P tables; a "row" is one neuron's vector w[t, i, :] of length D.
#include "ops/sparse_experts.h"
#include "ops/linear.h"
#include "util/profiler.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>
#include <vector>

namespace sg {

namespace {

// The kernels read rows (tables, x, dy) as R: float, or bf16 in the bf16 path, which
// widens each element exactly to fp32 (a shift) so that products of two bf16 values are
// exact and every sum is fp32, like a bf16 matmul with fp32 accumulation.
inline float to_f(float x) { return x; }
inline float to_f(bf16 b) { return std::bit_cast<float>(static_cast<uint32_t>(b.bits) << 16); }
// A scalar operand of a product (z, dh) as the path's precision holds it.
template <typename T>
inline float as_operand(float x) {
  if constexpr (std::is_same_v<T, bf16>) return to_f(float_to_bf16(x));
  return x;
}

// <a, b> of two bf16 rows with AVX512-BF16's pairwise dot instruction (32 products per
// instruction, exact products, fp32 sums), in a fixed order; the tail past a multiple of
// 32 is summed in scalar.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) float dot_native(const bf16* a,
                                                                        const bf16* b, int64_t D) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t d = 0;
  for (; d + 64 <= D; d += 64) {
    acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(a + d),
                            (__m512bh)_mm512_loadu_si512(b + d));
    acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)_mm512_loadu_si512(a + d + 32),
                            (__m512bh)_mm512_loadu_si512(b + d + 32));
  }
  for (; d + 32 <= D; d += 32)
    acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(a + d),
                            (__m512bh)_mm512_loadu_si512(b + d));
  float tail = 0;
  for (; d < D; ++d) tail += bf16_to_float(a[d]) * bf16_to_float(b[d]);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + tail;
}
const bool kNativeBf16Dot = __builtin_cpu_supports("avx512bf16");

// 64 independent partial sums (four 16-wide vectors) hide the FMA latency that a
// single running sum would serialise; the fixed combine order keeps it deterministic.
template <typename T>
inline float dot(const T* a, const T* b, int64_t D) {
  if constexpr (std::is_same_v<T, bf16>)
    if (kNativeBf16Dot) return dot_native(a, b, D);
  constexpr int64_t W = 64;
  float acc[W] = {};
  int64_t d = 0;
  for (; d + W <= D; d += W)
#pragma omp simd
    for (int64_t j = 0; j < W; ++j) acc[j] += to_f(a[d + j]) * to_f(b[d + j]);
  for (; d < D; ++d) acc[d % W] += to_f(a[d]) * to_f(b[d]);
  for (int64_t w = W / 2; w > 0; w /= 2)
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

template <typename T>
inline void axpy(float* y, float a, const T* x, int64_t D) {
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) y[d] += a * to_f(x[d]);
}

// The per-token rows each entry gathers are not contiguous from one entry to the
// next; prefetching the next entry's rows overlaps those misses with the math
// (prefetching 4 or 8 entries ahead measured no different).
template <typename T>
inline void prefetch_row(const T* row, int64_t D) {
  for (int64_t d = 0; d < D; d += 64 / sizeof(T)) __builtin_prefetch(row + d);
}

// Two passes over a thread's entries, first the dots and the gate, then the row
// updates (z_J, dh_J carry what the second needs): in one loop each entry's
// updates wait on its dot, and `sgatlin bench ops` measured the split op 12% faster.
// (Updating in column slices of D so that the token rows stay in cache, on top of
// that, measured no better than run-to-run noise.)

// Table row of entry e = (n*C + c)*K + k.
inline int64_t row_of(const SparseExpertsDims& m, const int32_t* idx, int64_t e) {
  const int64_t c = (e / m.K) % m.C;
  return (m.P == 1 ? 0 : c) * m.E + idx[e];
}

// Stable softmax of s[0..K) into p.
inline void softmax_k(const float* s, float* p, int64_t K) {
  float mx = s[0];
  for (int64_t k = 1; k < K; ++k) mx = std::max(mx, s[k]);
  float sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += (p[k] = std::exp(s[k] - mx));
  for (int64_t k = 0; k < K; ++k) p[k] /= sum;
}

// peer's mixing weights p = softmax_k(s) per (token, channel); empty for sgatlin.
std::vector<float> mixing_weights(const float* s_NxCxK, const SparseExpertsDims& m,
                                  ExpertGate gate) {
  ScopedTimer timer(OpKind::experts);
  if (gate != ExpertGate::softmax_post_activation) return {};
  std::vector<float> p(m.N * m.C * m.K);
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < m.N * m.C; ++nc)
    softmax_k(s_NxCxK + nc * m.K, p.data() + nc * m.K, m.K);
  return p;
}

// z = act(s h) (sgatlin) or p act(h) (peer) and dL/dh given dL/dz.
struct GateOut {
  float z, dh;
};
inline GateOut gate_entry(ExpertGate gate, Activation act, float s, float p, float h, float dz) {
  if (gate == ExpertGate::pre_activation) {
    const float a = s * h;
    return {act_forward(act, a), dz * act_grad(act, a) * s};
  }
  return {p * act_forward(act, h), dz * p * act_grad(act, h)};
}

// Rows [first, last) of thread t of T: contiguous, split so each thread gets about
// the same number of entries (pick counts are uneven), fixed for a fixed T.
std::pair<int64_t, int64_t> thread_rows(const RowGroups& g, int t, int T) {
  const int64_t n_entries = static_cast<int64_t>(g.order.size());
  auto first_row = [&](int u) {
    const int64_t target = n_entries * u / T;
    return static_cast<int64_t>(std::lower_bound(g.start.begin(), g.start.end() - 1, target) -
                                g.start.begin());
  };
  return {t == 0 ? 0 : first_row(t),
          t == T - 1 ? static_cast<int64_t>(g.start.size()) - 1 : first_row(t + 1)};
}

// out[i] (+)= sum over the team's partials in thread order.
void sum_partials(float* out, const Tensor& partials, int team, int64_t n, bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float acc = accumulate ? out[i] : 0.0f;
    for (int t = 0; t < team; ++t) acc += partials[t * n + i];
    out[i] = acc;
  }
}

}  // namespace

RowGroups group_by_row(const int32_t* idx_NxCxK, const SparseExpertsDims& m) {
  // Counting sort with per-thread histograms over contiguous entry ranges; thread t's
  // entries of a row go after those of threads < t, so rows list entries ascending.
  const int64_t n_entries = m.N * m.C * m.K, n_rows = m.P * m.E;
  RowGroups g;
  g.start.assign(n_rows + 1, 0);
  g.order.resize(n_entries);
  g.token.resize(n_entries);
  const int T = omp_get_max_threads();
  std::vector<int64_t> counts(static_cast<size_t>(T) * n_rows, 0);
  int team = 1;
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
#pragma omp single
    team = nt;
    int64_t* mine = counts.data() + t * n_rows;
    const int64_t e0 = n_entries * t / nt, e1 = n_entries * (t + 1) / nt;
    for (int64_t e = e0; e < e1; ++e) ++mine[row_of(m, idx_NxCxK, e)];
#pragma omp barrier
#pragma omp single
    {
      int64_t offset = 0;  // turn counts into each thread's write offset per row
      for (int64_t r = 0; r < n_rows; ++r) {
        g.start[r] = offset;
        for (int u = 0; u < team; ++u) {
          const int64_t c = counts[u * n_rows + r];
          counts[u * n_rows + r] = offset;
          offset += c;
        }
      }
      g.start[n_rows] = offset;
    }
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t j = mine[row_of(m, idx_NxCxK, e)]++;
      g.order[j] = e;
      g.token[j] = static_cast<int32_t>(e / (m.C * m.K));
    }
  }
  return g;
}

namespace {

template <typename R>
void forward_impl(float* y_NxD, float* h_NxCxK, const R* x_NxD, const float* s_NxCxK,
                  const RowGroups& g, const R* win_PxExD, const R* wout_PxExD,
                  const SparseExpertsDims& m, Activation act, ExpertGate gate) {
  const int64_t D = m.D, ND = m.N * D;
  const std::vector<float> p = mixing_weights(s_NxCxK, m, gate);
  std::vector<float> z_J(g.order.size());  // J: entries in row order (g.order)
  Tensor partials = Tensor::empty({omp_get_max_threads(), m.N, D});
  int team = 1;
#pragma omp parallel
  {
    const int T = omp_get_num_threads(), t = omp_get_thread_num();
#pragma omp single
    team = T;
    float* acc = partials.data() + t * ND;
    std::fill(acc, acc + ND, 0.0f);
    const auto [r0, r1] = thread_rows(g, t, T);
    // 1. h = <x_n, w_in row> and the gate.
    for (int64_t r = r0; r < r1; ++r) {
      const R* win = win_PxExD + r * D;
      for (int64_t j = g.start[r]; j < g.start[r + 1]; ++j) {
        const int64_t e = g.order[j], n = g.token[j];
        if (j + 1 < g.start[r1]) prefetch_row(x_NxD + g.token[j + 1] * D, D);
        h_NxCxK[e] = dot(x_NxD + n * D, win, D);
        z_J[j] = as_operand<R>(
            gate_entry(gate, act, s_NxCxK[e], p.empty() ? 0.0f : p[e], h_NxCxK[e], 0.0f).z);
      }
    }
    // 2. acc_n += z w_out row.
    for (int64_t r = r0; r < r1; ++r) {
      const R* wout = wout_PxExD + r * D;
      for (int64_t j = g.start[r]; j < g.start[r + 1]; ++j) {
        if (j + 1 < g.start[r1]) prefetch_row(acc + g.token[j + 1] * D, D);
        axpy(acc + g.token[j] * D, z_J[j], wout, D);
      }
    }
  }
  sum_partials(y_NxD, partials, team, ND, false);
}

template <typename R>
void backward_impl(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD, float* dwout_PxExD,
                   const R* dy_NxD, const float* h_NxCxK, const R* x_NxD, const float* s_NxCxK,
                   const RowGroups& g, const R* win_PxExD, const R* wout_PxExD,
                   const SparseExpertsDims& m, Activation act, ExpertGate gate,
                   bool accumulate_dx) {
  const int64_t D = m.D, K = m.K, CK = m.C * K, ND = m.N * D, n_entries = m.N * CK;
  const std::vector<float> p = mixing_weights(s_NxCxK, m, gate);
  std::vector<float> dz(n_entries);
  std::vector<float> z_J(n_entries), dh_J(n_entries);  // J: entries in row order (g.order)
  Tensor partials = Tensor::empty({dx_NxD ? omp_get_max_threads() : 0, m.N, D});
  int team = 1;

  // 1. Rows: dz = <dy_n, w_out row> and the gate backward; then, in a second pass,
  //    the two row gradients (the row belongs to this thread) and dx into this
  //    thread's partial (see "Two passes" above).
#pragma omp parallel
  {
    const int T = omp_get_num_threads(), t = omp_get_thread_num();
#pragma omp single
    team = T;
    float* acc = dx_NxD ? partials.data() + t * ND : nullptr;
    if (acc) std::fill(acc, acc + ND, 0.0f);
    const auto [r0, r1] = thread_rows(g, t, T);
    for (int64_t r = r0; r < r1; ++r) {
      const R* wout = wout_PxExD + r * D;
      for (int64_t j = g.start[r]; j < g.start[r + 1]; ++j) {
        const int64_t e = g.order[j], n = g.token[j];
        if (j + 1 < g.start[r1]) prefetch_row(dy_NxD + g.token[j + 1] * D, D);
        dz[e] = dot(dy_NxD + n * D, wout, D);
        const GateOut o =
            gate_entry(gate, act, s_NxCxK[e], p.empty() ? 0.0f : p[e], h_NxCxK[e], dz[e]);
        z_J[j] = as_operand<R>(o.z);
        dh_J[j] = as_operand<R>(o.dh);
      }
    }
    for (int64_t r = r0; r < r1; ++r) {
      const R* win = win_PxExD + r * D;
      for (int64_t j = g.start[r]; j < g.start[r + 1]; ++j) {
        if (j + 1 < g.start[r1]) {
          const int64_t next = g.token[j + 1] * D;
          prefetch_row(dy_NxD + next, D);
          prefetch_row(x_NxD + next, D);
          if (acc) prefetch_row(acc + next, D);
        }
        const int64_t nd = g.token[j] * D;
        if (dwout_PxExD) axpy(dwout_PxExD + r * D, z_J[j], dy_NxD + nd, D);
        if (dwin_PxExD) axpy(dwin_PxExD + r * D, dh_J[j], x_NxD + nd, D);
        if (acc) axpy(acc + nd, dh_J[j], win, D);
      }
    }
  }
  if (dx_NxD) sum_partials(dx_NxD, partials, team, ND, accumulate_dx);
  if (!ds_NxCxK) return;

    // 2. Score gradients per (token, channel); peer's softmax couples the K picks:
    //    ds_k = p_k (dp_k - sum_j p_j dp_j) with dp_k = dz_k act(h_k).
#pragma omp parallel for schedule(static)
  for (int64_t e0 = 0; e0 < n_entries; e0 += K) {
    const float *s = s_NxCxK + e0, *h = h_NxCxK + e0;
    if (gate == ExpertGate::pre_activation) {
      for (int64_t k = 0; k < K; ++k)
        ds_NxCxK[e0 + k] += dz[e0 + k] * act_grad(act, s[k] * h[k]) * h[k];
    } else {
      float pdp = 0;
      for (int64_t k = 0; k < K; ++k) pdp += p[e0 + k] * dz[e0 + k] * act_forward(act, h[k]);
      for (int64_t k = 0; k < K; ++k)
        ds_NxCxK[e0 + k] += p[e0 + k] * (dz[e0 + k] * act_forward(act, h[k]) - pdp);
    }
  }
}

}  // namespace

void sparse_experts_forward(float* y_NxD, float* h_NxCxK, const float* x_NxD, const float* s_NxCxK,
                            const RowGroups& g, const float* win_PxExD, const float* wout_PxExD,
                            const SparseExpertsDims& m, Activation act, ExpertGate gate) {
  forward_impl(y_NxD, h_NxCxK, x_NxD, s_NxCxK, g, win_PxExD, wout_PxExD, m, act, gate);
}
void sparse_experts_forward_bf16(float* y_NxD, float* h_NxCxK, const bf16* x_NxD,
                                 const float* s_NxCxK, const RowGroups& g, const bf16* win_PxExD,
                                 const bf16* wout_PxExD, const SparseExpertsDims& m, Activation act,
                                 ExpertGate gate) {
  forward_impl(y_NxD, h_NxCxK, x_NxD, s_NxCxK, g, win_PxExD, wout_PxExD, m, act, gate);
}
void sparse_experts_backward(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD, float* dwout_PxExD,
                             const float* dy_NxD, const float* h_NxCxK, const float* x_NxD,
                             const float* s_NxCxK, const RowGroups& g, const float* win_PxExD,
                             const float* wout_PxExD, const SparseExpertsDims& m, Activation act,
                             ExpertGate gate, bool accumulate_dx) {
  backward_impl(dx_NxD, ds_NxCxK, dwin_PxExD, dwout_PxExD, dy_NxD, h_NxCxK, x_NxD, s_NxCxK, g,
                win_PxExD, wout_PxExD, m, act, gate, accumulate_dx);
}
void sparse_experts_backward_bf16(float* dx_NxD, float* ds_NxCxK, float* dwin_PxExD,
                                  float* dwout_PxExD, const bf16* dy_NxD, const float* h_NxCxK,
                                  const bf16* x_NxD, const float* s_NxCxK, const RowGroups& g,
                                  const bf16* win_PxExD, const bf16* wout_PxExD,
                                  const SparseExpertsDims& m, Activation act, ExpertGate gate,
                                  bool accumulate_dx) {
  backward_impl(dx_NxD, ds_NxCxK, dwin_PxExD, dwout_PxExD, dy_NxD, h_NxCxK, x_NxD, s_NxCxK, g,
                win_PxExD, wout_PxExD, m, act, gate, accumulate_dx);
}

VarP sparse_experts(Tape& tape, const VarP& x_NxD, const VarP& scores_NxCxK,
                    const IntTensor& idx_NxCxK, const VarP& w_in, const VarP& w_out, Activation act,
                    ExpertGate gate) {
  const Shape& ss = scores_NxCxK->value.shape();
  SG_CHECK(ss.size() == 3, "sparse_experts: scores have shape ", shape_str(ss),
           ", expected [N, C, K]");
  const int64_t N = ss[0], C = ss[1], K = ss[2];
  const Tensor& wi = w_in->value;
  SG_CHECK(wi.rank() == 2 || (wi.rank() == 3 && wi.dim(0) == C), "sparse_experts: w_in has shape ",
           shape_str(wi.shape()), ", expected [", C, ", E, D] or [E, D]");
  const int64_t P = wi.rank() == 3 ? C : 1, E = wi.dim(-2), D = wi.dim(-1);
  check_shape("sparse_experts", "w_out", w_out->value.shape(), wi.shape());
  check_shape("sparse_experts", "x", x_NxD->value.shape(), {N, D});
  check_shape("sparse_experts", "idx", idx_NxCxK.shape(), ss);
  const SparseExpertsDims m{N, D, C, K, E, P};
  ScopedTimer timer(OpKind::experts);
  const int32_t* idx = idx_NxCxK.data();
  for (int64_t e = 0; e < N * C * K; ++e)
    SG_CHECK(0 <= idx[e] && idx[e] < E, "sparse_experts: index ", idx[e], " at entry ", e,
             " outside [0, ", E, ")");

  VarP y = make_var(Tensor::empty({N, D}), tape.needs_grad(x_NxD, scores_NxCxK, w_in, w_out));
  Tensor h = Tensor::empty({N, C, K});
  auto groups = std::make_shared<const RowGroups>(group_by_row(idx, m));
  // bf16: tables read through their bf16 copies (converted once per optimizer step, half
  // the bytes of the memory-bound gathers), x rounded once here and kept for backward.
  const bool bf16 = matmul_precision() == MatmulPrecision::bf16;
  const Bf16Tensor x16 = bf16 ? to_bf16(x_NxD->value) : Bf16Tensor();
  if (bf16)
    sparse_experts_forward_bf16(y->value.data(), h.data(), x16.data(), scores_NxCxK->value.data(),
                                *groups, w_in->bf16_value(), w_out->bf16_value(), m, act, gate);
  else
    sparse_experts_forward(y->value.data(), h.data(), x_NxD->value.data(),
                           scores_NxCxK->value.data(), *groups, wi.data(), w_out->value.data(), m,
                           act, gate);
  if (y->requires_grad)
    tape.record_backward(OpKind::experts, y, [=] {
      bool acc_dx = false;
      float* dx = x_NxD->grad_for(acc_dx);
      if (bf16)
        sparse_experts_backward_bf16(dx, scores_NxCxK->grad_if_needed(), w_in->grad_if_needed(),
                                     w_out->grad_if_needed(), to_bf16(y->grad).data(), h.data(),
                                     x16.data(), scores_NxCxK->value.data(), *groups,
                                     w_in->bf16_value(), w_out->bf16_value(), m, act, gate, acc_dx);
      else
        sparse_experts_backward(dx, scores_NxCxK->grad_if_needed(), w_in->grad_if_needed(),
                                w_out->grad_if_needed(), y->grad.data(), h.data(),
                                x_NxD->value.data(), scores_NxCxK->value.data(), *groups,
                                w_in->value.data(), w_out->value.data(), m, act, gate, acc_dx);
    });
  return y;
}

}  // namespace sg
