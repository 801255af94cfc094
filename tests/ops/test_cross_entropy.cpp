#include "ops/cross_entropy.h"

#include <algorithm>

#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// Per-position loss in double (max-subtracted logsumexp), 0 at pad positions.
std::vector<double> ce_ref(const std::vector<double>& x, const std::vector<int32_t>& tgt, int64_t V,
                           int32_t pad) {
  std::vector<double> loss(tgt.size(), 0.0);
  for (size_t n = 0; n < tgt.size(); ++n) {
    if (tgt[n] == pad) continue;
    const double* row = &x[n * V];
    const double m = *std::max_element(row, row + V);
    double z = 0;
    for (int64_t i = 0; i < V; ++i) z += std::exp(row[i] - m);
    loss[n] = m + std::log(z) - row[tgt[n]];
  }
  return loss;
}

double mean_ref(const std::vector<double>& x, const std::vector<int32_t>& tgt, int64_t V,
                int32_t pad) {
  const auto l = ce_ref(x, tgt, V, pad);
  double s = 0;
  int64_t n = 0;
  for (size_t i = 0; i < tgt.size(); ++i)
    if (tgt[i] != pad) s += l[i], ++n;
  return s / n;
}

IntTensor int_tensor(const std::vector<int32_t>& v) {
  IntTensor t = IntTensor::empty({static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = v[i];
  return t;
}

}  // namespace

TEST_CASE("cross_entropy: loss, accuracy, per-position loss and grad with pad positions") {
  const int64_t B = 2, T = 7, V = 37, N = B * T;
  const int32_t pad = 3;
  std::vector<int32_t> tgt(N);
  std::mt19937 gen(5);
  for (auto& t : tgt) t = static_cast<int32_t>(gen() % V);
  tgt[2] = tgt[9] = tgt[13] = pad;  // three pad positions (plus any drawn by chance)
  auto xv = random_vec(N * V, 6, -3, 3);
  // Make some rows predict their target, one of them through a tie with a higher index.
  xv[0 * V + tgt[0]] = 10;
  xv[4 * V + tgt[4]] = 10;
  if (tgt[4] + 1 < V) xv[4 * V + tgt[4] + 1] = 10;

  Tape tape;
  VarP x = make_var(to_tensor({B, T, V}, xv), true);
  const auto g0 = random_vec(N * V, 7);
  x->grad = to_tensor({B, T, V}, g0);
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor(tgt), pad);

  const auto xd = to_double(x->value);
  int64_t n_valid = 0, correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (tgt[n] == pad) continue;
    ++n_valid;
    int64_t arg = 0;
    for (int64_t i = 0; i < V; ++i)
      if (xd[n * V + i] > xd[n * V + arg]) arg = i;
    correct += arg == tgt[n];
  }
  CHECK(res.n_valid == n_valid);
  CHECK(correct >= 2);  // rows 0 and 4 are correct by construction
  CHECK(res.accuracy == doctest::Approx(static_cast<double>(correct) / n_valid).epsilon(1e-12));
  // Per-row logsumexp in double over fp32 logits of |x| <= 10: only the fp32 rounding of
  // the stored loss (~1e-6 relative) remains.
  check_close(res.loss_N, ce_ref(xd, tgt, V, pad), 1e-6, 1e-6, "loss_N");
  check_close(res.loss->value, {mean_ref(xd, tgt, V, pad)}, 1e-6, 0, "loss");

  tape.backward(res.loss);
  auto g = fd_grad([&](const auto& v) { return mean_ref(v, tgt, V, pad); }, xd);
  for (size_t i = 0; i < g.size(); ++i) g[i] += static_cast<float>(g0[i]);  // accumulates
  // Gradient entries are (p - onehot) / n_valid, O(0.1); fp32 exp and products: ~1e-7.
  check_close(x->grad, g, 1e-5, 1e-6, "dlogits");
  for (int64_t i = 0; i < V; ++i) CHECK(x->grad[2 * V + i] == static_cast<float>(g0[2 * V + i]));
}

TEST_CASE("cross_entropy: vocabulary spanning several summation blocks") {
  const int64_t N = 3, V = 601;  // 256-wide fp32 blocks: two full ones and a partial one
  const std::vector<int32_t> tgt = {0, 600, 300};
  Tape tape;
  VarP x = make_var(to_tensor({N, V}, random_vec(N * V, 11, -4, 4)), true);
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor(tgt), -1);
  const auto xd = to_double(x->value);
  // Blocks of <= 256 terms in (0, 1] summed in fp32 (16 lanes of <= 16 terms): the
  // logsumexp is off by ~1e-7 relative; loss values are O(5).
  check_close(res.loss_N, ce_ref(xd, tgt, V, -1), 1e-6, 1e-6, "loss_N");
  tape.backward(res.loss);
  const auto g = fd_grad([&](const auto& v) { return mean_ref(v, tgt, V, -1); }, xd);
  check_close(x->grad, g, 1e-5, 1e-7, "dlogits");  // entries ~1/(N V); fp32 exp ~1e-7 rel
}

