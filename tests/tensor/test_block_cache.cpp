#include "tensor/block_cache.h"

#include <cstdint>

#include "tensor/tensor.h"
#include "test_util.h"

using namespace sg;

TEST_CASE("block_cache: a freed large block is reused for the same size, not for another") {
  const int64_t n = (3 << 20) / 4 + 5;  // 3 MiB + 20 bytes: rounds up to whole pages
  const size_t before = block_cache_bytes();
  float* first = nullptr;
  {
    Tensor t = Tensor::full({n}, 1.5f);
    first = t.data();
  }
  CHECK(block_cache_bytes() == before + (size_t{3} << 20) + 4096);
  Tensor other = Tensor::empty({n + 2048});  // a different rounded size: a new block
  CHECK(other.data() != first);
  Tensor again = Tensor::zeros({n});
  CHECK(again.data() == first);
  CHECK(block_cache_bytes() == before);
  CHECK(reinterpret_cast<uintptr_t>(again.data()) % 64 == 0);
  for (int64_t i : {int64_t{0}, n / 2, n - 1}) CHECK(again[i] == 0.0f);  // zeros() refills
}

TEST_CASE("block_cache: small blocks are not cached") {
  const size_t before = block_cache_bytes();
  { Tensor t = Tensor::empty({1000}); }
  CHECK(block_cache_bytes() == before);
}

TEST_CASE("block_cache: past the limit the oldest freed blocks are given back") {
  const size_t mib = size_t{1} << 20;
  set_block_cache_limit(0);  // start empty whatever earlier cases left
  set_block_cache_limit(7 * mib);
  const int64_t n = static_cast<int64_t>(3 * mib / 4);  // 3 MiB of floats, page-exact
  float *a = nullptr, *b = nullptr;
  {
    Tensor ta = Tensor::empty({n}), tb = Tensor::empty({n + 1024}), tc = Tensor::empty({n + 2048});
    a = ta.data(), b = tb.data();
    // freed in reverse declaration order: tc, tb, ta; 3 + 3 MiB fit, the third evicts tc
  }
  CHECK(block_cache_bytes() == 3 * mib + 4096 + 3 * mib);
  Tensor again_a = Tensor::empty({n}), again_b = Tensor::empty({n + 1024});
  CHECK(again_a.data() == a);
  CHECK(again_b.data() == b);
  CHECK(block_cache_bytes() == 0);
  set_block_cache_limit(kDefaultBlockCacheLimit);
}
