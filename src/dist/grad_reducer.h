// Data-parallel gradient reduction. Each micro-batch's gradient is completed in the
// parameters' own grad buffers, then added into one flat fp32 accumulator (so a
// parameter used twice in the graph, like the tied embedding, always sums its two parts
// before they meet other micro-batches). The accumulator is summed over ranks in
// buckets, one per contiguous run of a transformer layer's parameters (and runs of the
// others), with non-blocking MPI collectives that start as soon as backward has
// finished with that layer:
//   phase 1  Ialltoallv: rank c receives chunk c of every rank's bucket;
//   phase 2  rank c adds those copies in rank order 0..R-1, then Iallgatherv.
// Summing in rank order makes the result independent of timing, and with one
// micro-batch per rank equal bit for bit to the sequential accumulation of one process.
// Traffic per rank is 2(R-1)/R x the bucket bytes, as a ring all-reduce.
// This is the unit later sharding (reduce-scatter only) builds on.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/param_store.h"

namespace sg::dist {

struct ReduceStats {
  double exposed_ms = 0;   // time finish() waited: communication not hidden by backward
  int64_t grad_bytes = 0;  // fp32 gradient bytes reduced per step
  int64_t wire_bytes = 0;  // bytes each rank sends per step (2(R-1)/R x grad_bytes)
};

class GradReducer {
 public:
  GradReducer(const ParamStore& params, int64_t n_layers);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Before the last local micro-batch's backward: `layer_marks` are the tape sizes at
  // the start of each layer's forward (Tape::marks()); after_backward_step() then adds
  // and starts each layer's bucket as soon as its records have run.
  void arm(const std::vector<size_t>& layer_marks);
  void after_backward_step(size_t record_index);
  // After a micro-batch's backward: adds every bucket not yet added (all of them
  // unless armed), zeroes the parameters' grads; when armed, also starts the buckets.
  void micro_batch_done();
  // Waits for all buckets and writes the global sum into the parameters' grads.
  void finish();
  // The same reduction of the current accumulator, blocking and timed (bench: the
  // communication time when nothing overlaps it). Leaves the accumulator zeroed.
  double blocking_reduce_ms();

  const ReduceStats& stats() const { return stats_; }
  size_t buckets() const;

 private:
  struct Bucket;
  const ParamStore& params_;
  std::vector<Bucket> buckets_;
  std::vector<float> acc_;  // the step's gradient sum, numel_ floats once in use
  int64_t numel_ = 0;
  std::vector<size_t> marks_;
  bool armed_ = false;
  bool accumulated_ = false;  // some micro-batch of this step went into acc_
  bool in_place_ = false;     // single process, single micro-batch: acc_ unused
  ReduceStats stats_;

  void add(Bucket& b);
  void start(Bucket& b);
  void progress();
  void phase2(Bucket& b);
};

}  // namespace sg::dist
