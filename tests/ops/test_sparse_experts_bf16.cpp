// The bf16 path of the gathered-row expert op (the fp32 path: test_sparse_experts.cpp and
// the sgatlin and peer layers in tests/nn/test_sgatlin.cpp).
#include "ops/sparse_experts.h"

#include <random>

#include "bf16_bound.h"
#include "ops/linear.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

using Vec = std::vector<double>;

struct Problem {
  int64_t N = 23, D = 70, C = 3, K = 4, E = 13;
  Vec x, s, win, wout, dy;
  IntTensor idx;
  Problem()
      : x(random_vec(N * D, 1)),
        s(random_vec(N * C * K, 2)),
        win(random_vec(C * E * D, 3)),
        wout(random_vec(C * E * D, 4)),
        dy(random_vec(N * D, 5)),
        idx(IntTensor::empty({N, C, K})) {
    std::mt19937 gen(6);  // rows repeat across tokens, so row updates accumulate
    for (int64_t i = 0; i < idx.numel(); ++i) idx[i] = static_cast<int32_t>(gen() % E);
  }
};

struct Grads {
  Vec y, dx, ds, dwin, dwout;
};

// sgatlin with identity activation in double: multilinear in (x, s, w_in, w_out, dy), so
// with absolute values of the inputs it gives sum |terms| per output (bf16_bound.h).
Grads reference(const Problem& p, bool absolute) {
  auto f = [&](const Vec& v) {
    Vec out = v;
    if (absolute)
      for (double& a : out) a = std::fabs(a);
    return out;
  };
  const Vec x = f(p.x), s = f(p.s), win = f(p.win), wout = f(p.wout), dy = f(p.dy);
  const int64_t D = p.D;
  Grads g{Vec(p.N * D), Vec(p.N * D), Vec(p.N * p.C * p.K), Vec(win.size()), Vec(wout.size())};
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t c = 0; c < p.C; ++c)
      for (int64_t k = 0; k < p.K; ++k) {
        const int64_t e = (n * p.C + c) * p.K + k, r = c * p.E + p.idx[e];
        double h = 0, dz = 0;
        for (int64_t d = 0; d < D; ++d) {
          h += x[n * D + d] * win[r * D + d];
          dz += dy[n * D + d] * wout[r * D + d];
        }
        const double z = s[e] * h, dh = dz * s[e];
        g.ds[e] = dz * h;
        for (int64_t d = 0; d < D; ++d) {
          g.y[n * D + d] += z * wout[r * D + d];
          g.dx[n * D + d] += dh * win[r * D + d];
          g.dwin[r * D + d] += dh * x[n * D + d];
          g.dwout[r * D + d] += z * dy[n * D + d];
        }
      }
  return g;
}

std::vector<Tensor> run(const Problem& p, MatmulPrecision prec, ExpertGate gate, Activation act) {
  const MatmulPrecisionScope scope(prec);
  VarP x = make_var(to_tensor({p.N, p.D}, p.x), true);
  VarP s = make_var(to_tensor({p.N, p.C, p.K}, p.s), true);
  VarP win = make_var(to_tensor({p.C, p.E, p.D}, p.win), true);
  VarP wout = make_var(to_tensor({p.C, p.E, p.D}, p.wout), true);
  Tape tape;
  VarP y = sparse_experts(tape, x, s, p.idx, win, wout, act, gate);
  y->grad = to_tensor({p.N, p.D}, p.dy);
  tape.replay();
  return {y->value, x->grad, s->grad, win->grad, wout->grad};
}

}  // namespace

TEST_CASE("sparse_experts bf16: forward and gradients within the bf16 bound of the exact values") {
  const Problem p;
  const std::vector<Tensor> got =
      run(p, MatmulPrecision::bf16, ExpertGate::pre_activation, Activation::identity);
  const Grads exact = reference(p, false), abs = reference(p, true);
  // Rounded factors per term (bf16_bound.h): y = s<x,w_in> w_out: x, w_in, z, w_out -> 4;
  // dx = (s<dy,w_out>) w_in: dy, w_out, dh, w_in -> 4; dw_in = dh x -> 4; dw_out = z dy
  // -> 4; ds = <dy,w_out><x,w_in>: 4. The longest fp32 chain: a D-term dot, then the
  // C*K entries of a token or the N*C*K entries a row may collect.
  const double rel = bf16_chain_rel(4, p.D + p.N * p.C * p.K);
  const Vec* want[] = {&exact.y, &exact.dx, &exact.ds, &exact.dwin, &exact.dwout};
  const Vec* bound[] = {&abs.y, &abs.dx, &abs.ds, &abs.dwin, &abs.dwout};
  const char* names[] = {"y", "dx", "ds", "dwin", "dwout"};
  for (int i = 0; i < 5; ++i) {
    CAPTURE(names[i]);
    REQUIRE(static_cast<size_t>(got[i].numel()) == want[i]->size());
    size_t bad = 0;
    for (size_t j = 0; j < want[i]->size(); ++j)
      bad += !(std::fabs(got[i][j] - (*want[i])[j]) <= rel * (*bound[i])[j]);
    CHECK(bad == 0);
  }
  // The bound is ~60x looser than fp32's; make sure the bf16 path actually ran: its
  // output differs from the fp32 op's by more than fp32 summation could explain.
  const std::vector<Tensor> fp32 =
      run(p, MatmulPrecision::fp32, ExpertGate::pre_activation, Activation::identity);
  double worst = 0;
  const double fp32_rel = (p.D + p.C * p.K + 2) * std::ldexp(1.0, -24);
  for (int64_t j = 0; j < got[0].numel(); ++j)
    worst = std::max(worst, std::fabs(got[0][j] - fp32[0][j]) / (fp32_rel * abs.y[j]));
  CHECK(worst > 10);
}

TEST_CASE("sparse_experts bf16: bit-identical run to run, sgatlin and peer gates") {
  const Problem p;
  for (ExpertGate gate : {ExpertGate::pre_activation, ExpertGate::softmax_post_activation}) {
    const auto a = run(p, MatmulPrecision::bf16, gate, Activation::gelu);
    const auto b = run(p, MatmulPrecision::bf16, gate, Activation::gelu);
    for (size_t i = 0; i < a.size(); ++i)
      CHECK(std::equal(a[i].data(), a[i].data() + a[i].numel(), b[i].data()));
  }
}
