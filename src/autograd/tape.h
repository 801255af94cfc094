// The autograd tape. Each fused op computes its forward eagerly and, when the tape
// is recording and some input requires a gradient, pushes a closure that holds what
// its backward needs. backward() replays the closures in reverse; each closure reads
// its output's grad (skipping when none arrived) and adds into the grads of the inputs
// that require one: += into an existing grad, or, through Var::grad_for, a plain write
// into a fresh buffer when no gradient has arrived yet.
#pragma once
#include <functional>
#include <utility>
#include <vector>

#include "autograd/var.h"
#include "util/profiler.h"

namespace sg {

class Tape {
 public:
  // True when an op with these inputs must record its backward.
  template <typename... V>
  bool needs_grad(const V&... inputs) const {
    return recording_ && (false || ... || (inputs && inputs->requires_grad));
  }
  void record(std::function<void()> backward_fn) { steps_.push_back(std::move(backward_fn)); }
  // The preamble every op's backward shares: time it as `kind`, and run `body` only
  // when gradient reached `out` (a branch of the graph the loss does not use gets none).
  template <typename F>
  void record_backward(OpKind kind, VarP out, F body) {
    record([kind, out = std::move(out), body = std::move(body)] {
      ScopedTimer timer(kind);
      if (!out->has_grad()) return;
      body();
    });
  }
  // The same, untimed: for ops whose kernels time themselves (matmuls) or cost nothing.
  template <typename F>
  void record_backward(VarP out, F body) {
    record([out = std::move(out), body = std::move(body)] {
      if (!out->has_grad()) return;
      body();
    });
  }

  // Seeds d(loss)/d(loss) = 1 for a scalar loss, replays the tape, then clears it.
  // `after_step(i)`, when given, runs after record i has run (data-parallel training
  // starts reducing a layer's gradients as soon as its records are done).
  void backward(const VarP& loss, const std::function<void(size_t)>& after_step = {});
  // Replays with whatever output grads the caller seeded (tests, partial graphs).
  void replay(const std::function<void(size_t)>& after_step = {});
  void clear() {
    steps_.clear();
    marks_.clear();
  }
  // Notes the current record count (the transformer marks where each layer starts).
  void mark() { marks_.push_back(steps_.size()); }
  const std::vector<size_t>& marks() const { return marks_; }
  size_t size() const { return steps_.size(); }

  bool recording() const { return recording_; }
  void set_recording(bool on) { recording_ = on; }

 private:
  std::vector<std::function<void()>> steps_;
  std::vector<size_t> marks_;
  bool recording_ = true;
};

// Evaluation mode: ops record nothing and keep no activations for backward.
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape& tape) : tape_(tape), was_(tape.recording()) {
    tape.set_recording(false);
  }
  ~NoGradGuard() { tape_.set_recording(was_); }

 private:
  Tape& tape_;
  bool was_;
};

}  // namespace sg
