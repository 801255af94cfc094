// Wall-time breakdown by op kind for `sgatlin bench`. Time is exclusive: an op kind
// that runs inside another (a matmul inside a router) pauses the outer one, so the
// kinds add up to the step time. Off by default: a disabled timer costs one branch.
// Ops run on the calling thread (OpenMP only inside them), so one stack suffices.
#pragma once
#include <array>
#include <chrono>
#include <vector>

namespace sg {

enum class OpKind {
  matmul,
  attention,
  routing,
  experts,
  norm_rope,
  embedding,
  loss,
  elementwise,
  optimizer,
  count
};
const char* op_kind_name(OpKind k);

class Profiler {
 public:
  using Clock = std::chrono::steady_clock;
  static Profiler& get();
  bool enabled = false;
  std::array<double, static_cast<size_t>(OpKind::count)> seconds{};
  void reset() { seconds.fill(0); }
  void enter(OpKind k);
  void leave();

 private:
  void charge_top(Clock::time_point now);
  std::vector<OpKind> stack_;
  Clock::time_point last_;
};

class ScopedTimer {
 public:
  explicit ScopedTimer(OpKind kind) : on_(Profiler::get().enabled) {
    if (on_) Profiler::get().enter(kind);
  }
  ~ScopedTimer() {
    if (on_) Profiler::get().leave();
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  bool on_;
};

}  // namespace sg
