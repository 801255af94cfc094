// Training batches from a token shard: documents are already joined with eos in the
// shard; the stream is cut into windows of seq_len tokens, the window order is
// shuffled per epoch from the seed, and the position (epoch, cursor) is saved in
// checkpoints so a resumed run sees exactly the same batches. Windows are the
// non-overlapping chunks [w*T, (w+1)*T) of the shard (a tail shorter than T is unused);
// a batch that runs past the end of an epoch continues with the next epoch's order.
// shuffle = false keeps the windows in shard order every epoch (validation): a full
// pass is windows_per_epoch() windows, so with batch_size not dividing it the last
// batch of a pass wraps to the start.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sg {

struct Batch {
  IntTensor inputs_BxT;   // [eos, x0, ..., x_{T-2}] (spec §4)
  IntTensor targets_BxT;  // [x0, ..., x_{T-1}]
};

struct LoaderState {
  int64_t epoch = 0;
  int64_t cursor = 0;  // next window within the epoch's permutation
};

class TokenShard;

class Loader {
 public:
  Loader(const std::string& shard_path, int64_t batch_size, int64_t seq_len, uint64_t seed,
         int32_t eos_id, bool shuffle = true);
  ~Loader();
  Batch next();
  int64_t windows_per_epoch() const;
  int64_t batch_size() const { return batch_size_; }
  int64_t seq_len() const { return seq_len_; }
  int64_t tokens() const;  // tokens in the shard
  LoaderState state() const { return state_; }
  void restore(LoaderState s);

 private:
  std::unique_ptr<TokenShard> shard_;
  int64_t batch_size_, seq_len_;
  uint64_t seed_;
  int32_t eos_;
  bool shuffle_;
  LoaderState state_;
  std::vector<int64_t> order_;
  void make_order();
};

}  // namespace sg
