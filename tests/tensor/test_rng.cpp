#include "tensor/rng.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "test_util.h"

using namespace sg;

namespace {

// Runs fill with 1 and then 2 OpenMP threads; both results must be bit-identical.
void check_thread_independent(const std::function<void(Tensor&)>& fill) {
  Tensor one = Tensor::empty({10007}), two = Tensor::empty({10007});
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  fill(one);
  omp_set_num_threads(2);
  fill(two);
  omp_set_num_threads(saved);
  CHECK(std::memcmp(one.data(), two.data(), sizeof(float) * one.numel()) == 0);
}

struct Moments {
  double mean, std, max_abs;
};
Moments moments(const Tensor& t) {
  double s = 0, ss = 0, m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s += t[i];
    m = std::max(m, std::fabs(static_cast<double>(t[i])));
  }
  const double mean = s / t.numel();
  for (int64_t i = 0; i < t.numel(); ++i) ss += (t[i] - mean) * (t[i] - mean);
  return {mean, std::sqrt(ss / (t.numel() - 1)), m};
}

// 200k samples: the standard error of a mean is std / 447, of a sample std about
// std / 632 (normal-like data), of a frequency p at most 0.5 / 447 = 0.0011. Checks allow
// 5 standard errors; the seeds are fixed, so a pass is reproducible rather than lucky.
constexpr int64_t kSamples = 200000;

}  // namespace

