#include "train/distributed.h"

#include <algorithm>

#include "dist/comm.h"
#include "util/error.h"

namespace sg {

MicroBatchShare share_micro_batches(int64_t accum, int ranks, int rank) {
  SG_CHECK(accum % ranks == 0, "data-parallel: ", ranks,
           " ranks cannot share optimizer.n_gradient_accumulation = ", accum,
           " micro-batches per step (the rank count must divide it; run with ", accum,
           " ranks or a divisor of it, or set n_gradient_accumulation to a multiple of ", ranks,
           " with data.batch_size divisible by it)");
  const int64_t per_rank = accum / ranks;
  return {accum, rank * per_rank, per_rank};
}

EvalResult evaluate_on_all_ranks(Transformer& model, Loader& loader, int64_t max_batches,
                                 int32_t pad_id) {
  if (dist::size() == 1) return evaluate(model, loader, max_batches, pad_id);
  const int64_t per_epoch =
      std::max<int64_t>(1, loader.windows_per_epoch() / std::max<int64_t>(1, loader.batch_size()));
  const int64_t n = max_batches > 0 ? std::min(max_batches, per_epoch) : per_epoch;
  Tape tape;
  NoGradGuard no_grad(tape);
  RecordRouting record(model);
  EvalAccumulator acc(model, pad_id);
  for (int64_t b = 0; b < n; ++b) {
    const Batch batch = loader.next();
    if (b % dist::size() != dist::rank()) continue;
    acc.add(model.forward(tape, batch.inputs_BxT)->value, batch.targets_BxT);
  }
  acc.load_sums(dist::sum_in_rank_order(acc.sums()));
  return acc.result();
}

}  // namespace sg
