#include "ops/linear.h"

#include <omp.h>

#include <cstring>
#include <tuple>

#include "test_util.h"

using namespace sg;
using namespace sg::test;

// Loss L = sum(y * r) with y = x W^T, evaluated in double: the independent reference.
static double linear_loss(const std::vector<double>& x, const std::vector<double>& w,
                          const std::vector<double>& r, int64_t N, int64_t I, int64_t O) {
  double loss = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      double y = 0;
      for (int64_t i = 0; i < I; ++i) y += x[n * I + i] * w[o * I + i];
      loss += y * r[n * O + o];
    }
  return loss;
}

TEST_CASE("linear: forward and backward match a double-precision reference") {
  const int64_t B = 2, T = 7, I = 13, O = 11, N = B * T;
  Tape tape;
  VarP x = make_var(to_tensor({B, T, I}, random_vec(N * I, 1)), true);
  VarP w = make_var(to_tensor({O, I}, random_vec(O * I, 2)), true);
  const auto r = random_vec(N * O, 3);
  VarP y = linear(tape, x, w);
  CHECK(y->value.shape() == Shape{B, T, O});

  y->grad_or_zeros();
  for (int64_t i = 0; i < N * O; ++i) y->grad[i] = static_cast<float>(r[i]);
  tape.replay();

  const auto xd = to_double(x->value), wd = to_double(w->value);
  // fp32 dot products of length <= 14 with |terms| <= 1: rounding stays below 1e-5.
  const auto gx = fd_grad([&](const auto& v) { return linear_loss(v, wd, r, N, I, O); }, xd);
  const auto gw = fd_grad([&](const auto& v) { return linear_loss(xd, v, r, N, I, O); }, wd);
  check_close(x->grad, gx, 1e-5, 1e-5, "dx");
  check_close(w->grad, gw, 1e-5, 1e-5, "dw");
}

TEST_CASE("linear: shape mismatch names the op and both shapes") {
  Tape tape;
  VarP x = make_var(Tensor::zeros({3, 5}));
  VarP w = make_var(Tensor::zeros({4, 6}));
  CHECK_THROWS_WITH_AS(linear(tape, x, w),
                       "linear: x has shape [3, 5], expected [..., 6] to match weight [4, 6]",
                       Error);
}

// ---- oneDNN paths: odd sizes, accumulation, bf16, determinism ----

namespace {

// bf16 round-to-nearest-even computed independently of bf16.h: keep 8 significant bits
// (nearbyint rounds half to even in the default rounding mode).
double round_bf16(double v) {
  if (v == 0) return 0;
  int e;
  const double m = std::frexp(v, &e);  // v = m 2^e, 0.5 <= |m| < 1
  return std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8);
}

std::vector<double> rounded(std::vector<double> v) {
  for (auto& x : v) x = round_bf16(x);
  return v;
}

// C_MxN = sum_k a(m,k) b(k,n) in double, plus the bound sum_k |a(m,k) b(k,n)| every
// rounding error analysis of the sum scales with.
struct Ref {
  std::vector<double> value, abs_sum;
};
Ref ref_matmul(int64_t M, int64_t K, int64_t N, const std::function<double(int64_t, int64_t)>& a,
               const std::function<double(int64_t, int64_t)>& b) {
  Ref r{std::vector<double>(M * N), std::vector<double>(M * N)};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const double p = a(m, k) * b(k, n);
        r.value[m * N + n] += p;
        r.abs_sum[m * N + n] += std::fabs(p);
      }
  return r;
}

// |got - (base + ref)| <= rel * (abs_sum + |base|) per element.
void check_bound(const Tensor& got, const std::vector<double>& base, const Ref& ref, double rel,
                 const char* what) {
  REQUIRE(static_cast<size_t>(got.numel()) == ref.value.size());
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < ref.value.size(); ++i) {
    const double b = base.empty() ? 0.0 : base[i];
    const double err = std::fabs(got[static_cast<int64_t>(i)] - (b + ref.value[i]));
    const double tol = rel * (ref.abs_sum[i] + std::fabs(b));
    worst = std::max(worst, err / tol);
    bad += !(err <= tol);
  }
  CHECK_MESSAGE(bad == 0, std::string(what)
                              << ": " << bad << " elements outside the bound, worst err/tol "
                              << worst);
}

struct LinearRun {
  Tensor y, dx, dw;
};

