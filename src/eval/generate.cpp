#include "eval/generate.h"

#include <algorithm>
#include <cmath>

#include "ops/topk.h"
#include "tensor/rng.h"

namespace sg {

int32_t sample_next(const float* logits_V, int64_t V, const SampleOptions& opt, uint64_t counter) {
  const int64_t k = opt.top_k > 0 ? std::min(opt.top_k, V) : V;
  std::vector<float> vals(k);
  std::vector<int32_t> idx(k);
  topk_row(logits_V, V, k, vals.data(), idx.data());
  if (opt.temperature <= 0) return idx[0];
  std::vector<float> probs(k);
  for (int64_t i = 0; i < k; ++i)
    probs[i] = static_cast<float>(std::exp((vals[i] - vals[0]) / opt.temperature));
  return idx[sample_categorical(probs.data(), k, {opt.seed, stream_of("generate")}, counter)];
}

std::vector<int32_t> generate(Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& opt,
                              const std::function<void(int32_t)>& on_token) {
  SG_CHECK(!prompt.empty(), "generate: the prompt has no tokens");
  const int64_t V = model.config().vocab_size;
  std::vector<int32_t> seq = prompt, out;
  KVCache cache;
  Tape tape;
  NoGradGuard no_grad(tape);
  IntTensor feed = IntTensor::from({1, static_cast<int64_t>(prompt.size())}, prompt);
  for (int64_t step = 0; step < opt.max_tokens; ++step) {
    Tensor logits_TxV;
    if (opt.use_cache) {
      logits_TxV = model.forward_cached(feed, cache);
    } else {
      logits_TxV =
          model.forward(tape, IntTensor::from({1, static_cast<int64_t>(seq.size())}, seq))->value;
    }
    const int64_t last = logits_TxV.dim(0) - 1;
    const int32_t next = sample_next(logits_TxV.data() + last * V, V, opt, step);
    out.push_back(next);
    seq.push_back(next);
    if (on_token) on_token(next);
    if (next == opt.stop_id) break;
    feed = IntTensor::from({1, 1}, {next});
  }
  return out;
}

}  // namespace sg
