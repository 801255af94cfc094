#include "util/profiler.h"

namespace sg {

Profiler& Profiler::get() {
  static Profiler p;
  return p;
}

void Profiler::charge_top(Clock::time_point now) {
  if (!stack_.empty())
    seconds[static_cast<size_t>(stack_.back())] +=
        std::chrono::duration<double>(now - last_).count();
  last_ = now;
}

void Profiler::enter(OpKind k) {
  charge_top(Clock::now());
  stack_.push_back(k);
}

void Profiler::leave() {
  charge_top(Clock::now());
  if (!stack_.empty()) stack_.pop_back();
}

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::matmul: return "matmul";
    case OpKind::attention: return "attention";
    case OpKind::routing: return "routing";
    case OpKind::experts: return "expert gather/scatter";
    case OpKind::norm_rope: return "rmsnorm + rope";
    case OpKind::embedding: return "embedding";
    case OpKind::loss: return "cross-entropy";
    case OpKind::elementwise: return "elementwise";
    case OpKind::optimizer: return "optimizer";
    case OpKind::count: break;
  }
  return "?";
}

}  // namespace sg
