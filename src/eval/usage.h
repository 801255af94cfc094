// Neuron usage statistics of a sparse feedforward layer, from how often each neuron
// (expert) of a pool was picked. A pool is one channel of sgatlin (N neurons), the one
// shared table of peer (its heads fold into it) or the E experts of moe; a layer's
// figure is the mean over its pools.
// Legend: N tokens (rows), C channels, K picks, P pools, M neurons per pool.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/model_config.h"
#include "tensor/tensor.h"

namespace sg {

struct UsageStats {
  double min_max_ratio = 0;  // min count / max count
  double cv = 0;             // coefficient of variation: population std / mean
  double frac_used = 0;      // fraction of neurons picked at least once
  double entropy = 0;        // entropy of counts / sum, divided by log M (1 when M = 1)
};

// Statistics of one pool's counts[0..M). All zero when nothing was picked.
UsageStats usage_stats(const int64_t* counts, int64_t M);
// Mean over the P pools of counts [P * M] (pool-major).
UsageStats pooled_usage_stats(const std::vector<int64_t>& counts_PxM, int64_t P);

// Adds the picks of rows [begin, end) of idx [N, C, K] whose keep[row] is set (all rows
// when keep is null) to counts [P * M]; channel c counts into pool c % P.
void add_picks(const IntTensor& idx_NxCxK, int64_t begin, int64_t end, const uint8_t* keep_N,
               int64_t P, int64_t M, std::vector<int64_t>& counts_PxM);

// Pools of a layer type: sgatlin C pools of N, peer 1 of N, moe 1 of E; {0, 0} when the
// type routes nothing.
struct PoolShape {
  int64_t pools = 0, size = 0;
};
PoolShape usage_pools(const FfwConfig& f);

// Usage of one layer over an evaluated set: `set` from the counts summed over every
// token, `per_sequence` the mean over sequences of each sequence's own statistics.
struct LayerUsage {
  int64_t layer = 0;
  std::string type;
  UsageStats set, per_sequence;
  int64_t sequences = 0;
};

nlohmann::json to_json(const UsageStats& s);
nlohmann::json to_json(const LayerUsage& u);

}  // namespace sg
