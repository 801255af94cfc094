#include "ops/embedding.h"

#include <omp.h>

#include <cstring>

#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// ids [B, T] with values in [0, V); id 5 appears four times, id V-1 once.
IntTensor make_ids(int64_t B, int64_t T, int64_t V) {
  IntTensor ids = IntTensor::empty({B, T});
  for (int64_t i = 0; i < B * T; ++i) ids[i] = static_cast<int32_t>((i * 7 + 3) % V);
  ids[1] = ids[4] = ids[9] = ids[13] = 5;  // one id used four times
  ids[0] = V - 1;                          // the last row is reachable
  return ids;
}

struct Run {
  Tensor out, dE;
};

// Forward, then backward with out grad r onto a table grad that starts at dE0.
Run run_embedding(const IntTensor& ids, const std::vector<double>& E, const std::vector<double>& r,
                  const std::vector<double>& dE0, int64_t V, int64_t D) {
  Tape tape;
  VarP table = make_var(to_tensor({V, D}, E), true);
  table->grad = to_tensor({V, D}, dE0);
  VarP out = embedding(tape, ids, table);
  out->grad = to_tensor(out->value.shape(), r);
  tape.replay();
  return {out->value, table->grad};
}

}  // namespace

TEST_CASE("embedding: gather and scatter-add with repeated ids match a double reference") {
  // D = 45 spans three 16-float lines, so with 2 threads both threads own columns.
  const int64_t B = 2, T = 7, V = 37, D = 45, N = B * T;
  const IntTensor ids = make_ids(B, T, V);
  const auto E = random_vec(V * D, 1), r = random_vec(N * D, 2), dE0 = random_vec(V * D, 3);
  const Run run = run_embedding(ids, E, r, dE0, V, D);
  CHECK(run.out.shape() == Shape{B, T, D});

  std::vector<double> want_out(N * D), want_dE = dE0, abs_dE(V * D);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      want_out[n * D + d] = E[ids[n] * D + d];
      want_dE[ids[n] * D + d] += r[n * D + d];
      abs_dE[ids[n] * D + d] += std::fabs(r[n * D + d]);
    }
  // The gather copies the fp32 table: exactly the float-rounded values.
  for (auto& v : want_out) {
    volatile float f = static_cast<float>(v);  // volatile: see as_float in test_elementwise.cpp
    v = f;
  }
  check_close(run.out, want_out, 0, 0, "out");
  // The op sees inputs rounded to float (<= 5 terms of size <= 1, each off by <= 6e-8) and
  // adds at most 4 grads in fp32 with running sums <= 5 (each rounding <= 5 * 2^-24 = 3e-7):
  // at most 1.5e-6 in total, so 4e-6 absolute is safe yet far below a wrong or lost term.
  check_close(run.dE, want_dE, 0, 4e-6, "dE");
}

TEST_CASE("embedding: backward is bit-identical with 1 and 2 threads") {
  const int64_t B = 3, T = 11, V = 37, D = 45;
  const IntTensor ids = make_ids(B, T, V);
  const auto E = random_vec(V * D, 4), r = random_vec(B * T * D, 5), dE0 = random_vec(V * D, 6);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Run one = run_embedding(ids, E, r, dE0, V, D);
  omp_set_num_threads(2);
  const Run two = run_embedding(ids, E, r, dE0, V, D);
  omp_set_num_threads(saved);
  CHECK(std::memcmp(one.dE.data(), two.dE.data(), sizeof(float) * V * D) == 0);
  CHECK(std::memcmp(one.out.data(), two.out.data(), sizeof(float) * B * T * D) == 0);
}

TEST_CASE("embedding: out-of-range ids name the id, its position and V") {
  Tape tape;
  VarP table = make_var(Tensor::zeros({37, 4}), true);
  IntTensor ids = IntTensor::zeros({2, 3});
  ids[4] = 37;
  CHECK_THROWS_WITH_AS(embedding(tape, ids, table),
                       "embedding: id 37 at position 4 is out of range for vocabulary size V=37",
                       Error);
  ids[4] = 0;
  ids[2] = -1;
  CHECK_THROWS_WITH_AS(embedding(tape, ids, table),
                       "embedding: id -1 at position 2 is out of range for vocabulary size V=37",
                       Error);
  CHECK(tape.size() == 0);
}

TEST_CASE("embedding: backward uses the ids of the forward even if the caller reuses the buffer") {
  Tape tape;
  VarP table = make_var(Tensor::zeros({5, 2}), true);
  IntTensor ids = IntTensor::from({2}, {1, 3});
  VarP out = embedding(tape, ids, table);
  ids[0] = ids[1] = 0;  // e.g. the loader refills its batch before backward
  out->grad = Tensor::full({2, 2}, 1.0f);
  tape.replay();
  // Hand-derived: rows 1 and 3 receive one unit of grad each, the rest nothing.
  check_close(table->grad, {0, 0, 1, 1, 0, 0, 1, 1, 0, 0}, 0, 0, "dE");
}
