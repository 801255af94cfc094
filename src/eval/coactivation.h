// Neuron co-activation: per layer and channel, how often two neurons are picked for the
// same token. Legend: N tokens, C channels, K picks per channel, M neurons per channel.
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

// counts_MxM[i * M + j] = tokens whose channel-c picks include both i and j (i != j);
// the diagonal holds how many tokens picked i.
std::vector<int64_t> coactivation(const int32_t* idx_NxCxK, int64_t N, int64_t C, int64_t K,
                                  int64_t M, int64_t c);

struct CoPair {
  int32_t a = 0, b = 0;  // a < b
  int64_t count = 0;
};
// The n most frequent pairs (count desc, then a, b asc), pairs with count 0 left out.
std::vector<CoPair> top_pairs(const std::vector<int64_t>& counts_MxM, int64_t M, int64_t n);
// Neuron i's n most frequent partners as {a = i, b = partner} (count desc, partner asc),
// count 0 left out.
std::vector<CoPair> top_partners(const std::vector<int64_t>& counts_MxM, int64_t M, int32_t i,
                                 int64_t n);

}  // namespace sg
