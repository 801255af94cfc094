// `bench --config` under mpirun: data-parallel training steps on random tokens, each
// rank computing batch_size / R sequences, gradients reduced by dist::GradReducer.
#pragma once
#include <cstdint>

#include "train/run_config.h"

namespace sg {

struct DataParallelBenchResult {
  int ranks = 1;
  int64_t tokens_per_step = 0;             // global: batch_size x seq_len
  double step_ms = 0, tokens_per_s = 0;    // median step, global rate
  double compute_ms = 0;                   // median step minus its exposed communication
  double communication_ms = 0;             // median of the same reduction run blocking
  double exposed_ms = 0;                   // median wait for the overlapped reduction
  int64_t grad_bytes = 0, wire_bytes = 0;  // per step: reduced, and sent by each rank
};

// 1 warm-up then `steps` timed steps; every rank must call it (collective).
DataParallelBenchResult bench_data_parallel(const RunConfig& cfg, int64_t steps);

}  // namespace sg
