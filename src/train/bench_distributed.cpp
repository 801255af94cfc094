#include "train/bench_distributed.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "dist/comm.h"
#include "dist/grad_reducer.h"
#include "nn/transformer.h"
#include "ops/cross_entropy.h"
#include "optim/adamw.h"
#include "tensor/rng.h"
#include "util/error.h"

namespace sg {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

DataParallelBenchResult bench_data_parallel(const RunConfig& cfg, int64_t steps) {
  const int R = dist::size();
  const int64_t T = cfg.data.seq_len, V = cfg.model.vocab_size;
  SG_CHECK(cfg.data.batch_size % R == 0, "bench: data.batch_size = ", cfg.data.batch_size,
           " does not split over ", R, " ranks");
  const int64_t B = cfg.data.batch_size / R;
  Transformer model(cfg.model, cfg.seed);
  AdamW adamw(model.params(), AdamWConfig{cfg.optimizer.learning_rate, cfg.optimizer.weight_decay,
                                          0.9, 0.999, 1e-8, cfg.optimizer.clip_by_global_norm});
  dist::GradReducer reducer(model.params(), cfg.model.n_layers);
  const RngKey key{cfg.seed, stream_of("bench.tokens")};
  Tape tape;
  std::vector<double> step_ms, exposed_ms, comm_ms;
  for (int64_t i = 0; i <= steps; ++i) {  // step 0 warms up
    IntTensor inputs = IntTensor::empty({B, T}), targets = IntTensor::empty({B * T});
    const uint64_t offset = (static_cast<uint64_t>(i) * R + dist::rank()) * B * T * 2;
    for (int64_t j = 0; j < B * T; ++j) {
      inputs[j] = static_cast<int32_t>(uniform01(key, offset + 2 * j) * V);
      targets[j] = static_cast<int32_t>(uniform01(key, offset + 2 * j + 1) * V);
    }
    dist::any(false);  // start the ranks together
    const auto t0 = std::chrono::steady_clock::now();
    const CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, inputs), targets, -1);
    reducer.arm(tape.marks());
    tape.backward(ce.loss, [&](size_t k) { reducer.after_backward_step(k); });
    reducer.micro_batch_done();
    reducer.finish();
    adamw.step(cfg.optimizer.learning_rate);
    model.params().zero_grad();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // The same bytes once more, blocking: what communication costs when nothing hides it.
    const double blocking = reducer.blocking_reduce_ms();
    if (i == 0) continue;
    step_ms.push_back(ms);
    exposed_ms.push_back(reducer.stats().exposed_ms);
    comm_ms.push_back(blocking);
  }
  DataParallelBenchResult r;
  r.ranks = R;
  r.tokens_per_step = cfg.data.batch_size * T;
  r.step_ms = median(step_ms);
  r.exposed_ms = median(exposed_ms);
  r.communication_ms = median(comm_ms);
  std::vector<double> compute(step_ms.size());
  for (size_t k = 0; k < compute.size(); ++k) compute[k] = step_ms[k] - exposed_ms[k];
  r.compute_ms = median(compute);
  r.tokens_per_s = r.tokens_per_step / (r.step_ms / 1e3);
  r.grad_bytes = reducer.stats().grad_bytes;
  r.wire_bytes = reducer.stats().wire_bytes;
  return r;
}

}  // namespace sg
