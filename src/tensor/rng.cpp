#include "tensor/rng.h"

#include <cmath>

namespace sg {

uint64_t stream_of(std::string_view name) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis 0xcbf29ce484222325
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::array<uint32_t, 4> philox(RngKey key, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = static_cast<uint32_t>(key.stream), c3 = static_cast<uint32_t>(key.stream >> 32);
  uint32_t k0 = static_cast<uint32_t>(key.seed), k1 = static_cast<uint32_t>(key.seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = 0xD2511F53ull * c0, p1 = 0xCD9E8D57ull * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = static_cast<uint32_t>(p1);
    c2 = n2;
    c3 = static_cast<uint32_t>(p0);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

double uniform01(RngKey key, uint64_t counter) {
  const auto r = philox(key, counter);
  const uint64_t bits = (static_cast<uint64_t>(r[0]) << 21) ^ (static_cast<uint64_t>(r[1]) >> 11);
  return (static_cast<double>(bits & ((1ull << 53) - 1)) + 0.5) / 9007199254740992.0;
}

namespace {

// Inverse of the standard normal CDF (Acklam's rational approximation refined by
// one Halley step: ~1e-15 relative error).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671888296949e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

void fill_uniform(Tensor& t, RngKey key, float lo, float hi) {
  const int64_t n = t.numel();
  float* p = t.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = lo + static_cast<float>((hi - lo) * uniform01(key, i));
}

void fill_normal(Tensor& t, RngKey key, float mean, float std) {
  const int64_t n = t.numel();
  float* p = t.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    p[i] = mean + std * static_cast<float>(normal_quantile(uniform01(key, i)));
}

void fill_truncated_normal(Tensor& t, RngKey key, float std, bool rescale) {
  // Inverse-CDF sampling restricted to [Phi(-2), Phi(2)]: one draw per element, so
  // element i stays a function of its counter (rejection sampling would not be).
  const double lo = normal_cdf(-2.0), hi = normal_cdf(2.0);
  // Std of a standard normal cut to [-2, 2]: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))).
  const double cut_std = std::sqrt(1.0 - 4.0 * std::exp(-2.0) / std::sqrt(2 * M_PI) / (hi - lo));
  const double scale = rescale ? std / cut_std : std;
  const int64_t n = t.numel();
  float* p = t.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<float>(scale * normal_quantile(lo + (hi - lo) * uniform01(key, i)));
}

int64_t sample_categorical(const float* probs, int64_t n, RngKey key, uint64_t counter) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += probs[i];
  SG_CHECK(total > 0, "sample_categorical: probabilities sum to ", total);
  const double target = uniform01(key, counter) * total;
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    acc += probs[i];
    if (target < acc) return i;
  }
  return n - 1;
}

}  // namespace sg
