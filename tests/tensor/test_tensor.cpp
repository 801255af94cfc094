#include "tensor/tensor.h"

#include <cstdint>

#include "test_util.h"

using namespace sg;

TEST_CASE("tensor: constructors, shape helpers and 64-byte alignment") {
  Tensor z = Tensor::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.rank() == 2);
  CHECK(z.numel() == 6);
  CHECK(z.dim(-1) == 3);
  for (int64_t i = 0; i < 6; ++i) CHECK(z[i] == 0.0f);
  CHECK(reinterpret_cast<uintptr_t>(z.data()) % 64 == 0);
  CHECK(reinterpret_cast<uintptr_t>(IntTensor::empty({7}).data()) % 64 == 0);

  Tensor f = Tensor::full({4}, 2.5f);
  CHECK(f[3] == 2.5f);
  IntTensor from = IntTensor::from({2, 2}, {1, 2, 3, 4});
  CHECK(from[2] == 3);
  CHECK(Tensor::zeros({}).numel() == 1);  // rank 0: a scalar
  CHECK(Tensor::zeros({3, 0}).numel() == 0);
  CHECK_FALSE(Tensor().defined());

  CHECK(shape_str({}) == "[]");
  CHECK(shape_str({2, 7, 13}) == "[2, 7, 13]");
  CHECK_THROWS_WITH_AS(Tensor::from({2, 2}, {1, 2, 3}),
                       "Tensor::from: shape [2, 2] needs 4 values, got 3", Error);
  CHECK_THROWS_WITH_AS(shape_numel({2, -3}), "negative dimension in shape [2, -3]", Error);
  CHECK_THROWS_WITH_AS(check_shape("op", "x", {2, 3}, {3, 2}),
                       "op: x has shape [2, 3], expected [3, 2]", Error);
  CHECK_THROWS_WITH_AS(z.dim(2), "dim(2) out of range for shape [2, 3]", Error);
  CHECK_THROWS_WITH_AS(z.dim(-3), "dim(-3) out of range for shape [2, 3]", Error);
}

TEST_CASE("tensor: copies and views alias storage, clone does not") {
  Tensor t = Tensor::from({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor alias = t;
  Tensor flat = t.reshape({-1});
  Tensor mat = t.reshape({3, -1});
  Tensor copy = t.clone();
  CHECK(flat.shape() == Shape{12});
  CHECK(mat.shape() == Shape{3, 4});
  t[5] = 50;
  CHECK(alias[5] == 50);
  CHECK(flat[5] == 50);
  CHECK(mat[5] == 50);
  CHECK(copy[5] == 5);
  copy[0] = -1;
  CHECK(t[0] == 0);
}

TEST_CASE("tensor: rows() views a slice of the leading axis") {
  Tensor t = Tensor::from({4, 2, 3}, std::vector<float>(24, 0));
  for (int64_t i = 0; i < 24; ++i) t[i] = static_cast<float>(i);
  Tensor r = t.rows(1, 3);
  CHECK(r.shape() == Shape{2, 2, 3});
  CHECK(r[0] == 6);  // row 1 starts at 1 * 2 * 3
  CHECK(r[11] == 17);
  r[0] = -6;
  CHECK(t[6] == -6);
  CHECK(t.rows(4, 4).numel() == 0);
  CHECK(t.rows(0, 4).data() == t.data());
  // A view of a view keeps counting from its own first row.
  CHECK(t.rows(1, 4).rows(1, 2)[0] == 12);
  // Views keep the storage alive after the original handle is gone.
  Tensor kept = Tensor::full({3, 2}, 7.0f).rows(2, 3);
  CHECK(kept[1] == 7.0f);

  CHECK_THROWS_WITH_AS(t.rows(3, 5), "rows: [3, 5) out of range for shape [4, 2, 3]", Error);
  CHECK_THROWS_WITH_AS(t.rows(2, 1), "rows: [2, 1) out of range for shape [4, 2, 3]", Error);
  CHECK_THROWS_WITH_AS(Tensor::zeros({}).rows(0, 0), "rows: [0, 0) out of range for shape []",
                       Error);
}

TEST_CASE("tensor: reshape errors name both shapes") {
  Tensor t = Tensor::zeros({2, 5});
  CHECK_THROWS_WITH_AS(t.reshape({3, 4}), "reshape: cannot view [2, 5] as [3, 4]", Error);
  // 10 elements do not split into rows of 3: the message shows the -1 as written.
  CHECK_THROWS_WITH_AS(t.reshape({3, -1}), "reshape: cannot view [2, 5] as [3, -1]", Error);
  CHECK_THROWS_WITH_AS(t.reshape({-1, -1}), "reshape: more than one -1 in [-1, -1]", Error);
  CHECK_THROWS_WITH_AS(Tensor::zeros({0, 4}).reshape({0, -1}),
                       "reshape: cannot view [0, 4] as [0, -1]", Error);
  CHECK(Tensor::zeros({0, 4}).reshape({-1, 4}).shape() == Shape{0, 4});
}
