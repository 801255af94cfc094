// Independent double-precision references for the feedforward layers and routers
// (spec §2), written as plain loops straight from the formulas, plus a whole-layer
// checker: forward against the reference, every gradient against central finite
// differences of the reference.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "nn/feedforward.h"
#include "test_util.h"

namespace sg::test {

using Vec = std::vector<double>;
using Params = std::map<std::string, Vec>;  // keyed by name after the layer prefix

// Distance of the evaluation point from every discrete decision (top-K boundary,
// relu kink, GLU clamp): finite differences are only valid when it is not tiny.
struct Margin {
  double min = std::numeric_limits<double>::infinity();
  int clamped = 0;  // GLU entries beyond the clamp, so tests can assert coverage
  void see(double v) { min = std::min(min, std::fabs(v)); }
};

inline double act_ref(const std::string& a, double x, Margin& m) {
  if (a == "identity") return x;
  if (a == "relu") {
    m.see(x);
    return x > 0 ? x : 0;
  }
  if (a == "swish") return x / (1 + std::exp(-x));
  if (a == "sigmoid") return 1 / (1 + std::exp(-x));
  if (a == "gelu")
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  FAIL("unknown activation " << a);
  return 0;
}

// out[o] = sum_i W[o, i] x[i] (W row-major [O, I] starting at W + offset).
inline Vec matvec(const Vec& W, const double* x, int64_t O, int64_t I, int64_t offset = 0) {
  Vec y(O, 0.0);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i) y[o] += W[offset + o * I + i] * x[i];
  return y;
}

struct Pick {
  double score;
  int idx;
};

// Brute-force top-K: sort all candidates by (score desc, index asc).
inline std::vector<Pick> topk_ref(std::vector<Pick> cand, int64_t K, Margin& m) {
  std::stable_sort(cand.begin(), cand.end(), [](const Pick& a, const Pick& b) {
    return a.score > b.score || (a.score == b.score && a.idx < b.idx);
  });
  if (static_cast<int64_t>(cand.size()) > K) m.see(cand[K - 1].score - cand[K].score);
  cand.resize(K);
  return cand;
}

struct SparseDims {
  int64_t D, E, C, K, Kd;
};

// Router reference for one token x[0..D): per channel its K picks (spec §2.2).
// Product routers enumerate all nk*nk = E pairs, so they also check the product trick.
inline std::vector<std::vector<Pick>> route_ref(const std::string& type, const Params& P,
                                                const double* x, const SparseDims& s, Margin& m) {
  const int64_t D = s.D, E = s.E, C = s.C, Kd = s.Kd;
  const int64_t nk = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(E))));
  std::vector<std::vector<Pick>> out(C);
  auto product = [&](const Vec& sub) {  // sub [2, C, nk]
    for (int64_t c = 0; c < C; ++c) {
      std::vector<Pick> cand;
      for (int64_t a = 0; a < nk; ++a)
        for (int64_t b = 0; b < nk; ++b)
          cand.push_back(
              {sub[c * nk + a] + sub[C * nk + c * nk + b], static_cast<int>(a * nk + b)});
      out[c] = topk_ref(cand, s.K, m);
    }
  };
  auto keyed = [&](const Vec& q, const Vec& keys, int64_t G, int64_t M, double scale) {
    Vec sim(G * M, 0.0);  // sim[g, j] = scale * <q[g], keys[g, j]>
    for (int64_t g = 0; g < G; ++g)
      for (int64_t j = 0; j < M; ++j)
        for (int64_t d = 0; d < Kd; ++d)
          sim[g * M + j] += scale * q[g * Kd + d] * keys[(g * M + j) * Kd + d];
    return sim;
  };
  auto plain = [&](const Vec& logits) {  // [C, E]
    for (int64_t c = 0; c < C; ++c) {
      std::vector<Pick> cand;
      for (int64_t j = 0; j < E; ++j) cand.push_back({logits[c * E + j], static_cast<int>(j)});
      out[c] = topk_ref(cand, s.K, m);
    }
  };
  if (type == "product_dense") {
    const Vec q = matvec(P.at("router.w_key.weight"), x, Kd, D);
    product(matvec(P.at("router.w_sub.weight"), q.data(), 2 * C * nk, Kd));
  } else if (type == "product_key_value") {
    const Vec q = matvec(P.at("router.queries.weight"), x, 2 * C * Kd, D);
    product(keyed(q, P.at("router.keys"), 2 * C, nk, 1 / std::sqrt(2.0 * Kd)));
  } else if (type == "key_value") {
    const Vec q = matvec(P.at("router.queries.weight"), x, C * Kd, D);
    plain(keyed(q, P.at("router.keys"), C, E, 1 / std::sqrt(double(Kd))));
  } else if (type == "dense") {
    const Vec q = matvec(P.at("router.w_key.weight"), x, Kd, D);
    plain(matvec(P.at("router.w_experts.weight"), q.data(), C * E, Kd));
  } else {
    FAIL("unknown router " << type);
  }
  return out;
}

