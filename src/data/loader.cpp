// Dimension letters: B batch, T seq_len, W windows per epoch.
#include "data/loader.h"

#include <numeric>

#include "data/shard.h"
#include "tensor/rng.h"
#include "util/error.h"

namespace sg {

Loader::Loader(const std::string& shard_path, int64_t batch_size, int64_t seq_len, uint64_t seed,
               int32_t eos_id, bool shuffle)
    : shard_(std::make_unique<TokenShard>(shard_path)),
      batch_size_(batch_size),
      seq_len_(seq_len),
      seed_(seed),
      eos_(eos_id),
      shuffle_(shuffle) {
  SG_CHECK(batch_size > 0 && seq_len > 0, "Loader(", shard_path, "): batch_size ", batch_size,
           " and seq_len ", seq_len, " must be positive");
  SG_CHECK(eos_id >= 0 && eos_id < shard_->vocab_size(), "Loader(", shard_path, "): eos id ",
           eos_id, " outside the shard's vocabulary [0, ", shard_->vocab_size(), ")");
  SG_CHECK(windows_per_epoch() >= 1, "Loader(", shard_path, "): the shard has ", tokens(),
           " tokens, fewer than one window of seq_len ", seq_len);
  // The permutation counter packs (epoch, index) into 64 bits.
  SG_CHECK(windows_per_epoch() < (int64_t{1} << 32), "Loader(", shard_path, "): too many windows");
  make_order();
}

Loader::~Loader() = default;

// Windows are the non-overlapping chunks [w*T, (w+1)*T); the tail shorter than T is
// never used.
int64_t Loader::windows_per_epoch() const { return shard_->tokens() / seq_len_; }

int64_t Loader::tokens() const { return shard_->tokens(); }

// Fisher-Yates driven by Philox(seed, "data.loader") at counter (epoch, i), so the
// order of any epoch can be rebuilt from the state alone.
void Loader::make_order() {
  const int64_t W = windows_per_epoch();
  order_.resize(static_cast<size_t>(W));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (!shuffle_) return;
  const RngKey key{seed_, stream_of("data.loader")};
  for (int64_t i = W - 1; i > 0; --i) {
    const uint64_t counter = (static_cast<uint64_t>(state_.epoch) << 32) | static_cast<uint64_t>(i);
    const auto j = static_cast<int64_t>(uniform01(key, counter) * static_cast<double>(i + 1));
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
  }
}

Batch Loader::next() {
  const int64_t B = batch_size_, T = seq_len_;
  Batch b{IntTensor::empty({B, T}), IntTensor::empty({B, T})};
  for (int64_t r = 0; r < B; ++r) {
    if (state_.cursor == windows_per_epoch()) {
      ++state_.epoch;
      state_.cursor = 0;
      make_order();
    }
    const int64_t w = order_[static_cast<size_t>(state_.cursor++)];
    int32_t* targets_T = b.targets_BxT.data() + r * T;
    int32_t* inputs_T = b.inputs_BxT.data() + r * T;
    shard_->read(w * T, T, targets_T);
    inputs_T[0] = eos_;  // spec §4: inputs = [eos, x0, ..., x_{T-2}]
    std::copy(targets_T, targets_T + T - 1, inputs_T + 1);
  }
  return b;
}

void Loader::restore(LoaderState s) {
  SG_CHECK(s.epoch >= 0 && s.cursor >= 0 && s.cursor <= windows_per_epoch(),
           "Loader::restore: state (epoch ", s.epoch, ", cursor ", s.cursor,
           ") does not fit a shard with ", windows_per_epoch(), " windows of ", seq_len_,
           " tokens (was the checkpoint made with another shard or seq_len?)");
  state_ = s;
  make_order();
}

}  // namespace sg
