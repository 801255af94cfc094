// Graceful preemption: the first SIGTERM or SIGINT (what Slurm and Ctrl-C send) only
// sets a flag; the trainer finishes its step, checkpoints and throws Stopped. A second
// signal exits at once.
#pragma once
#include "util/error.h"

namespace sg {

// The run stopped early on request; the message says how to resume. Not a failure of
// the run, but the process still exits non-zero so schedulers do not call it done.
class Stopped : public Error {
 public:
  using Error::Error;
};
constexpr int kStoppedExitCode = 3;

// Installs the handlers while alive and restores the previous ones after.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  static bool requested();
  static const char* name();  // "SIGTERM" / "SIGINT" once requested
};

}  // namespace sg
