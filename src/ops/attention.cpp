// causal_attention: o = softmax(q k^T / sqrt(Dh) + causal mask) v, fused forward and backward.
// Legend: B batch, T query time, S key time (S >= T), H heads, Dh head dim; per head the
// work buffers are padded: Tp rows (multiple of kR), Sp keys and Dp head dim (multiples of kW).
//
// What forward keeps for backward: only the row logsumexp lse [B, H, T] (plus q, k, v and
// the output, which autograd holds anyway); backward recomputes the probabilities as flash
// attention does. Keeping P [B, H, T, S] would cost 4*B*H*T*S bytes per layer: 16 MiB at
// B=16, H=4, T=256 (affordable) but 4 GiB per layer at B=256, H=4, T=1024 (not), whereas
// lse is 4 MiB there. The price is one extra q k^T product in backward: 5 T x S x Dh
// products instead of 4, about +17% of attention FLOPs for fwd+bwd, and one exp per score.
// Backward's transient scratch is P and dS of one head per thread, 2 * T * S floats
// (512 KiB at T = S = 256, 8 MiB at 1024).
//
// Per (b, h) the head is gathered into contiguous padded buffers (q pre-scaled by
// 1/sqrt(Dh), k and v also transposed to [Dh, Sp]) so that every product runs through one
// register-blocked kR x kW micro-kernel whose inner loop is contiguous along kW.
#include "ops/attention.h"

#include <algorithm>
#include <cmath>

#include "ops/linear.h"
#include "ops/vexp.h"
#include "util/profiler.h"

namespace sg {

namespace {

typedef float vf16 __attribute__((vector_size(64)));  // one AVX-512 register of floats
inline vf16 load16(const float* p) {
  vf16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, vf16 v) { __builtin_memcpy(p, &v, sizeof v); }

constexpr int64_t kR = 8;   // micro-tile rows: 8 x 2 accumulators + 2 loads fit 32 registers
constexpr int64_t kW = 32;  // micro-tile columns: two vectors of 16 floats
inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// C[r*ldc + j] = sum_{k<K} A[r*ars + k*aks] * B[k*ldb + j] for r < kR, j < kW (overwrites).
// A's strides let the same kernel read A or A^T.
void tile(float* C, int64_t ldc, const float* A, int64_t ars, int64_t aks, const float* B,
          int64_t ldb, int64_t K) {
  vf16 acc[kR][2] = {};
  for (int64_t k = 0; k < K; ++k) {
    const vf16 b0 = load16(B + k * ldb), b1 = load16(B + k * ldb + 16);
    const float* a = A + k * aks;
    for (int64_t r = 0; r < kR; ++r) {
      acc[r][0] += a[r * ars] * b0;
      acc[r][1] += a[r * ars] * b1;
    }
  }
  for (int64_t r = 0; r < kR; ++r) {
    store16(C + r * ldc, acc[r][0]);
    store16(C + r * ldc + 16, acc[r][1]);
  }
}

struct Dims {
  int64_t B, T, S, H, Dh, Tp, Sp, Dp;
  float scale;  // 1/sqrt(Dh)
  bool bf16;    // round every product operand to bf16 (sums stay fp32)
  // Keys visible to the last row of the query tile starting at t0 (rows >= T clipped).
  int64_t keys_for_tile(int64_t t0) const { return std::min(S, S - T + t0 + kR); }
};

Dims make_dims(int64_t B, int64_t T, int64_t S, int64_t H, int64_t Dh, bool bf16) {
  return {B,
          T,
          S,
          H,
          Dh,
          round_up(T, kR),
          round_up(S, kW),
          round_up(Dh, kW),
          static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh))),
          bf16};
}

// x as a product operand: itself, or rounded to the nearest bf16 in the bf16 path.
inline float operand(float x, const Dims& d) {
  return d.bf16 ? bf16_to_float(float_to_bf16(x)) : x;
}
void round_operands(float* x, int64_t n, const Dims& d) {
  if (d.bf16)
    for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_float(float_to_bf16(x[i]));
}

// dst[r*Dp + d] = src row r of head (b, h) times mul, for r < R rows of a [B, R, H, Dh] tensor.
// With `as_operand`, the values are rounded as product operands (bf16 path).
void gather(float* dst, const float* src, int64_t b, int64_t h, int64_t R, const Dims& d,
            float mul = 1.0f, bool as_operand = true) {
  for (int64_t r = 0; r < R; ++r) {
    const float* s = src + ((b * R + r) * d.H + h) * d.Dh;
    for (int64_t i = 0; i < d.Dh; ++i)
      dst[r * d.Dp + i] = as_operand ? operand(s[i] * mul, d) : s[i] * mul;
  }
}

