// Data-parallel training over MPI ranks (docs/DISTRIBUTED.md): which micro-batches of
// an optimizer step each rank computes, and validation split over the ranks.
#pragma once
#include <cstdint>

#include "eval/evaluate.h"

namespace sg {

// Rank r of R computes micro-batches [first, first + count) of the accumulation's
// `accum`; every rank still draws all of them from its loader, so the loader position is
// global and a run resumes on any rank count.
struct MicroBatchShare {
  int64_t accum = 1, first = 0, count = 1;
  bool mine(int64_t a) const { return a >= first && a < first + count; }
  bool last_mine(int64_t a) const { return a == first + count - 1; }
};

// Throws, naming both numbers, unless `ranks` divides `accum`.
MicroBatchShare share_micro_batches(int64_t accum, int ranks, int rank);

// evaluate() with batch b run on rank b % R and the metric sums added over the ranks
// (identical to evaluate() on one rank).
EvalResult evaluate_on_all_ranks(Transformer& model, Loader& loader, int64_t max_batches,
                                 int32_t pad_id);

}  // namespace sg
