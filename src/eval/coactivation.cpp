// Neuron co-activation (see coactivation.h).
#include "eval/coactivation.h"

#include <algorithm>

#include "util/error.h"

namespace sg {

std::vector<int64_t> coactivation(const int32_t* idx_NxCxK, int64_t N, int64_t C, int64_t K,
                                  int64_t M, int64_t c) {
  SG_CHECK(0 <= c && c < C, "coactivation: channel ", c, " outside [0, ", C, ")");
  std::vector<int64_t> counts(M * M, 0);
  for (int64_t t = 0; t < N; ++t) {
    const int32_t* picks = idx_NxCxK + (t * C + c) * K;
    for (int64_t i = 0; i < K; ++i) {
      SG_CHECK(0 <= picks[i] && picks[i] < M, "coactivation: token ", t, " picks neuron ", picks[i],
               " outside [0, ", M, ")");
      for (int64_t j = 0; j < K; ++j)
        if (i == j || picks[i] != picks[j]) ++counts[picks[i] * M + picks[j]];
    }
  }
  return counts;
}

namespace {

bool before(const CoPair& x, const CoPair& y) {
  if (x.count != y.count) return x.count > y.count;
  return x.a != y.a ? x.a < y.a : x.b < y.b;
}

}  // namespace

std::vector<CoPair> top_pairs(const std::vector<int64_t>& counts, int64_t M, int64_t n) {
  std::vector<CoPair> all;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = i + 1; j < M; ++j)
      if (counts[i * M + j] > 0)
        all.push_back({static_cast<int32_t>(i), static_cast<int32_t>(j), counts[i * M + j]});
  const size_t keep = std::min<size_t>(all.size(), static_cast<size_t>(n));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), before);
  all.resize(keep);
  return all;
}

std::vector<CoPair> top_partners(const std::vector<int64_t>& counts, int64_t M, int32_t i,
                                 int64_t n) {
  std::vector<CoPair> all;
  for (int64_t j = 0; j < M; ++j)
    if (j != i && counts[i * M + j] > 0)
      all.push_back({i, static_cast<int32_t>(j), counts[i * M + j]});
  std::sort(all.begin(), all.end(), [](const CoPair& x, const CoPair& y) {
    return x.count != y.count ? x.count > y.count : x.b < y.b;
  });
  if (static_cast<int64_t>(all.size()) > n) all.resize(n);
  return all;
}

}  // namespace sg
