#include "ops/attention.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "bf16_bound.h"
#include "ops/linear.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

struct Dims {
  int64_t B, T, S, H, Dh;
  int64_t nq() const { return B * T * H * Dh; }
  int64_t nk() const { return B * S * H * Dh; }
};

// Naive O(T*S) attention in double with the causal mask written out: query t (absolute
// position S-T+t) sees key s iff s <= S-T+t.
std::vector<double> attention_ref(const std::vector<double>& q, const std::vector<double>& k,
                                  const std::vector<double>& v, const Dims& d) {
  std::vector<double> out(d.nq(), 0.0), w(d.S);
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.H; ++h)
      for (int64_t t = 0; t < d.T; ++t) {
        const double* qt = &q[((b * d.T + t) * d.H + h) * d.Dh];
        double m = -INFINITY, z = 0;
        for (int64_t s = 0; s < d.S; ++s) {
          if (s > d.S - d.T + t) {
            w[s] = -INFINITY;
            continue;
          }
          const double* ks = &k[((b * d.S + s) * d.H + h) * d.Dh];
          double dot = 0;
          for (int64_t i = 0; i < d.Dh; ++i) dot += qt[i] * ks[i];
          w[s] = dot / std::sqrt(static_cast<double>(d.Dh));
          m = std::max(m, w[s]);
        }
        for (int64_t s = 0; s < d.S; ++s) z += (w[s] = std::exp(w[s] - m));
        double* o = &out[((b * d.T + t) * d.H + h) * d.Dh];
        for (int64_t s = 0; s < d.S; ++s)
          for (int64_t i = 0; i < d.Dh; ++i)
            o[i] += w[s] / z * v[((b * d.S + s) * d.H + h) * d.Dh + i];
      }
  return out;
}

double weighted_sum(const std::vector<double>& y, const std::vector<double>& r) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * r[i];
  return s;
}

// Central differences of f at the given coordinates only (the large case has too many
// inputs for a full fd_grad); same formula and step as fd_grad.
std::vector<double> fd_at(const std::function<double(const std::vector<double>&)>& f,
                          std::vector<double> x, const std::vector<size_t>& at, double h = 1e-6) {
  std::vector<double> g;
  for (size_t i : at) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = f(x);
    x[i] = x0 - h;
    const double down = f(x);
    x[i] = x0;
    g.push_back((up - down) / (2 * h));
  }
  return g;
}

// Forward vs the naive reference; backward of L = sum(out * r), with the input grads
// pre-seeded to check accumulation, vs central differences at `stride`-spaced coordinates.
void check_attention(const Dims& d, uint32_t seed, size_t stride) {
  Tape tape;
  VarP q = make_var(to_tensor({d.B, d.T, d.H, d.Dh}, random_vec(d.nq(), seed)), true);
  VarP k = make_var(to_tensor({d.B, d.S, d.H, d.Dh}, random_vec(d.nk(), seed + 1)), true);
  VarP v = make_var(to_tensor({d.B, d.S, d.H, d.Dh}, random_vec(d.nk(), seed + 2)), true);
  VarP y = causal_attention(tape, q, k, v);
  REQUIRE(y->value.shape() == q->value.shape());
  const auto qd = to_double(q->value), kd = to_double(k->value), vd = to_double(v->value);
  // Outputs are convex combinations of v in [-1, 1]; fp32 dots of <= 64 terms and a
  // softmax over <= 45 keys keep the error near 1e-6 absolute.
  check_close(y->value, attention_ref(qd, kd, vd, d), 0, 1e-5, "out");

  const auto r = random_vec(d.nq(), seed + 3);
  const auto g0q = random_vec(d.nq(), seed + 4), g0k = random_vec(d.nk(), seed + 5);
  const auto g0v = random_vec(d.nk(), seed + 6);
  q->grad = to_tensor(q->value.shape(), g0q);
  k->grad = to_tensor(k->value.shape(), g0k);
  v->grad = to_tensor(v->value.shape(), g0v);
  y->grad = to_tensor(y->value.shape(), r);
  tape.replay();

  auto check_grad = [&](const VarP& var, const std::vector<double>& g0, int which,
                        const char* what) {
    std::vector<size_t> at;
    for (size_t i = 0; i < g0.size(); i += stride) at.push_back(i);
    const auto f = [&](const std::vector<double>& x) {
      return weighted_sum(
          attention_ref(which == 0 ? x : qd, which == 1 ? x : kd, which == 2 ? x : vd, d), r);
    };
    auto want = fd_at(f, which == 0 ? qd : which == 1 ? kd : vd, at);
    std::vector<float> got;
    for (size_t j = 0; j < at.size(); ++j) {
      want[j] += static_cast<float>(g0[at[j]]);  // backward accumulates onto the seed
      got.push_back(var->grad[static_cast<int64_t>(at[j])]);
    }
    // Gradients are sums over <= 45 keys / <= 37 queries of O(1) fp32 products: errors
    // ~1e-6; fd truncation and cancellation in double ~1e-9.
    check_close(got.data(), want, 1e-4, 2e-5, what);
  };
  check_grad(q, g0q, 0, "dq");
  check_grad(k, g0k, 1, "dk");
  check_grad(v, g0v, 2, "dv");
}

}  // namespace

