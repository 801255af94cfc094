// Denormal handling. AdamW's moments of rarely picked expert rows decay toward denormals
// within a few hundred steps, and x86 arithmetic on denormals is ~100x slower; like
// PyTorch's set_flush_denormal(True), sgatlin flushes them to zero (FTZ: results,
// DAZ: inputs) on every OpenMP thread, set per thread in its MXCSR register.
#pragma once

namespace sg {

// Sets FTZ and DAZ on the calling thread and on every thread of an OpenMP team of the
// current size; call after the thread count is set. Does nothing when the environment
// variable SGATLIN_KEEP_DENORMALS=1 (for measuring what flushing saves). Returns whether
// it flushed.
bool flush_denormals_on_all_threads();

// Whether FTZ and DAZ are both set on the calling thread.
bool denormals_flushed_here();

}  // namespace sg
