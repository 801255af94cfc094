#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>

#include "ops/cross_entropy.h"

namespace sg {

RecordRouting::RecordRouting(Transformer& model) {
  for (int64_t l = 0; l < model.config().n_layers; ++l)
    if (RoutingHook* h = model.ffw(l).routing()) {
      saved_.push_back({h, h->record});
      h->record = true;
    }
}

RecordRouting::~RecordRouting() {
  for (auto& [h, was] : saved_) h->record = was;
}

EvalAccumulator::EvalAccumulator(Transformer& model, int32_t pad_id) : model_(model), pad_(pad_id) {
  const PoolShape ps = usage_pools(model.config().ffw);
  for (int64_t l = 0; l < model.config().n_layers; ++l)
    if (ps.pools > 0 && model.ffw(l).routing()) {
      layers_.push_back(l);
      pools_.push_back(ps);
      totals_.emplace_back(ps.pools * ps.size, 0);
    }
  seq_sums_.resize(layers_.size());
  seq_counted_.resize(layers_.size(), 0);
}

void EvalAccumulator::add(const Tensor& logits_BTxV, const IntTensor& targets_BxT) {
  const int64_t B = targets_BxT.dim(0), T = targets_BxT.dim(1);
  Tape tape;
  NoGradGuard no_grad(tape);
  const CrossEntropyResult ce =
      cross_entropy(tape, make_var(logits_BTxV), targets_BxT.reshape({-1}), pad_);
  loss_sum_ += static_cast<double>(ce.loss->value[0]) * ce.n_valid;
  correct_ += ce.accuracy * ce.n_valid;
  tokens_ += ce.n_valid;
  std::vector<uint8_t> keep(B * T);
  for (int64_t i = 0; i < B * T; ++i) keep[i] = targets_BxT[i] != pad_;
  for (int64_t b = 0; b < B; ++b) {
    int64_t last = -1;
    for (int64_t t = 0; t < T; ++t)
      if (keep[b * T + t]) last = t;
    if (last < 0) continue;  // an all-pad sequence has no last token
    last_loss_sum_ += ce.loss_N[b * T + last];
    ++sequences_;
  }
  for (size_t j = 0; j < layers_.size(); ++j) {
    const RoutingHook* h = model_.ffw(layers_[j]).routing();
    SG_CHECK(h->record && h->last.idx_NxCxK.defined() && h->last.idx_NxCxK.dim(0) == B * T,
             "evaluate: layer ", layers_[j], " holds no routing record of this batch");
    const PoolShape ps = pools_[j];
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int64_t> seq(ps.pools * ps.size, 0);
      add_picks(h->last.idx_NxCxK, b * T, (b + 1) * T, keep.data(), ps.pools, ps.size, seq);
      if (std::all_of(seq.begin(), seq.end(), [](int64_t c) { return c == 0; })) continue;
      for (size_t i = 0; i < seq.size(); ++i) totals_[j][i] += seq[i];
      const UsageStats s = pooled_usage_stats(seq, ps.pools);
      seq_sums_[j].min_max_ratio += s.min_max_ratio;
      seq_sums_[j].cv += s.cv;
      seq_sums_[j].frac_used += s.frac_used;
      seq_sums_[j].entropy += s.entropy;
      ++seq_counted_[j];
    }
  }
}

EvalResult EvalAccumulator::result() const {
  EvalResult r;
  r.tokens = tokens_;
  r.sequences = sequences_;
  r.loss = tokens_ ? loss_sum_ / tokens_ : 0;
  r.accuracy = tokens_ ? correct_ / tokens_ : 0;
  r.perplexity = std::exp(r.loss);
  r.perplexity_last_token = std::exp(sequences_ ? last_loss_sum_ / sequences_ : 0);
  for (size_t j = 0; j < layers_.size(); ++j) {
    LayerUsage u;
    u.layer = layers_[j];
    u.type = model_.config().ffw.type;
    u.set = pooled_usage_stats(totals_[j], pools_[j].pools);
    u.sequences = seq_counted_[j];
    const double n = std::max<int64_t>(1, seq_counted_[j]);
    u.per_sequence = {seq_sums_[j].min_max_ratio / n, seq_sums_[j].cv / n,
                      seq_sums_[j].frac_used / n, seq_sums_[j].entropy / n};
    r.usage.push_back(u);
  }
  return r;
}

std::vector<double> EvalAccumulator::sums() const {
  std::vector<double> flat = {loss_sum_, correct_, last_loss_sum_, static_cast<double>(tokens_),
                              static_cast<double>(sequences_)};
  for (size_t j = 0; j < layers_.size(); ++j) {
    flat.insert(flat.end(), totals_[j].begin(), totals_[j].end());
    const UsageStats& s = seq_sums_[j];
    flat.insert(flat.end(), {s.min_max_ratio, s.cv, s.frac_used, s.entropy,
                             static_cast<double>(seq_counted_[j])});
  }
  return flat;
}

void EvalAccumulator::load_sums(const std::vector<double>& flat) {
  SG_CHECK(flat.size() == sums().size(), "evaluate: ", flat.size(), " sums for an accumulator of ",
           sums().size());
  size_t i = 0;
  loss_sum_ = flat[i++];
  correct_ = flat[i++];
  last_loss_sum_ = flat[i++];
  tokens_ = static_cast<int64_t>(flat[i++]);
  sequences_ = static_cast<int64_t>(flat[i++]);
  for (size_t j = 0; j < layers_.size(); ++j) {
    for (int64_t& t : totals_[j]) t = static_cast<int64_t>(flat[i++]);
    seq_sums_[j] = {flat[i], flat[i + 1], flat[i + 2], flat[i + 3]};
    seq_counted_[j] = static_cast<int64_t>(flat[i + 4]);
    i += 5;
  }
}

EvalResult evaluate(Transformer& model, Loader& loader, int64_t max_batches, int32_t pad_id) {
  const int64_t per_epoch =
      std::max<int64_t>(1, loader.windows_per_epoch() / std::max<int64_t>(1, loader.batch_size()));
  const int64_t n = max_batches > 0 ? std::min(max_batches, per_epoch) : per_epoch;
  Tape tape;
  NoGradGuard no_grad(tape);
  RecordRouting record(model);
  EvalAccumulator acc(model, pad_id);
  for (int64_t b = 0; b < n; ++b) {
    const Batch batch = loader.next();
    acc.add(model.forward(tape, batch.inputs_BxT)->value, batch.targets_BxT);
  }
  return acc.result();
}

}  // namespace sg