TEST_CASE("attention: odd sizes, S == T") { check_attention({2, 7, 7, 3, 6}, 1, 1); }

TEST_CASE("attention: KV-cache case S > T") { check_attention({2, 5, 9, 2, 6}, 10, 1); }

TEST_CASE("attention: single query against a cache") { check_attention({1, 1, 11, 2, 4}, 20, 1); }

TEST_CASE("attention: several row, key and head-dim tiles with Dh = 64") {
  check_attention({1, 37, 45, 2, 64}, 30, 13);
}

TEST_CASE("attention: fp32 forward and backward are bit-identical across runs and threads") {
  const int64_t B = 2, T = 33, H = 3, Dh = 64, n = B * T * H * Dh;
  auto run = [&] {
    Tape tape;
    VarP q = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 40)), true);
    VarP k = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 41)), true);
    VarP v = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 42)), true);
    VarP y = causal_attention(tape, q, k, v);
    y->grad = to_tensor({B, T, H, Dh}, random_vec(n, 43));
    tape.replay();
    return std::vector<Tensor>{y->value, q->grad, k->grad, v->grad};
  };
  const auto a = run(), b = run();
  // Each (b, h) head is computed by one thread in a fixed order, so one thread must also
  // give the very same bits.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto c = run();
  omp_set_num_threads(threads);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(std::memcmp(a[i].data(), b[i].data(), sizeof(float) * n) == 0);
    CHECK(std::memcmp(a[i].data(), c[i].data(), sizeof(float) * n) == 0);
  }
}

TEST_CASE("attention: only inputs that require grad receive one") {
  const int64_t B = 1, T = 5, H = 2, Dh = 4, n = B * T * H * Dh;
  Tape tape;
  VarP q = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 50)), true);
  VarP k = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 51)));
  VarP v = make_var(to_tensor({B, T, H, Dh}, random_vec(n, 52)));
  VarP y = causal_attention(tape, q, k, v);
  CHECK(y->requires_grad);
  y->grad = to_tensor({B, T, H, Dh}, random_vec(n, 53));
  tape.replay();
  CHECK(q->has_grad());
  CHECK(!k->has_grad());
  CHECK(!v->has_grad());
  // Without any input requiring grad nothing is recorded.
  Tape tape2;
  CHECK(!causal_attention(tape2, k, k, v)->requires_grad);
  CHECK(tape2.size() == 0);
}

