// Tape marks and the per-record hook that data-parallel training uses to start reducing
// a layer's gradients as soon as backward is done with it.
#include <doctest/doctest.h>

#include "autograd/tape.h"

using namespace sg;

TEST_CASE("tape: marks note record counts, backward calls the hook after each record, last first") {
  Tape tape;
  std::vector<int> ran;
  tape.record([&] { ran.push_back(0); });
  tape.mark();
  tape.record([&] { ran.push_back(1); });
  tape.record([&] { ran.push_back(2); });
  tape.mark();
  tape.record([&] { ran.push_back(3); });
  CHECK(tape.marks() == std::vector<size_t>{1, 3});

  std::vector<std::pair<size_t, size_t>> hook;  // (record index, records run so far)
  const VarP loss = make_var(Tensor::zeros({1}), true);
  tape.backward(loss, [&](size_t i) { hook.push_back({i, ran.size()}); });
  CHECK(ran == std::vector<int>{3, 2, 1, 0});
  CHECK(hook == std::vector<std::pair<size_t, size_t>>{{3, 1}, {2, 2}, {1, 3}, {0, 4}});
  CHECK(tape.size() == 0);
  CHECK(tape.marks().empty());
  CHECK(loss->grad[0] == 1.0f);
}
