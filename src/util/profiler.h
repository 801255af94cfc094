// Wall-time breakdown by op kind for `sgatlin bench`. Off by default: a disabled
// ScopedTimer costs one branch. Timers must not nest within one kind.
#pragma once
#include <array>
#include <chrono>

namespace sg {

enum class OpKind { matmul, attention, routing, experts, norm_rope, embedding, loss, elementwise,
                    optimizer, count };
const char* op_kind_name(OpKind k);

class Profiler {
 public:
  static Profiler& get();
  bool enabled = false;
  std::array<double, static_cast<size_t>(OpKind::count)> seconds{};
  void reset() { seconds.fill(0); }
};

class ScopedTimer {
 public:
  explicit ScopedTimer(OpKind kind) : kind_(kind), on_(Profiler::get().enabled) {
    if (on_) t0_ = std::chrono::steady_clock::now();
  }
  ~ScopedTimer() {
    if (on_)
      Profiler::get().seconds[static_cast<size_t>(kind_)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  OpKind kind_;
  bool on_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace sg