TEST_CASE("attention: shape errors name the op and the shapes") {
  Tape tape;
  VarP q = make_var(Tensor::zeros({1, 4, 2, 8}));
  VarP k = make_var(Tensor::zeros({1, 3, 2, 8}));
  CHECK_THROWS_WITH_AS(causal_attention(tape, q, k, k),
                       "causal_attention: q has shape [1, 4, 2, 8] and k [1, 3, 2, 8], expected q "
                       "[B, T, H, Dh] and k [B, S, H, Dh] with S >= T",
                       Error);
  VarP k2 = make_var(Tensor::zeros({1, 4, 2, 8}));
  CHECK_THROWS_WITH_AS(causal_attention(tape, q, k2, make_var(Tensor::zeros({1, 5, 2, 8}))),
                       "causal_attention: v has shape [1, 5, 2, 8], expected [1, 4, 2, 8]", Error);
}

// ---- bf16 path ----

namespace {

// Attention in double for one (b, h): exact outputs and gradients of L = sum(out * dO),
// and their sums of |terms| (bf16_bound.h), plus the largest score error bound delta.
struct AttnRef {
  std::vector<double> out, dq, dk, dv, out_abs, dq_abs, dk_abs, dv_abs;
  double delta = 0;
};
AttnRef attention_ref_grads(const std::vector<double>& q, const std::vector<double>& k,
                            const std::vector<double>& v, const std::vector<double>& dout,
                            const Dims& d, double score_rel) {
  AttnRef r{std::vector<double>(d.nq()), std::vector<double>(d.nq()), std::vector<double>(d.nk()),
            std::vector<double>(d.nk()), std::vector<double>(d.nq()), std::vector<double>(d.nq()),
            std::vector<double>(d.nk()), std::vector<double>(d.nk())};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.Dh));
  auto at = [&](int64_t b, int64_t t, int64_t h, int64_t R) {
    return ((b * R + t) * d.H + h) * d.Dh;
  };
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.H; ++h)
      for (int64_t t = 0; t < d.T; ++t) {
        const int64_t L = d.S - d.T + t + 1, qt = at(b, t, h, d.T);
        std::vector<double> p(L);
        double m = -INFINITY, z = 0;
        for (int64_t s = 0; s < L; ++s) {
          double dot = 0, abs = 0;
          for (int64_t i = 0; i < d.Dh; ++i) {
            dot += q[qt + i] * k[at(b, s, h, d.S) + i];
            abs += std::fabs(q[qt + i] * k[at(b, s, h, d.S) + i]);
          }
          p[s] = dot * scale;
          r.delta = std::max(r.delta, score_rel * abs * scale);
          m = std::max(m, p[s]);
        }
        for (int64_t s = 0; s < L; ++s) z += (p[s] = std::exp(p[s] - m));
        for (auto& x : p) x /= z;
        for (int64_t s = 0; s < L; ++s)
          for (int64_t i = 0; i < d.Dh; ++i) {
            r.out[qt + i] += p[s] * v[at(b, s, h, d.S) + i];
            r.out_abs[qt + i] += p[s] * std::fabs(v[at(b, s, h, d.S) + i]);
          }
        double Dt = 0, Dt_abs = 0;
        for (int64_t i = 0; i < d.Dh; ++i) {
          Dt += dout[qt + i] * r.out[qt + i];
          Dt_abs += std::fabs(dout[qt + i]) * r.out_abs[qt + i];
        }
        for (int64_t s = 0; s < L; ++s) {
          const int64_t ks = at(b, s, h, d.S);
          double dP = 0, dP_abs = 0;
          for (int64_t i = 0; i < d.Dh; ++i) {
            dP += dout[qt + i] * v[ks + i];
            dP_abs += std::fabs(dout[qt + i] * v[ks + i]);
          }
          const double dS = p[s] * (dP - Dt), dS_abs = p[s] * (dP_abs + Dt_abs);
          for (int64_t i = 0; i < d.Dh; ++i) {
            r.dq[qt + i] += scale * dS * k[ks + i];
            r.dq_abs[qt + i] += scale * dS_abs * std::fabs(k[ks + i]);
            r.dk[ks + i] += scale * dS * q[qt + i];
            r.dk_abs[ks + i] += scale * dS_abs * std::fabs(q[qt + i]);
            r.dv[ks + i] += p[s] * dout[qt + i];
            r.dv_abs[ks + i] += p[s] * std::fabs(dout[qt + i]);
          }
        }
      }
  return r;
}

}  // namespace

