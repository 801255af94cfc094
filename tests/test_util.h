// Shared helpers for the numerical tests: double-precision references and
// central finite differences, so each op is checked against an independent computation.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autograd/var.h"

namespace sg::test {

inline std::vector<double> random_vec(size_t n, uint32_t seed, double lo = -1, double hi = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

inline Tensor to_tensor(const Shape& shape, const std::vector<double>& v) {
  Tensor t = Tensor::empty(shape);
  for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
  return t;
}

// The values a tensor holds, widened to double (what the fp32 op actually saw).
inline std::vector<double> to_double(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}

// Central differences of a double-precision scalar function f at x.
inline std::vector<double> fd_grad(const std::function<double(const std::vector<double>&)>& f,
                                   std::vector<double> x, double h = 1e-6) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = f(x);
    x[i] = x0 - h;
    const double down = f(x);
    x[i] = x0;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// |got - want| <= atol + rtol * |want| elementwise; reports the first few failures.
inline void check_close(const float* got, const std::vector<double>& want, double rtol, double atol,
                        const char* what) {
  size_t bad = 0;
  std::string first;
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= atol + rtol * std::fabs(want[i])) && bad++ < 5)
      first += " [" + std::to_string(i) + "] got " + std::to_string(got[i]) + " want " +
               std::to_string(want[i]) + ";";
  }
  CHECK_MESSAGE(bad == 0, std::string(what)
                              << ": " << bad << " of " << want.size() << " elements off:" << first);
}

inline void check_close(const Tensor& got, const std::vector<double>& want, double rtol,
                        double atol, const char* what) {
  REQUIRE(static_cast<size_t>(got.numel()) == want.size());
  check_close(got.data(), want, rtol, atol, what);
}

}  // namespace sg::test
