// key_similarity (key_value routers, spec §2.2): forward against a double loop, gradients
// of q and keys against central differences.
#include "ops/key_similarity.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

TEST_CASE("key_similarity: forward matches a double loop, dq and dkeys by differences") {
  const int64_t N = 5, G = 3, M = 7, Kd = 4;
  const float scale = 0.37f;
  const Vec q0 = random_vec(N * G * Kd, 51), k0 = random_vec(G * M * Kd, 52);
  const Vec w = random_vec(N * G * M, 53);
  auto sim_ref = [&](const Vec& q, const Vec& keys) {
    Vec sim(N * G * M);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < G; ++g)
        for (int64_t m = 0; m < M; ++m) {
          double acc = 0;
          for (int64_t d = 0; d < Kd; ++d)
            acc += q[n * G * Kd + g * Kd + d] * keys[(g * M + m) * Kd + d];
          sim[n * G * M + g * M + m] = scale * acc;
        }
    return sim;
  };
  Tape tape;
  VarP q = make_var(to_tensor({N, G * Kd}, q0), true);
  VarP keys = make_var(to_tensor({G, M, Kd}, k0), true);
  VarP sim = key_similarity(tape, q, keys, scale);
  REQUIRE(sim->value.shape() == Shape{N, G * M});
  // fp32 dot products of length 4 of O(1) terms: roundoff ~1e-7.
  check_close(sim->value, sim_ref(q0, k0), 1e-6, 1e-6, "sim");

  sim->grad = to_tensor({N, G * M}, w);
  tape.replay();
  auto loss = [&](const Vec& q, const Vec& keys) {
    const Vec s = sim_ref(q, keys);
    double total = 0;
    for (size_t i = 0; i < s.size(); ++i) total += w[i] * s[i];
    return total;
  };
  // Sums of <= 7 products of O(1) terms in fp32; differences of a bilinear loss in
  // double are exact up to ~1e-9.
  check_close(q->grad, fd_grad([&](const Vec& v) { return loss(v, k0); }, q0), 1e-5, 1e-6, "dq");
  check_close(keys->grad, fd_grad([&](const Vec& v) { return loss(q0, v); }, k0), 1e-5, 1e-6,
              "dkeys");
}

TEST_CASE("key_similarity: leading key dims flatten into groups, shapes are named") {
  // keys [2, 2, M, Kd] act as G = 4 groups, the same as [4, M, Kd].
  const int64_t N = 3, M = 5, Kd = 2;
  const Vec q0 = random_vec(N * 4 * Kd, 54), k0 = random_vec(4 * M * Kd, 55);
  Tape tape;
  const Tensor a = key_similarity(tape, make_var(to_tensor({N, 4 * Kd}, q0)),
                                  make_var(to_tensor({2, 2, M, Kd}, k0)), 1.0f)
                       ->value;
  const Tensor b = key_similarity(tape, make_var(to_tensor({N, 4 * Kd}, q0)),
                                  make_var(to_tensor({4, M, Kd}, k0)), 1.0f)
                       ->value;
  check_close(a, to_double(b), 0, 0, "sim");
  CHECK_THROWS_AS(key_similarity(tape, make_var(Tensor::zeros({N, 3})),
                                 make_var(Tensor::zeros({4, M, Kd})), 1.0f),
                  Error);
  CHECK_THROWS_WITH_AS(
      key_similarity(tape, make_var(Tensor::zeros({N, 2})), make_var(Tensor::zeros({M, Kd})), 1.0f),
      "key_similarity: keys have shape [5, 2], expected [..., M, Kd]", Error);
}