TEST_CASE("attention bf16: forward and gradients within the bf16 bound of the exact values") {
  // Bound (bf16_bound.h, u = 2^-9): a score q.k/sqrt(Dh) has two rounded factors, so it
  // is off by at most delta = ((1+u)^2 - 1 + Dh 2^-24) sum|q k|/sqrt(Dh); the softmax
  // then changes each probability by a factor within e^{+-2 delta}. out = sum P v has P
  // and v rounded: factor e^{2 delta} (1+u)^2. The gradients: dS = P (dP - D_t) with
  // dP = dO.v (2 rounded factors), D_t = dO.out (dO rounded, out carrying its forward
  // error) and dS itself rounded, times k, q or dO (rounded), or dv = P^T dO: every term
  // stays within e^{4 delta} (1+u)^6 of the exact one, over sums of at most S + Dh terms.
  const Dims d{2, 37, 37, 2, 64};
  const double u = std::ldexp(1.0, -9);
  const auto q = random_vec(d.nq(), 50), k = random_vec(d.nk(), 51), v = random_vec(d.nk(), 52),
             dout = random_vec(d.nq(), 53);
  const AttnRef r =
      attention_ref_grads(q, k, v, dout, d, (1 + u) * (1 + u) - 1 + d.Dh * std::ldexp(1.0, -24));
  const double fp32 = (d.S + d.Dh + 2) * std::ldexp(1.0, -24);
  const double rel_out = std::exp(2 * r.delta) * std::pow(1 + u, 2) - 1 + fp32;
  const double rel_grad = std::exp(4 * r.delta) * std::pow(1 + u, 6) - 1 + fp32;

  auto run_attention = [&](MatmulPrecision prec) {
    const MatmulPrecisionScope scope(prec);
    Tape tape;
    VarP qv = make_var(to_tensor({d.B, d.T, d.H, d.Dh}, q), true);
    VarP kv = make_var(to_tensor({d.B, d.S, d.H, d.Dh}, k), true);
    VarP vv = make_var(to_tensor({d.B, d.S, d.H, d.Dh}, v), true);
    VarP y = causal_attention(tape, qv, kv, vv);
    y->grad = to_tensor(y->value.shape(), dout);
    tape.replay();
    return std::vector<Tensor>{y->value, qv->grad, kv->grad, vv->grad};
  };
  const auto got = run_attention(MatmulPrecision::bf16);
  const std::vector<const std::vector<double>*> want = {&r.out, &r.dq, &r.dk, &r.dv},
                                                abs = {&r.out_abs, &r.dq_abs, &r.dk_abs, &r.dv_abs};
  const char* names[] = {"out", "dq", "dk", "dv"};
  for (int i = 0; i < 4; ++i) {
    CAPTURE(names[i]);
    const double rel = i == 0 ? rel_out : rel_grad;
    size_t bad = 0;
    for (size_t j = 0; j < want[i]->size(); ++j)
      bad += !(std::fabs(got[i][j] - (*want[i])[j]) <= rel * (*abs[i])[j]);
    CHECK(bad == 0);
  }
  // The bf16 path ran: its output is further from fp32's than fp32 rounding explains.
  const auto ref32 = run_attention(MatmulPrecision::fp32);
  double worst = 0;
  for (int64_t j = 0; j < got[0].numel(); ++j)
    worst = std::max(worst, std::fabs(got[0][j] - ref32[0][j]) / (fp32 * r.out_abs[j]));
  CHECK(worst > 10);
}
