#include <doctest/doctest.h>

#include <set>

#include "data/loader.h"
#include "data/shard.h"
#include "data_test_util.h"
#include "util/error.h"

using namespace sg;
using sg::test::TempDir;

namespace {

constexpr int32_t kEos = 1;

// A stream 100, 101, ..., with an eos after every 6 tokens: token k of the stream is
// known in closed form, independent of the loader.
int32_t stream_token(int64_t k) { return (k % 7 == 6) ? kEos : static_cast<int32_t>(100 + k); }

std::string write_stream(const TempDir& dir, int64_t n_tokens) {
  const std::string path = dir.file("stream.bin");
  ShardWriter w(path, 1000);
  std::vector<int32_t> doc;
  for (int64_t k = 0; k < n_tokens; ++k) {
    if (stream_token(k) == kEos) {
      w.add_document(doc.data(), doc.size(), kEos);
      doc.clear();
    } else {
      doc.push_back(stream_token(k));
    }
  }
  REQUIRE(doc.empty());
  w.finish();
  return path;
}

// The window index a row holds, read back from its first non-eos target (two eos
// never follow each other in the stream).
int64_t window_of(const Batch& b, int64_t row, int64_t T) {
  const int64_t t = b.targets_BxT[row * T] == kEos ? 1 : 0;
  return (b.targets_BxT[row * T + t] - 100 - t) / T;
}

void check_window(const Batch& b, int64_t row, int64_t T, int64_t w) {
  for (int64_t t = 0; t < T; ++t) {
    CHECK(b.targets_BxT[row * T + t] == stream_token(w * T + t));
    CHECK(b.inputs_BxT[row * T + t] == (t == 0 ? kEos : stream_token(w * T + t - 1)));
  }
}

}  // namespace

TEST_CASE("loader: sequential windows, inputs shifted right with eos first") {
  TempDir dir;
  const auto path = write_stream(dir, 70);  // 10 documents of 6 tokens + eos
  const int64_t B = 3, T = 9;               // 7 windows of 9 (63 tokens), tail of 7 unused
  Loader loader(path, B, T, 0, kEos, /*shuffle=*/false);
  CHECK(loader.tokens() == 70);
  CHECK(loader.windows_per_epoch() == 7);
  const Batch b0 = loader.next();
  CHECK(b0.inputs_BxT.shape() == Shape{B, T});
  CHECK(b0.targets_BxT.shape() == Shape{B, T});
  for (int64_t r = 0; r < B; ++r) check_window(b0, r, T, r);
  loader.next();                   // windows 3, 4, 5
  const Batch b2 = loader.next();  // window 6, then the next epoch starts again at 0, 1
  check_window(b2, 0, T, 6);
  check_window(b2, 1, T, 0);
  check_window(b2, 2, T, 1);
  CHECK(loader.state().epoch == 1);
  CHECK(loader.state().cursor == 2);
}

TEST_CASE("loader: shuffled epochs are permutations of all windows, fixed by the seed") {
  TempDir dir;
  const auto path = write_stream(dir, 7 * 37);
  const int64_t T = 5, W = 7 * 37 / T;  // 51 windows
  auto epoch_orders = [&](uint64_t seed) {
    Loader loader(path, W, T, seed, kEos);  // one batch = one epoch
    std::vector<std::vector<int64_t>> orders;
    for (int e = 0; e < 3; ++e) {
      const Batch b = loader.next();
      std::vector<int64_t> order;
      for (int64_t r = 0; r < W; ++r) {
        order.push_back(window_of(b, r, T));
        check_window(b, r, T, order.back());
      }
      orders.push_back(order);
    }
    return orders;
  };
  const auto a = epoch_orders(3);
  for (const auto& order : a) CHECK(std::set<int64_t>(order.begin(), order.end()).size() == W);
  // A fixed permutation of 51 windows repeats by chance with probability 1/51!.
  CHECK(a[0] != a[1]);
  CHECK(a[1] != a[2]);
  CHECK(epoch_orders(3) == a);
  CHECK(epoch_orders(4) != a);
}

TEST_CASE("loader: a restored loader yields the same next batches") {
  TempDir dir;
  const auto path = write_stream(dir, 7 * 20);
  const int64_t B = 4, T = 6;  // 23 windows: batches cross epoch boundaries
  Loader a(path, B, T, 11, kEos);
  for (int i = 0; i < 7; ++i) a.next();
  const LoaderState saved = a.state();
  CHECK(saved.epoch == 1);
  std::vector<Batch> want;
  for (int i = 0; i < 8; ++i) want.push_back(a.next());

  Loader b(path, B, T, 11, kEos);
  b.restore(saved);
  for (const auto& w : want) {
    const Batch got = b.next();
    for (int64_t i = 0; i < B * T; ++i) {
      REQUIRE(got.inputs_BxT[i] == w.inputs_BxT[i]);
      REQUIRE(got.targets_BxT[i] == w.targets_BxT[i]);
    }
  }
  CHECK(b.state().epoch == a.state().epoch);
  CHECK(b.state().cursor == a.state().cursor);
  CHECK_THROWS_WITH_AS(b.restore({0, 24}), sg::test::has("does not fit a shard with 23 windows"),
                       Error);
}

TEST_CASE("loader: rejects shards shorter than one window") {
  TempDir dir;
  const auto path = write_stream(dir, 14);
  CHECK_THROWS_WITH_AS(Loader(path, 2, 15, 0, kEos),
                       sg::test::has("has 14 tokens, fewer than one window of seq_len 15"), Error);
  CHECK_THROWS_WITH_AS(Loader(path, 2, 4, 0, 1000), sg::test::has("eos id 1000 outside"), Error);
}