// dst[i*Sp + s] = key/value row s of head (b, h): the [Dh, Sp] layout the score tiles read.
// Blocked 16 x 16 so that both the reads and the strided writes stay within few cache lines.
void gather_transposed(float* dst, const float* src, int64_t b, int64_t h, const Dims& d) {
  constexpr int64_t kB = 16;
  for (int64_t s0 = 0; s0 < d.S; s0 += kB)
    for (int64_t i0 = 0; i0 < d.Dh; i0 += kB)
      for (int64_t s = s0; s < std::min(d.S, s0 + kB); ++s) {
        const float* x = src + ((b * d.S + s) * d.H + h) * d.Dh;
        for (int64_t i = i0; i < std::min(d.Dh, i0 + kB); ++i) dst[i * d.Sp + s] = operand(x[i], d);
      }
}

// dst row r of head (b, h) += mul * src[r*Dp + d], the inverse of gather.
void scatter_add(float* dst, const float* src, int64_t b, int64_t h, int64_t R, const Dims& d,
                 float mul = 1.0f) {
  for (int64_t r = 0; r < R; ++r) {
    float* x = dst + ((b * R + r) * d.H + h) * d.Dh;
    for (int64_t i = 0; i < d.Dh; ++i) x[i] += mul * src[r * d.Dp + i];
  }
}

// Per-thread work buffers for one head, zeroed once so the padding stays zero.
struct HeadBuffers {
  Tensor Q_TpxDp, K_SpxDp, V_SpxDp, kT_DpxSp, vT_DpxSp, dO_TpxDp, O_TpxDp, P_TpxSp, dS_TpxSp,
      dQ_TpxDp, dK_SpxDp, dV_SpxDp;
};

void forward_head(HeadBuffers& w, float* out, float* lse_T, const float* q, const float* k,
                  const float* v, int64_t b, int64_t h, const Dims& d) {
  float *Q = w.Q_TpxDp.data(), *kT = w.kT_DpxSp.data(), *V = w.V_SpxDp.data();
  float *P = w.P_TpxSp.data(), *O = w.O_TpxDp.data();  // P holds one row tile here
  gather(Q, q, b, h, d.T, d, d.scale);
  gather_transposed(kT, k, b, h, d);
  gather(V, v, b, h, d.S, d);
  for (int64_t t0 = 0; t0 < d.Tp; t0 += kR) {
    const int64_t L = d.keys_for_tile(t0), Lp = round_up(L, kW);
    for (int64_t s0 = 0; s0 < Lp; s0 += kW)
      tile(P + s0, d.Sp, Q + t0 * d.Dp, d.Dp, 1, kT + s0, d.Sp, d.Dh);
    for (int64_t r = 0; r < kR; ++r) {
      const int64_t t = t0 + r;
      float* p = P + r * d.Sp;
      const int64_t lim = t < d.T ? d.S - d.T + t + 1 : 0;  // keys 0 .. S-T+t are visible
      if (lim > 0) {
        float m = p[0], sum = 0;
#pragma omp simd reduction(max : m)
        for (int64_t s = 1; s < lim; ++s) m = p[s] > m ? p[s] : m;
#pragma omp simd reduction(+ : sum)
        for (int64_t s = 0; s < lim; ++s) {
          p[s] = vexp(p[s] - m);
          sum += p[s];
        }
        const float inv = 1.0f / sum;
        for (int64_t s = 0; s < lim; ++s) p[s] *= inv;
        round_operands(p, lim, d);  // P is the left operand of P V
        lse_T[t] = m + std::log(sum);
      }
      std::fill(p + lim, p + Lp, 0.0f);
    }
    for (int64_t i0 = 0; i0 < d.Dp; i0 += kW)
      tile(O + t0 * d.Dp + i0, d.Dp, P, d.Sp, 1, V + i0, d.Dp, L);
  }
  for (int64_t t = 0; t < d.T; ++t) {
    float* o = out + ((b * d.T + t) * d.H + h) * d.Dh;
    for (int64_t i = 0; i < d.Dh; ++i) o[i] = O[t * d.Dp + i];
  }
}

