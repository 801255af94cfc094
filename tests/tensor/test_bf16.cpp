#include <cstring>

#include "tensor/tensor.h"
#include "test_util.h"

using namespace sg;

namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t to_bf16_bits(uint32_t fp32_bits) { return float_to_bf16(from_bits(fp32_bits)).bits; }

}  // namespace

TEST_CASE("bf16: fp32 -> bf16 rounds to nearest, ties to even, on hand-picked bit patterns") {
  // bf16 keeps the top 16 bits; the low 16 decide the rounding (0x8000 is the halfway point).
  CHECK(to_bf16_bits(0x3f800000) == 0x3f80);  // 1.0 exact
  CHECK(to_bf16_bits(0x3f807fff) == 0x3f80);  // just below half: down
  CHECK(to_bf16_bits(0x3f808000) == 0x3f80);  // tie, kept bit even: stays
  CHECK(to_bf16_bits(0x3f808001) == 0x3f81);  // just above half: up
  CHECK(to_bf16_bits(0x3f818000) == 0x3f82);  // tie, kept bit odd: up to even
  CHECK(to_bf16_bits(0x3f81ffff) == 0x3f82);
  CHECK(to_bf16_bits(0xbf808000) == 0xbf80);  // negative values mirror: tie to even
  CHECK(to_bf16_bits(0xbf818000) == 0xbf82);
  CHECK(to_bf16_bits(0x3fffffff) == 0x4000);  // carry into the exponent: 2.0
  CHECK(to_bf16_bits(0x7f7f7fff) == 0x7f7f);  // largest value that stays finite
  CHECK(to_bf16_bits(0x7f7fffff) == 0x7f80);  // FLT_MAX rounds to +inf
  CHECK(to_bf16_bits(0x7f800000) == 0x7f80);  // +inf
  CHECK(to_bf16_bits(0xff800000) == 0xff80);  // -inf
  CHECK(to_bf16_bits(0x80000000) == 0x8000);  // -0
  CHECK(to_bf16_bits(0x00008000) == 0x0000);  // subnormal tie to even (0)
  CHECK(to_bf16_bits(0x00018000) == 0x0002);  // subnormal tie to even (up)
  CHECK(to_bf16_bits(0x0000ffff) == 0x0001);
  CHECK(to_bf16_bits(0x7fc00000) == 0x7fc0);  // quiet NaN
  // A NaN whose payload sits only in the low 16 bits must stay NaN (not become inf),
  // and keeps its sign.
  const uint16_t nan_lo = to_bf16_bits(0x7f800001), neg_nan = to_bf16_bits(0xff800001);
  CHECK((nan_lo & 0x7f80) == 0x7f80);
  CHECK((nan_lo & 0x007f) != 0);
  CHECK((neg_nan & 0x8000) != 0);
  CHECK((neg_nan & 0x007f) != 0);
}

TEST_CASE("bf16: bf16 -> fp32 is exact, tensor conversions round-trip") {
  CHECK(bf16_to_float(bf16{0x3f80}) == 1.0f);
  CHECK(bf16_to_float(bf16{0xc0a0}) == -5.0f);
  CHECK(bf16_to_float(bf16{0x3f81}) == 1.0f + 1.0f / 128);  // 7 stored mantissa bits

  const std::vector<uint32_t> bits = {0x3f808000, 0x3f818000, 0xbf808001, 0x7f7fffff, 0x00018000};
  const std::vector<uint16_t> want = {0x3f80, 0x3f82, 0xbf81, 0x7f80, 0x0002};
  Tensor x = Tensor::empty({static_cast<int64_t>(bits.size())});
  for (size_t i = 0; i < bits.size(); ++i) x[static_cast<int64_t>(i)] = from_bits(bits[i]);
  const Bf16Tensor b = to_bf16(x);
  CHECK(b.shape() == x.shape());
  for (size_t i = 0; i < bits.size(); ++i) CHECK(b[static_cast<int64_t>(i)].bits == want[i]);
  const Tensor back = to_fp32(b);
  for (size_t i = 0; i < bits.size(); ++i) {
    uint32_t u;
    const float f = back[static_cast<int64_t>(i)];
    std::memcpy(&u, &f, 4);
    CHECK(u == static_cast<uint32_t>(want[i]) << 16);
  }
}