TEST_CASE("cross_entropy: accuracy breaks argmax ties toward the lower index") {
  Tape tape;
  VarP x = make_var(Tensor::from({2, 4}, {1, 5, 5, 2, 1, 5, 5, 2}));
  // Row 0 targets 1 (the lower of the tied maxima): correct; row 1 targets 2: wrong.
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor({1, 2}), -1);
  CHECK(res.accuracy == 0.5);
}

TEST_CASE("cross_entropy: large logits stay finite (hand-derived)") {
  Tape tape;
  VarP x = make_var(Tensor::from({1, 3}, {1000, 1001, 999}));
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor({1}), -1);
  // loss = log(e^-1 + 1 + e^-2); fp32 result of an O(1) value: 1e-6 relative.
  check_close(res.loss->value, {std::log(std::exp(-1.0) + 1 + std::exp(-2.0))}, 1e-6, 0, "loss");
}

TEST_CASE("cross_entropy: all-pad input is a defined zero result with no gradient") {
  Tape tape;
  VarP x = make_var(to_tensor({3, 5}, random_vec(15, 8)), true);
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor({0, 0, 0}), 0);
  CHECK(res.n_valid == 0);
  CHECK(res.accuracy == 0);
  CHECK(res.loss->value[0] == 0);
  tape.backward(res.loss);
  CHECK(!x->has_grad());
}

TEST_CASE("cross_entropy: bad targets and shapes are reported") {
  Tape tape;
  VarP x = make_var(Tensor::zeros({2, 5}));
  CHECK_THROWS_WITH_AS(cross_entropy(tape, x, int_tensor({1, 5}), -1),
                       "cross_entropy: target 5 at position 1 is outside the vocabulary [0, 5) "
                       "and is not the pad id -1",
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(tape, x, int_tensor({1, 2, 3}), -1),
                       "cross_entropy: targets have shape [3], expected 2 positions to match "
                       "logits [2, 5]",
                       Error);
}

TEST_CASE("cross_entropy: backward into a fresh buffer writes every row, pad rows 0") {
  const int64_t N = 4, V = 29;
  const int32_t pad = 5;
  const std::vector<int32_t> tgt = {7, pad, 0, 28};
  Tape tape;
  VarP x = make_var(to_tensor({N, V}, random_vec(N * V, 13, -3, 3)), true);
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor(tgt), pad);
  tape.backward(res.loss);
  const auto xd = to_double(x->value);
  const auto g = fd_grad([&](const auto& v) { return mean_ref(v, tgt, V, pad); }, xd);
  // Entries (p - onehot) / 3 of O(0.1); fp32 exp and products: ~1e-7. The pad row's
  // finite-difference gradient is exactly 0.
  check_close(x->grad, g, 1e-5, 1e-6, "dlogits");
  for (int64_t i = 0; i < V; ++i) CHECK(x->grad[V + i] == 0.0f);
}

TEST_CASE("cross_entropy: a fresh gradient buffer reused from the block cache is fully written") {
  // 4 x 65536 floats = 1 MiB: the buffer comes from the block cache, which here holds a
  // NaN-filled block of that size, so any element backward skipped would stay NaN.
  const int64_t N = 4, V = 65536;
  const int32_t pad = 0;
  const std::vector<int32_t> tgt = {17, pad, 65535, 4096};
  { Tensor poison = Tensor::full({N, V}, NAN); }
  Tape tape;
  VarP x = make_var(to_tensor({N, V}, random_vec(N * V, 31, -2, 2)), true);
  CrossEntropyResult res = cross_entropy(tape, x, int_tensor(tgt), pad);
  tape.backward(res.loss);
  // d mean / d x = (softmax(x_n) - onehot(t_n)) / n_valid per non-pad row, in double.
  const auto xd = to_double(x->value);
  std::vector<double> want(N * V, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    if (tgt[n] == pad) continue;
    const double* row = &xd[n * V];
    const double m = *std::max_element(row, row + V);
    double z = 0;
    for (int64_t i = 0; i < V; ++i) z += std::exp(row[i] - m);
    for (int64_t i = 0; i < V; ++i) want[n * V + i] = std::exp(row[i] - m) / z / 3;
    want[n * V + tgt[n]] -= 1.0 / 3;
  }
  // Entries ~1e-5 (softmax over 65536) and one ~-0.33 per row; fp32 exp: ~1e-7 relative.
  check_close(x->grad, want, 1e-5, 1e-9, "dlogits");
  int64_t pad_nonzero = 0;
  for (int64_t i = 0; i < V; ++i) pad_nonzero += !(x->grad[V + i] == 0.0f);
  CHECK(pad_nonzero == 0);
}
