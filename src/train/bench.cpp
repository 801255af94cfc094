#include "train/bench.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "nn/counting.h"
#include "nn/transformer.h"
#include "ops/cross_entropy.h"
#include "optim/adamw.h"
#include "tensor/rng.h"
#include "train/precision.h"

#include <sys/resource.h>

namespace sg {

namespace {

IntTensor random_tokens(int64_t B, int64_t T, int64_t V, RngKey key, uint64_t offset) {
  IntTensor t = IntTensor::empty({B, T});
  for (int64_t i = 0; i < B * T; ++i) t[i] = static_cast<int32_t>(uniform01(key, offset + i) * V);
  return t;
}

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace

ModelBenchResult bench_model(const RunConfig& cfg, int64_t steps) {
  const MatmulPrecision precision = resolve_precision(cfg.precision, host_cpu(), "bench").precision;
  const MatmulPrecisionScope scope(precision);
  const int64_t B = cfg.data.batch_size, T = cfg.data.seq_len, V = cfg.model.vocab_size;
  Transformer model(cfg.model, cfg.seed);
  AdamW adamw(model.params(), AdamWConfig{cfg.optimizer.learning_rate, cfg.optimizer.weight_decay,
                                          0.9, 0.999, 1e-8, cfg.optimizer.clip_by_global_norm});
  const RngKey key{cfg.seed, stream_of("bench.tokens")};
  Tape tape;
  auto step = [&](int64_t i) {
    const IntTensor tokens =
        random_tokens(B, T + 1, V, key, static_cast<uint64_t>(i) * B * (T + 1));
    IntTensor inputs = IntTensor::empty({B, T}), targets = IntTensor::empty({B * T});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        inputs[b * T + t] = tokens[b * (T + 1) + t];
        targets[b * T + t] = tokens[b * (T + 1) + t + 1];
      }
    const CrossEntropyResult ce =
        cross_entropy(tape, model.forward(tape, inputs), targets, /*pad_id=*/-1);
    tape.backward(ce.loss);
    {
      ScopedTimer timer(OpKind::optimizer);
      adamw.step(cfg.optimizer.learning_rate);
      model.params().zero_grad();
    }
  };
  step(0);  // warm-up: primitive creation, first-touch allocations
  Profiler& prof = Profiler::get();
  prof.reset();
  prof.enabled = true;
  std::vector<double> ms;
  const size_t live_between_steps = live_tensor_bytes();
  reset_peak_live_tensor_bytes();
  for (int64_t i = 1; i <= steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step(i);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  prof.enabled = false;

  ModelBenchResult r;
  const int64_t n = model.params().numel();
  r.precision = precision_name(precision);
  r.params_bytes = 4 * n;
  r.grads_bytes = 4 * n;
  r.optimizer_bytes = 8 * n;
  r.bf16_copy_bytes = precision == MatmulPrecision::bf16 ? 2 * n : 0;
  r.activation_bytes =
      static_cast<int64_t>(peak_live_tensor_bytes() - live_between_steps) - r.grads_bytes;
  r.peak_rss_bytes = peak_rss_bytes();
  r.steps = steps;
  r.tokens_per_step = B * T;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  r.median_ms = sorted[sorted.size() / 2];
  for (double m : ms) r.mean_ms += m / ms.size();
  r.tokens_per_s = r.tokens_per_step / (r.median_ms / 1e3);
  r.train_flops_per_token = 3.0 * (static_cast<double>(fwd_flops_per_sequence(cfg.model, T)) / T +
                                   2.0 * cfg.model.d_model * V);
  r.gflops = r.tokens_per_s * r.train_flops_per_token / 1e9;
  for (size_t k = 0; k < r.ms_per_step.size(); ++k)
    r.ms_per_step[k] = prof.seconds[k] * 1e3 / steps;
  return r;
}

}  // namespace sg
