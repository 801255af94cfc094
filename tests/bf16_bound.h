// Error bounds for the bf16 paths (bf16 operands, fp32 sums), shared by their tests.
//
// Derivation. bf16 keeps 8 significant bits, so rounding to nearest changes a value by a
// factor (1 + d), |d| <= u = 2^-9. A sum of products in which every term has m rounded
// factors is then off by at most ((1 + u)^m - 1) * sum |terms| from the exact sum; that
// covers rounded intermediates too (a rounded dot product z = <x, w> off by e adds one
// factor (1 + u) and carries the (1 + u)^2 of its own terms along), as long as the
// function is multilinear in its inputs so that "sum |terms|" is the same function of the
// inputs' absolute values (the test evaluates it that way). fp32 summation of n terms
// adds at most n * 2^-24 * sum |terms| (plus 2^-24 per final rounding).
#pragma once
#include <cmath>
#include <cstdint>

namespace sg::test {

// Relative (to sum |terms|) bound for terms with m bf16-rounded factors summed in fp32
// over at most n terms in total along the chain.
inline double bf16_chain_rel(int m, int64_t n) {
  return std::pow(1.0 + std::ldexp(1.0, -9), m) - 1.0 +
         static_cast<double>(n + 2) * std::ldexp(1.0, -24);
}

}  // namespace sg::test
