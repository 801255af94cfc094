#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>

#include "ops/cross_entropy.h"

namespace sg {

EvalResult evaluate(Transformer& model, Loader& loader, int64_t max_batches, int32_t pad_id) {
  const int64_t per_epoch = std::max<int64_t>(1, loader.windows_per_epoch() /
                                                     std::max<int64_t>(1, loader.batch_size()));
  const int64_t n = max_batches > 0 ? std::min(max_batches, per_epoch) : per_epoch;
  Tape tape;
  NoGradGuard no_grad(tape);
  double loss_sum = 0, correct = 0;
  int64_t tokens = 0;
  for (int64_t b = 0; b < n; ++b) {
    const Batch batch = loader.next();
    const CrossEntropyResult ce =
        cross_entropy(tape, model.forward(tape, batch.inputs_BxT), batch.targets_BxT.reshape({-1}),
                      pad_id);
    loss_sum += static_cast<double>(ce.loss->value[0]) * ce.n_valid;
    correct += ce.accuracy * ce.n_valid;
    tokens += ce.n_valid;
  }
  EvalResult r;
  r.tokens = tokens;
  r.loss = tokens ? loss_sum / tokens : 0;
  r.accuracy = tokens ? correct / tokens : 0;
  r.perplexity = std::exp(r.loss);
  return r;
}

}  // namespace sg