// With P the probabilities, dP = dO V^T and Dt = sum_i dO[t,i] O[t,i]:
//   dS = P * (dP - Dt),  dq = scale * dS K,  dk = dS^T (scale q),  dv = P^T dO.
void backward_head(HeadBuffers& w, float* dq, float* dk, float* dv, const float* dout,
                   const float* q, const float* k, const float* v, const float* out,
                   const float* lse_T, int64_t b, int64_t h, const Dims& d) {
  float *Q = w.Q_TpxDp.data(), *K = w.K_SpxDp.data(), *kT = w.kT_DpxSp.data();
  float *vT = w.vT_DpxSp.data(), *dO = w.dO_TpxDp.data(), *O = w.O_TpxDp.data();
  float *P = w.P_TpxSp.data(), *dS = w.dS_TpxSp.data();
  gather(Q, q, b, h, d.T, d, d.scale);
  gather(K, k, b, h, d.S, d);
  gather_transposed(kT, k, b, h, d);
  gather_transposed(vT, v, b, h, d);
  gather(dO, dout, b, h, d.T, d);
  gather(O, out, b, h, d.T, d, 1.0f, /*as_operand=*/false);  // only for D_t, a row sum
  for (int64_t t0 = 0; t0 < d.Tp; t0 += kR) {
    const int64_t L = d.keys_for_tile(t0), Lp = round_up(L, kW);
    float *Pt = P + t0 * d.Sp, *dSt = dS + t0 * d.Sp;
    for (int64_t s0 = 0; s0 < Lp; s0 += kW) {
      tile(Pt + s0, d.Sp, Q + t0 * d.Dp, d.Dp, 1, kT + s0, d.Sp, d.Dh);
      tile(dSt + s0, d.Sp, dO + t0 * d.Dp, d.Dp, 1, vT + s0, d.Sp, d.Dh);
    }
    for (int64_t r = 0; r < kR; ++r) {
      const int64_t t = t0 + r;
      float *p = Pt + r * d.Sp, *ds = dSt + r * d.Sp;
      const int64_t lim = t < d.T ? d.S - d.T + t + 1 : 0;
      if (lim > 0) {
        float Dt = 0;
        for (int64_t i = 0; i < d.Dh; ++i) Dt += dO[t * d.Dp + i] * O[t * d.Dp + i];
        const float lse = lse_T[t];
        for (int64_t s = 0; s < lim; ++s) {
          p[s] = vexp(p[s] - lse);
          ds[s] = p[s] * (ds[s] - Dt);
        }
        round_operands(p, lim, d);  // operands of P^T dO, dS K and dS^T Q
        round_operands(ds, lim, d);
      }
      std::fill(p + lim, p + Lp, 0.0f);
      std::fill(ds + lim, ds + Lp, 0.0f);
    }
    if (dq)
      for (int64_t i0 = 0; i0 < d.Dp; i0 += kW)
        tile(w.dQ_TpxDp.data() + t0 * d.Dp + i0, d.Dp, dSt, d.Sp, 1, K + i0, d.Dp, L);
  }
  // Key tiles: key s is seen by query rows t >= s - (S - T); the zeroed masked entries of
  // P and dS cover the rest of the tile.
  for (int64_t s0 = 0; s0 < d.S; s0 += kR) {
    const int64_t t_first = std::max<int64_t>(0, s0 - (d.S - d.T)), n = d.T - t_first;
    for (int64_t i0 = 0; i0 < d.Dp; i0 += kW) {
      if (dv)
        tile(w.dV_SpxDp.data() + s0 * d.Dp + i0, d.Dp, P + t_first * d.Sp + s0, 1, d.Sp,
             dO + t_first * d.Dp + i0, d.Dp, n);
      if (dk)
        tile(w.dK_SpxDp.data() + s0 * d.Dp + i0, d.Dp, dS + t_first * d.Sp + s0, 1, d.Sp,
             Q + t_first * d.Dp + i0, d.Dp, n);
    }
  }
  if (dq) scatter_add(dq, w.dQ_TpxDp.data(), b, h, d.T, d, d.scale);
  if (dk) scatter_add(dk, w.dK_SpxDp.data(), b, h, d.S, d);
  if (dv) scatter_add(dv, w.dV_SpxDp.data(), b, h, d.S, d);
}

}  // namespace

