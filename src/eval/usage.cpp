// Neuron usage statistics (see usage.h). Legend: N tokens, C channels, K picks,
// P pools, M neurons per pool.
#include "eval/usage.h"

#include <algorithm>
#include <cmath>

#include "nn/ffw_types.h"
#include "util/error.h"

namespace sg {

UsageStats usage_stats(const int64_t* counts, int64_t M) {
  UsageStats s;
  double sum = 0;
  int64_t lo = counts[0], hi = counts[0], used = 0;
  for (int64_t i = 0; i < M; ++i) {
    sum += counts[i];
    lo = std::min(lo, counts[i]);
    hi = std::max(hi, counts[i]);
    used += counts[i] > 0;
  }
  if (sum == 0) return s;
  const double mean = sum / M;
  double var = 0, h = 0;
  for (int64_t i = 0; i < M; ++i) {
    var += (counts[i] - mean) * (counts[i] - mean);
    if (counts[i] > 0) h -= counts[i] / sum * std::log(counts[i] / sum);
  }
  s.min_max_ratio = static_cast<double>(lo) / hi;
  s.cv = std::sqrt(var / M) / mean;
  s.frac_used = static_cast<double>(used) / M;
  s.entropy = M > 1 ? h / std::log(static_cast<double>(M)) : 1.0;
  return s;
}

UsageStats pooled_usage_stats(const std::vector<int64_t>& counts_PxM, int64_t P) {
  SG_CHECK(P >= 1 && !counts_PxM.empty() && counts_PxM.size() % P == 0,
           "usage: ", counts_PxM.size(), " counts do not split into ", P, " pools");
  const int64_t M = static_cast<int64_t>(counts_PxM.size()) / P;
  UsageStats mean;
  for (int64_t p = 0; p < P; ++p) {
    const UsageStats s = usage_stats(counts_PxM.data() + p * M, M);
    mean.min_max_ratio += s.min_max_ratio / P;
    mean.cv += s.cv / P;
    mean.frac_used += s.frac_used / P;
    mean.entropy += s.entropy / P;
  }
  return mean;
}

void add_picks(const IntTensor& idx_NxCxK, int64_t begin, int64_t end, const uint8_t* keep_N,
               int64_t P, int64_t M, std::vector<int64_t>& counts_PxM) {
  SG_CHECK(idx_NxCxK.rank() == 3 && 0 <= begin && begin <= end && end <= idx_NxCxK.dim(0),
           "usage: picks ", shape_str(idx_NxCxK.shape()), " with rows [", begin, ", ", end, ")");
  SG_CHECK(static_cast<int64_t>(counts_PxM.size()) == P * M, "usage: ", counts_PxM.size(),
           " counts, expected ", P, " pools of ", M);
  const int64_t C = idx_NxCxK.dim(1), K = idx_NxCxK.dim(2);
  for (int64_t n = begin; n < end; ++n) {
    if (keep_N && !keep_N[n]) continue;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < K; ++k) {
        const int32_t i = idx_NxCxK[(n * C + c) * K + k];
        SG_CHECK(0 <= i && i < M, "usage: neuron id ", i, " outside a pool of ", M);
        ++counts_PxM[(c % P) * M + i];
      }
  }
}

PoolShape usage_pools(const FfwConfig& f) {
  const FfwTypeInfo* t = find_ffw_type(f.type);
  if (!t || !t->pool_size) return {};
  return {t->pool_tables(f), f.*t->pool_size};
}

nlohmann::json to_json(const UsageStats& s) {
  return {{"min_max_ratio", s.min_max_ratio},
          {"cv", s.cv},
          {"frac_used", s.frac_used},
          {"entropy", s.entropy}};
}

nlohmann::json to_json(const LayerUsage& u) {
  return {{"layer", u.layer},
          {"type", u.type},
          {"set", to_json(u.set)},
          {"per_sequence", to_json(u.per_sequence)},
          {"sequences", u.sequences}};
}

}  // namespace sg
