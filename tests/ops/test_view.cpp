#include "ops/view.h"

#include "ops/linear.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("view: shares values and routes gradients to the source") {
  Tape tape;
  VarP x = make_var(to_tensor({2, 6}, random_vec(12, 7)), true);
  VarP y = view(tape, x, {3, 4});
  CHECK(y->value.shape() == Shape{3, 4});
  CHECK(y->value.data() == x->value.data());
  // Gradient arriving at the view through a consumer op lands in x's grad.
  VarP w = make_var(to_tensor({1, 4}, {1.0, 2.0, 3.0, 4.0}));
  VarP z = linear(tape, y, w);  // z[r] = sum_c y[r, c] * (c + 1)
  z->grad_or_zeros().fill(1.0f);
  tape.replay();
  for (int64_t i = 0; i < 12; ++i) CHECK(x->grad[i] == doctest::Approx(1.0 + i % 4));
}