// y = linear(x, w); seeds dy; grads start at dx0, dw0 so accumulation (+=) is visible.
LinearRun run_linear(int64_t N, int64_t I, int64_t O, const std::vector<double>& x,
                     const std::vector<double>& w, const std::vector<double>& dy,
                     const std::vector<double>& dx0, const std::vector<double>& dw0) {
  Tape tape;
  VarP xv = make_var(to_tensor({N, I}, x), true), wv = make_var(to_tensor({O, I}, w), true);
  xv->grad = to_tensor({N, I}, dx0);
  wv->grad = to_tensor({O, I}, dw0);
  VarP y = linear(tape, xv, wv);
  y->grad = to_tensor({N, O}, dy);
  tape.replay();
  return {y->value, xv->grad, wv->grad};
}

struct Problem {
  int64_t N, I, O;
  std::vector<double> x, w, dy, dx0, dw0;
  Problem(int64_t N_, int64_t I_, int64_t O_, uint32_t seed)
      : N(N_),
        I(I_),
        O(O_),
        x(random_vec(N * I, seed)),
        w(random_vec(O * I, seed + 1)),
        dy(random_vec(N * O, seed + 2)),
        dx0(random_vec(N * I, seed + 3)),
        dw0(random_vec(O * I, seed + 4)) {}
  // y = x w^T, dx = dy w, dw = dy^T x on the given operands.
  Ref y_ref(const std::vector<double>& xs, const std::vector<double>& ws) const {
    return ref_matmul(
        N, I, O, [&](auto n, auto i) { return xs[n * I + i]; },
        [&](auto i, auto o) { return ws[o * I + i]; });
  }
  Ref dx_ref(const std::vector<double>& dys, const std::vector<double>& ws) const {
    return ref_matmul(
        N, O, I, [&](auto n, auto o) { return dys[n * O + o]; },
        [&](auto o, auto i) { return ws[o * I + i]; });
  }
  Ref dw_ref(const std::vector<double>& dys, const std::vector<double>& xs) const {
    return ref_matmul(
        O, N, I, [&](auto o, auto n) { return dys[n * O + o]; },
        [&](auto n, auto i) { return xs[n * I + i]; });
  }
};

// fp32 summation of K terms: |error| <= K u (sum |terms|) with u = 2^-24, plus one rounding
// of the accumulated grad (the += onto the previous value); (K + 2) u covers both.
double fp32_rel(int64_t K) { return (K + 2) * std::ldexp(1.0, -24); }

}  // namespace

TEST_CASE("linear: fp32 oneDNN paths on odd sizes accumulate into existing grads") {
  // Sizes that are not multiples of any SIMD width or block, from tiny to a few blocks.
  // Both thread counts: primitives are cached per thread count and partition differently.
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2})
    for (auto [N, I, O] :
         {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {37, 65, 19}, {130, 257, 67}}) {
      CAPTURE(threads);
      CAPTURE(N);
      CAPTURE(I);
      CAPTURE(O);
      omp_set_num_threads(threads);
      const Problem p(N, I, O, 10);
      const LinearRun r = run_linear(N, I, O, p.x, p.w, p.dy, p.dx0, p.dw0);
      check_bound(r.y, {}, p.y_ref(p.x, p.w), fp32_rel(I), "y");
      check_bound(r.dx, p.dx0, p.dx_ref(p.dy, p.w), fp32_rel(O), "dx");
      check_bound(r.dw, p.dw0, p.dw_ref(p.dy, p.x), fp32_rel(N), "dw");
    }
  omp_set_num_threads(saved);
}

TEST_CASE("linear: bf16 mode rounds inputs to bf16 and accumulates in fp32") {
  const MatmulPrecisionScope scope(MatmulPrecision::bf16);
  const Problem p(37, 65, 19, 20);
  const LinearRun r = run_linear(p.N, p.I, p.O, p.x, p.w, p.dy, p.dx0, p.dw0);
  // Against the exact result: each operand is off by at most u = 2^-9 relative (8-bit
  // significand, round to nearest), so each product by (1+u)^2 - 1 <= 2^-8 + 2^-18, on top
  // of the fp32 summation bound.
  const double bf16_rel = std::ldexp(1.0, -8) + std::ldexp(1.0, -18);
  check_bound(r.y, {}, p.y_ref(p.x, p.w), bf16_rel + fp32_rel(p.I), "y vs exact");
  check_bound(r.dx, p.dx0, p.dx_ref(p.dy, p.w), bf16_rel + fp32_rel(p.O), "dx vs exact");
  check_bound(r.dw, p.dw0, p.dw_ref(p.dy, p.x), bf16_rel + fp32_rel(p.N), "dw vs exact");
  // Against the exact result on bf16-rounded operands: products of two 8-bit significands
  // are exact in fp32, so only the fp32 summation error remains. This fails by ~1e-3 if the
  // inputs were not rounded, and by more if the accumulation were done in bf16.
  const auto xb = rounded(p.x), wb = rounded(p.w), dyb = rounded(p.dy);
  check_bound(r.y, {}, p.y_ref(xb, wb), fp32_rel(p.I), "y vs rounded");
  check_bound(r.dx, p.dx0, p.dx_ref(dyb, wb), fp32_rel(p.O), "dx vs rounded");
  check_bound(r.dw, p.dw0, p.dw_ref(dyb, xb), fp32_rel(p.N), "dw vs rounded");
}

