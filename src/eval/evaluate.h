// Held-out evaluation (spec §4): mean token cross-entropy over non-pad positions,
// accuracy, perplexity and last-token perplexity over sequential batches of a shard,
// plus the neuron usage (eval/usage.h) of every sgatlin/peer/moe layer.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "data/loader.h"
#include "eval/usage.h"
#include "nn/transformer.h"

namespace sg {

struct EvalResult {
  double loss = 0, accuracy = 0, perplexity = 0;
  // exp of the mean over sequences of the loss at each sequence's last non-pad position.
  double perplexity_last_token = 0;
  int64_t tokens = 0, sequences = 0;
  std::vector<LayerUsage> usage;  // one entry per routed layer, in layer order
};

// Up to max_batches batches from `loader` (all windows of one epoch when <= 0).
EvalResult evaluate(Transformer& model, Loader& loader, int64_t max_batches, int32_t pad_id);

// Accumulates the metrics of batches whose inputs were already run through `model`
// with routing records on (evaluate() and tests drive it).
class EvalAccumulator {
 public:
  EvalAccumulator(Transformer& model, int32_t pad_id);
  // logits [B*T, V] of the batch; the model's routing hooks hold its decisions.
  void add(const Tensor& logits_BTxV, const IntTensor& targets_BxT);
  EvalResult result() const;
  // Every running sum as one flat vector, and back: data-parallel validation adds the
  // ranks' vectors (counts stay exact in doubles below 2^53).
  std::vector<double> sums() const;
  void load_sums(const std::vector<double>& flat);

 private:
  Transformer& model_;
  int32_t pad_;
  double loss_sum_ = 0, correct_ = 0, last_loss_sum_ = 0;
  int64_t tokens_ = 0, sequences_ = 0;
  std::vector<int64_t> layers_;               // routed layers
  std::vector<PoolShape> pools_;              // per routed layer
  std::vector<std::vector<int64_t>> totals_;  // per routed layer, [P * M]
  std::vector<UsageStats> seq_sums_;          // per routed layer, summed over sequences
  std::vector<int64_t> seq_counted_;          // sequences with at least one non-pad token
};

// Turns routing records on for every routed layer while alive (they cost a copy of
// the decisions per forward), restoring the previous setting after.
class RecordRouting {
 public:
  explicit RecordRouting(Transformer& model);
  ~RecordRouting();

 private:
  std::vector<std::pair<RoutingHook*, bool>> saved_;
};

}  // namespace sg