inline double dotd(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// sgatlin (spec §2.2): y = sum_c sum_k act(s * <x, w_in[c, i]>) w_out[c, i].
inline Vec sgatlin_ref(const Params& P, const Vec& x, int64_t N, const SparseDims& s,
                       const std::string& router, const std::string& act, Margin& m) {
  const int64_t D = s.D, E = s.E;
  const Vec &win = P.at("experts.w_in"), &wout = P.at("experts.w_out");
  Vec y(N * D, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const auto picks = route_ref(router, P, &x[n * D], s, m);
    for (int64_t c = 0; c < s.C; ++c)
      for (const Pick& p : picks[c]) {
        const int64_t row = (c * E + p.idx) * D;
        const double z = act_ref(act, p.score * dotd(&x[n * D], &win[row], D), m);
        for (int64_t d = 0; d < D; ++d) y[n * D + d] += z * wout[row + d];
      }
  }
  return y;
}

// peer (spec §2.5): y = sum_c sum_k softmax_k(s[c])[k] * gelu(<x, w_in[i]>) w_out[i].
inline Vec peer_ref(const Params& P, const Vec& x, int64_t N, const SparseDims& s, Margin& m) {
  const int64_t D = s.D;
  const Vec &win = P.at("experts.w_in"), &wout = P.at("experts.w_out");
  Vec y(N * D, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const auto picks = route_ref("product_key_value", P, &x[n * D], s, m);
    for (int64_t c = 0; c < s.C; ++c) {
      double total = 0;
      for (const Pick& p : picks[c]) total += std::exp(p.score);
      for (const Pick& p : picks[c]) {
        const int64_t row = p.idx * D;
        const double z =
            std::exp(p.score) / total * act_ref("gelu", dotd(&x[n * D], &win[row], D), m);
        for (int64_t d = 0; d < D; ++d) y[n * D + d] += z * wout[row + d];
      }
    }
  }
  return y;
}

inline Vec mlp_ref(const Params& P, const Vec& x, int64_t N, int64_t D, int64_t F,
                   const std::string& act, Margin& m) {
  Vec y(N * D, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    Vec h = matvec(P.at("w1.weight"), &x[n * D], F, D);
    for (double& v : h) v = act_ref(act, v, m);
    const Vec o = matvec(P.at("w2.weight"), h.data(), D, F);
    for (int64_t d = 0; d < D; ++d) y[n * D + d] = o[d];
  }
  return y;
}

// GPT-OSS GLU (spec §2.3) on one token: W2 glu(W1 x + b1) + b2, weights at the offsets.
inline Vec glu_block_ref(const Vec& w1, const Vec& b1, const Vec& w2, const Vec& b2,
                         const double* x, int64_t D, int64_t F, int64_t e, Margin& m) {
  Vec z = matvec(w1, x, 2 * F, D, e * 2 * F * D);
  Vec h(F);
  for (int64_t f = 0; f < F; ++f) {
    const double graw = z[f] + b1[e * 2 * F + f], lraw = z[F + f] + b1[e * 2 * F + F + f];
    m.see(graw - 7);
    m.see(lraw - 7);
    m.see(lraw + 7);
    m.clamped += (graw > 7) + (std::fabs(lraw) > 7);
    const double g = std::min(graw, 7.0), l = std::clamp(lraw, -7.0, 7.0);
    h[f] = g / (1 + std::exp(-1.702 * g)) * (l + 1);
  }
  Vec o = matvec(w2, h.data(), D, F, e * D * F);
  for (int64_t d = 0; d < D; ++d) o[d] += b2[e * D + d];
  return o;
}

inline Vec swiglu_ref(const Params& P, const Vec& x, int64_t N, int64_t D, int64_t F, Margin& m) {
  Vec y(N * D);
  for (int64_t n = 0; n < N; ++n) {
    const Vec o = glu_block_ref(P.at("w1.weight"), P.at("w1.bias"), P.at("w2.weight"),
                                P.at("w2.bias"), &x[n * D], D, F, 0, m);
    std::copy(o.begin(), o.end(), y.begin() + n * D);
  }
  return y;
}

// moe (spec §2.4): softmax over all E gate logits, top-K experts by logit, unnormalised.
inline Vec moe_ref(const Params& P, const Vec& x, int64_t N, int64_t D, int64_t F, int64_t E,
                   int64_t K, Margin& m) {
  Vec y(N * D, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const Vec g = matvec(P.at("gate.weight"), &x[n * D], E, D);
    double mx = *std::max_element(g.begin(), g.end()), total = 0;
    for (double v : g) total += std::exp(v - mx);
    std::vector<Pick> cand;
    for (int64_t e = 0; e < E; ++e) cand.push_back({g[e], static_cast<int>(e)});
    for (const Pick& p : topk_ref(cand, K, m)) {
      const double w = std::exp(p.score - mx) / total;
      const Vec o = glu_block_ref(P.at("experts.w1.weight"), P.at("experts.w1.bias"),
                                  P.at("experts.w2.weight"), P.at("experts.w2.bias"), &x[n * D], D,
                                  F, p.idx, m);
      for (int64_t d = 0; d < D; ++d) y[n * D + d] += w * o[d];
    }
  }
  return y;
}

using LayerRef = std::function<Vec(const Params&, const Vec& x, Margin&)>;

// Finite differences move scores by ~1e-6; fp32 vs double routing can differ by
// ~1e-6 too. 1e-3 keeps every discrete decision fixed with room to spare.
constexpr double kMinMargin = 1e-3;

struct LayerCheck {
  bool ran = false;  // false: margin too small at this seed, caller reseeds
  int clamped = 0;
};

// Builds cfg under prefix "ffn" with `seed`, draws x in [-x_scale, x_scale], and
// compares forward and all gradients (x and every parameter) of L = sum(y * r) with
// the double reference. Tolerance: see the callers.
inline LayerCheck check_layer(const FfwConfig& cfg, int64_t D, int64_t N, uint32_t seed,
                              double x_scale, const LayerRef& ref, double rtol, double atol) {
  ParamStore ps;
  auto layer = make_feedforward(cfg, D, "ffn", ps, seed);
  Tensor xt = to_tensor({N, D}, random_vec(N * D, seed, -x_scale, x_scale));
  const Vec x = to_double(xt);
  Params P;
  for (const auto& p : ps.all()) P[p.name.substr(4)] = to_double(p.var->value);
  Margin m;
  const Vec y_ref = ref(P, x, m);
  if (m.min < kMinMargin) return {};

  Tape tape;
  VarP xv = make_var(xt, true);
  VarP y = layer->forward(tape, xv);
  check_close(y->value, y_ref, rtol, atol, "forward");
  const Vec r = random_vec(N * D, seed + 1000);
  y->grad_or_zeros();
  for (int64_t i = 0; i < N * D; ++i) y->grad[i] = static_cast<float>(r[i]);
  tape.replay();

  auto loss = [&](const Params& Pp, const Vec& xx) {
    Margin unused;
    const Vec yy = ref(Pp, xx, unused);
    return dotd(yy.data(), r.data(), N * D);
  };
  check_close(xv->grad, fd_grad([&](const Vec& v) { return loss(P, v); }, x), rtol, atol, "dx");
  for (const auto& p : ps.all()) {
    const std::string key = p.name.substr(4);
    const Vec g = fd_grad(
        [&](const Vec& v) {
          Params Q = P;
          Q[key] = v;
          return loss(Q, x);
        },
        P[key]);
    REQUIRE_MESSAGE(p.var->has_grad(), p.name << " received no gradient");
    check_close(p.var->grad, g, rtol, atol, p.name.c_str());
  }
  return {true, m.clamped};
}

// Retries check_layer over seeds until one is away from every tie; fails if none is.
inline LayerCheck check_layer_reseeding(const FfwConfig& cfg, int64_t D, int64_t N, double x_scale,
                                        const LayerRef& ref, double rtol, double atol) {
  for (uint32_t seed = 1; seed < 50; ++seed) {
    const LayerCheck c = check_layer(cfg, D, N, seed, x_scale, ref, rtol, atol);
    if (c.ran) return c;
  }
  FAIL("no seed in [1, 50) gave a margin >= " << kMinMargin);
  return {};
}

}  // namespace sg::test