void attention_forward(float* out_BxTxHxDh, float* lse_BxHxT, const float* q_BxTxHxDh,
                       const float* k_BxSxHxDh, const float* v_BxSxHxDh, int64_t B, int64_t T,
                       int64_t S, int64_t H, int64_t Dh) {
  const Dims d = make_dims(B, T, S, H, Dh, matmul_precision() == MatmulPrecision::bf16);
#pragma omp parallel
  {
    HeadBuffers w;
    w.Q_TpxDp = Tensor::zeros({d.Tp, d.Dp});
    w.kT_DpxSp = Tensor::zeros({d.Dp, d.Sp});
    w.V_SpxDp = Tensor::zeros({d.Sp, d.Dp});
    w.P_TpxSp = Tensor::zeros({kR, d.Sp});
    w.O_TpxDp = Tensor::zeros({d.Tp, d.Dp});
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < B * H; ++bh)
      forward_head(w, out_BxTxHxDh, lse_BxHxT + bh * T, q_BxTxHxDh, k_BxSxHxDh, v_BxSxHxDh, bh / H,
                   bh % H, d);
  }
}

void attention_backward(float* dq_BxTxHxDh, float* dk_BxSxHxDh, float* dv_BxSxHxDh,
                        const float* dout_BxTxHxDh, const float* q_BxTxHxDh,
                        const float* k_BxSxHxDh, const float* v_BxSxHxDh, const float* out_BxTxHxDh,
                        const float* lse_BxHxT, int64_t B, int64_t T, int64_t S, int64_t H,
                        int64_t Dh) {
  const Dims d = make_dims(B, T, S, H, Dh, matmul_precision() == MatmulPrecision::bf16);
#pragma omp parallel
  {
    HeadBuffers w;
    w.Q_TpxDp = Tensor::zeros({d.Tp, d.Dp});
    w.K_SpxDp = Tensor::zeros({d.Sp, d.Dp});
    w.kT_DpxSp = Tensor::zeros({d.Dp, d.Sp});
    w.vT_DpxSp = Tensor::zeros({d.Dp, d.Sp});
    w.dO_TpxDp = Tensor::zeros({d.Tp, d.Dp});
    w.O_TpxDp = Tensor::zeros({d.Tp, d.Dp});
    w.P_TpxSp = Tensor::zeros({d.Tp, d.Sp});
    w.dS_TpxSp = Tensor::zeros({d.Tp, d.Sp});
    w.dQ_TpxDp = Tensor::zeros({d.Tp, d.Dp});
    w.dK_SpxDp = Tensor::zeros({d.Sp, d.Dp});
    w.dV_SpxDp = Tensor::zeros({d.Sp, d.Dp});
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < B * H; ++bh)
      backward_head(w, dq_BxTxHxDh, dk_BxSxHxDh, dv_BxSxHxDh, dout_BxTxHxDh, q_BxTxHxDh, k_BxSxHxDh,
                    v_BxSxHxDh, out_BxTxHxDh, lse_BxHxT + bh * T, bh / H, bh % H, d);
  }
}

VarP causal_attention(Tape& tape, const VarP& q, const VarP& k, const VarP& v) {
  ScopedTimer timer(OpKind::attention);

  const Shape &qs = q->value.shape(), &ks = k->value.shape();
  SG_CHECK(qs.size() == 4 && ks.size() == 4 && ks[0] == qs[0] && ks[2] == qs[2] && ks[3] == qs[3] &&
               ks[1] >= qs[1],
           "causal_attention: q has shape ", shape_str(qs), " and k ", shape_str(ks),
           ", expected q [B, T, H, Dh] and k [B, S, H, Dh] with S >= T");
  check_shape("causal_attention", "v", v->value.shape(), ks);
  const int64_t B = qs[0], T = qs[1], H = qs[2], Dh = qs[3], S = ks[1];
  VarP y = make_var(Tensor::empty(qs), tape.needs_grad(q, k, v));
  Tensor lse_BxHxT = Tensor::empty({B, H, T});
  attention_forward(y->value.data(), lse_BxHxT.data(), q->value.data(), k->value.data(),
                    v->value.data(), B, T, S, H, Dh);
  if (y->requires_grad)
    tape.record_backward(
        OpKind::attention, y,
        [q, k, v, y, lse_BxHxT, B, T, S, H, Dh, precision = matmul_precision()] {
          const MatmulPrecisionScope scope(precision);  // backward in the forward's precision
          attention_backward(q->grad_if_needed(), k->grad_if_needed(), v->grad_if_needed(),
                             y->grad.data(), q->value.data(), k->value.data(), v->value.data(),
                             y->value.data(), lse_BxHxT.data(), B, T, S, H, Dh);
        });
  return y;
}

}  // namespace sg