TEST_CASE("linear: results are bit-identical run to run (fp32 and bf16)") {
  const Problem p(130, 257, 67, 30);
  for (MatmulPrecision prec : {MatmulPrecision::fp32, MatmulPrecision::bf16}) {
    const MatmulPrecisionScope scope(prec);
    const LinearRun a = run_linear(p.N, p.I, p.O, p.x, p.w, p.dy, p.dx0, p.dw0);
    for (int rep = 0; rep < 3; ++rep) {
      const LinearRun b = run_linear(p.N, p.I, p.O, p.x, p.w, p.dy, p.dx0, p.dw0);
      CHECK(std::memcmp(a.y.data(), b.y.data(), sizeof(float) * a.y.numel()) == 0);
      CHECK(std::memcmp(a.dx.data(), b.dx.data(), sizeof(float) * a.dx.numel()) == 0);
      CHECK(std::memcmp(a.dw.data(), b.dw.data(), sizeof(float) * a.dw.numel()) == 0);
    }
  }
}

TEST_CASE("linear: grads only for inputs that require them, empty inner dim gives zeros") {
  Tape tape;
  VarP x = make_var(to_tensor({3, 5}, random_vec(15, 40)), false);
  VarP w = make_var(to_tensor({4, 5}, random_vec(20, 41)), true);
  VarP y = linear(tape, x, w);
  y->grad = Tensor::full({3, 4}, 1.0f);
  tape.replay();
  CHECK_FALSE(x->has_grad());
  CHECK(w->has_grad());

  VarP x0 = make_var(Tensor::zeros({3, 0})), w0 = make_var(Tensor::zeros({4, 0}));
  VarP y0 = linear(tape, x0, w0);
  CHECK(y0->value.shape() == Shape{3, 4});
  for (int64_t i = 0; i < 12; ++i) CHECK(y0->value[i] == 0.0f);
}

TEST_CASE("linear: backward runs in the precision of its forward") {
  const Problem p(37, 65, 19, 50);
  Tape tape;
  VarP x = make_var(to_tensor({p.N, p.I}, p.x), true),
       w = make_var(to_tensor({p.O, p.I}, p.w), true);
  VarP y;
  {
    const MatmulPrecisionScope fp32(MatmulPrecision::fp32);  // e.g. the logits of a bf16 model
    y = linear(tape, x, w);
  }
  y->grad = to_tensor({p.N, p.O}, p.dy);
  {
    const MatmulPrecisionScope bf16(MatmulPrecision::bf16);
    tape.replay();
  }
  // The fp32 bound is ~500x tighter than bf16 rounding (2^-8): a bf16 backward fails it.
  check_bound(x->grad, {}, p.dx_ref(p.dy, p.w), fp32_rel(p.O), "dx");
  check_bound(w->grad, {}, p.dw_ref(p.dy, p.x), fp32_rel(p.N), "dw");
}

TEST_CASE("linear: bf16 weights are repacked after a marked change, and per Var") {
  // The bf16 forward reads a packed copy of the weight kept between calls; it must follow
  // a change of the weight (marked, as the optimizer does) and never serve another Var.
  const MatmulPrecisionScope scope(MatmulPrecision::bf16);
  const int64_t N = 40, I = 24, O = 16;
  VarP x = make_var(to_tensor({N, I}, random_vec(N * I, 60)));
  VarP w = make_var(to_tensor({O, I}, random_vec(O * I, 61)));
  Tape tape;
  tape.set_recording(false);
  auto y_of = [&](const VarP& weight) { return linear(tape, x, weight)->value.clone(); };
  const Tensor before = y_of(w);
  CHECK(std::equal(before.data(), before.data() + before.numel(), y_of(w).data()));
  for (int64_t i = 0; i < w->value.numel(); ++i) w->value[i] *= -2.0f;  // exact in bf16 too
  w->mark_changed();
  const Tensor after = y_of(w);
  for (int64_t i = 0; i < before.numel(); ++i) CHECK(after[i] == -2.0f * before[i]);
  VarP w2 = make_var(to_tensor({O, I}, random_vec(O * I, 62)));
  const Tensor other = y_of(w2);
  size_t same = 0;
  for (int64_t i = 0; i < other.numel(); ++i) same += other[i] == after[i];
  CHECK(same < static_cast<size_t>(other.numel()) / 10);
}