TEST_CASE("rng: philox4x32-10 matches the Random123 known-answer vectors") {
  // Layout here: counter = (c0, c1), stream = (c2, c3), seed = (k0, k1), low word first.
  using A = std::array<uint32_t, 4>;
  CHECK(philox({0, 0}, 0) == A{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox({~0ull, ~0ull}, ~0ull) == A{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox({0x299f31d0a4093822ull, 0x0370734413198a2eull}, 0x85a308d3243f6a88ull) ==
        A{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("rng: stream_of is FNV-1a 64") {
  CHECK(stream_of("") == 0xcbf29ce484222325ull);  // published FNV-1a test vectors
  CHECK(stream_of("a") == 0xaf63dc4c8601ec8cull);
  CHECK(stream_of("layers.0.ffn.w1.weight") != stream_of("layers.0.ffn.w2.weight"));
}

TEST_CASE("rng: fills give the same numbers with 1 and 2 threads") {
  const RngKey key{7, stream_of("w")};
  check_thread_independent([&](Tensor& t) { fill_uniform(t, key, -1, 3); });
  check_thread_independent([&](Tensor& t) { fill_normal(t, key, 0.5f, 2.0f); });
  check_thread_independent([&](Tensor& t) { fill_truncated_normal(t, key, 0.1f, true); });
  check_thread_independent([&](Tensor& t) { fill_truncated_normal(t, key, 0.1f, false); });
}

TEST_CASE("rng: element i depends only on (seed, stream, i), different keys differ") {
  Tensor a = Tensor::empty({100}), b = Tensor::empty({1000}), c = Tensor::empty({100});
  fill_normal(a, {1, 2}, 0, 1);
  fill_normal(b, {1, 2}, 0, 1);
  fill_normal(c, {1, 3}, 0, 1);
  CHECK(std::memcmp(a.data(), b.data(), sizeof(float) * 100) == 0);  // prefix of a longer fill
  int same = 0;
  for (int64_t i = 0; i < 100; ++i) same += a[i] == c[i];
  CHECK(same == 0);
}

TEST_CASE("rng: uniform01 stays inside (0, 1), fill_uniform has the right moments") {
  for (uint64_t i = 0; i < 1000; ++i) {
    const double u = uniform01({3, 4}, i);
    CHECK((u > 0 && u < 1));
  }
  Tensor t = Tensor::empty({kSamples});
  fill_uniform(t, {5, 6}, -1, 3);
  const Moments m = moments(t);
  // U(-1, 3): mean 1, std 4 / sqrt(12) = 1.1547; 5 standard errors: 0.013 and 0.008.
  CHECK(std::fabs(m.mean - 1) < 0.013);
  CHECK(std::fabs(m.std - 4 / std::sqrt(12.0)) < 0.008);
  CHECK(m.max_abs <= 3);
}

TEST_CASE("rng: fill_normal has the target mean, std and tail mass") {
  Tensor t = Tensor::empty({kSamples});
  const float mean = 0.3f, std = 0.5f;
  fill_normal(t, {11, 12}, mean, std);
  const Moments m = moments(t);
  CHECK(std::fabs(m.mean - mean) < 5 * std / 447.0);
  CHECK(std::fabs(m.std - std) < 5 * std / 632.0);
  // P(|z| > 1) = 0.317311, P(|z| > 2) = 0.0455003 (tables); 5 standard errors of a frequency.
  int64_t beyond1 = 0, beyond2 = 0;
  for (int64_t i = 0; i < kSamples; ++i) {
    const double z = std::fabs((t[i] - mean) / std);
    beyond1 += z > 1;
    beyond2 += z > 2;
  }
  CHECK(std::fabs(beyond1 / double(kSamples) - 0.317311) < 5 * std::sqrt(0.317 * 0.683 / kSamples));
  CHECK(std::fabs(beyond2 / double(kSamples) - 0.0455003) <
        5 * std::sqrt(0.0455 * 0.9545 / kSamples));
}

TEST_CASE("rng: truncated normal stays within 2 sigma, rescale sets the std") {
  // Std of a standard normal cut to [-2, 2]: 0.879626 (1 - 4 phi(2) / 0.9545 = 0.773741).
  const double cut_std = 0.8796256610342398;
  const float std = 0.7f;
  Tensor raw = Tensor::empty({kSamples}), scaled = Tensor::empty({kSamples});
  fill_truncated_normal(raw, {21, 22}, std, false);
  fill_truncated_normal(scaled, {21, 22}, std, true);

  // rescale = false: raw cut values times std, so |v| <= 2 std (one float rounding allowed).
  const Moments r = moments(raw);
  CHECK(r.max_abs <= 2 * std * (1 + 1e-6));
  CHECK(r.max_abs > 0.99 * 2 * std);  // ~450 expected samples in the outer 1%: the cut is at 2
  CHECK(std::fabs(r.mean) < 5 * std * cut_std / 447.0);
  CHECK(std::fabs(r.std - std * cut_std) < 5 * std * cut_std / 632.0);

  // rescale = true: the same draws divided by cut_std, so the std is `std` and the range
  // is 2 std / cut_std.
  const Moments s = moments(scaled);
  CHECK(s.max_abs <= 2 * std / cut_std * (1 + 1e-6));
  CHECK(s.max_abs > 0.99 * 2 * std / cut_std);
  CHECK(std::fabs(s.std - std) < 5 * std / 632.0);
  CHECK(std::fabs(s.mean) < 5 * std / 447.0);
}

TEST_CASE("rng: sample_categorical frequencies follow the unnormalised probabilities") {
  const std::vector<float> probs = {0.5f, 0.0f, 1.5f, 3.0f, 5.0f};  // sums to 10
  std::vector<int64_t> count(probs.size());
  for (int64_t i = 0; i < kSamples; ++i)
    ++count[sample_categorical(probs.data(), static_cast<int64_t>(probs.size()), {31, 32}, i)];
  CHECK(count[1] == 0);  // zero probability is never drawn
  for (size_t k = 0; k < probs.size(); ++k) {
    CAPTURE(k);
    const double p = probs[k] / 10.0;
    CHECK(std::fabs(count[k] / double(kSamples) - p) <= 5 * std::sqrt(p * (1 - p) / kSamples));
  }
  const std::vector<float> zeros = {0, 0};
  CHECK_THROWS_WITH_AS(sample_categorical(zeros.data(), 2, {0, 0}, 0),
                       "sample_categorical: probabilities sum to 0", Error);
}
