// Routing override (causal patching): replaced rows take the given decisions and pass no
// gradient; kept rows pass theirs through, added onto gradient already present.
#include "ops/routing_override.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;
using Vec = std::vector<double>;

TEST_CASE("override_routing_rows: replaced rows by hand, gradient only through kept rows") {
  const int64_t N = 4, C = 2, K = 3, CK = C * K;
  const Vec s0 = random_vec(N * CK, 61), r0 = random_vec(2 * CK, 62), dy = random_vec(N * CK, 63);
  const Vec g0 = random_vec(N * CK, 64);
  Tape tape;
  VarP scores = make_var(to_tensor({N, C, K}, s0), true);
  scores->grad = to_tensor({N, C, K}, g0);  // gradient that arrived earlier
  IntTensor idx = IntTensor::empty({N, C, K});
  for (int64_t i = 0; i < idx.numel(); ++i) idx[i] = static_cast<int32_t>(i);
  const IntTensor before = idx;
  IntTensor ridx = IntTensor::empty({2, C, K});
  for (int64_t i = 0; i < ridx.numel(); ++i) ridx[i] = static_cast<int32_t>(100 + i);
  const std::vector<int64_t> rows = {2, 0};
  VarP out = override_routing_rows(tape, scores, idx, rows, ridx, to_tensor({2, C, K}, r0), "ffn");

  // Row 2 from override row 0, row 0 from override row 1; rows 1 and 3 untouched.
  const int64_t src[N] = {1, -1, 0, -1};
  Vec want_s(N * CK), want_g(N * CK);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < CK; ++j) {
      const int64_t i = n * CK + j;
      want_s[i] = src[n] < 0 ? static_cast<float>(s0[i]) : static_cast<float>(r0[src[n] * CK + j]);
      CHECK(idx[i] == (src[n] < 0 ? i : 100 + src[n] * CK + j));
      want_g[i] = static_cast<float>(g0[i]) + (src[n] < 0 ? static_cast<float>(dy[i]) : 0.0);
    }
  check_close(out->value, want_s, 0, 0, "scores");
  // The router's own idx buffer is left alone (its backward still reads it).
  CHECK(before[2 * CK] == 2 * CK);
  CHECK(before.data() != idx.data());

  out->grad = to_tensor({N, C, K}, dy);
  tape.replay();
  // One fp32 addition of O(1) values: error <= 2.4e-7.
  check_close(scores->grad, want_g, 0, 3e-7, "dscores");
}

TEST_CASE("override_routing_rows: rows and shapes out of range are named") {
  Tape tape;
  VarP scores = make_var(Tensor::zeros({3, 1, 2}));
  IntTensor idx = IntTensor::empty({3, 1, 2});
  CHECK_THROWS_WITH_AS(override_routing_rows(tape, scores, idx, {3}, IntTensor::empty({1, 1, 2}),
                                             Tensor::zeros({1, 1, 2}), "layer 0"),
                       "layer 0: routing override row 3 outside [0, 3)", Error);
  CHECK_THROWS_WITH_AS(override_routing_rows(tape, scores, idx, {0}, IntTensor::empty({1, 1, 3}),
                                             Tensor::zeros({1, 1, 3}), "layer 0"),
                       "layer 0: routing override has idx [1, 1, 3] and scores [1, 1, 3], "
                       "expected [1, 1, 2]",
                       Error);
}
