// Progress of a long step on stderr: "label: 1200/31102 (3.9%)" at most every two
// seconds, and "label: done, 31102 in 1.3 s" at the end.
#pragma once
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>

namespace sg {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::ostream& out = std::cerr)
      : label_(std::move(label)), total_(total), out_(out), start_(Clock::now()), last_(start_) {}

  void update(int64_t done) {
    const auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(2)) return;
    last_ = now;
    out_ << label_ << ": " << done << "/" << total_ << " (" << std::fixed << std::setprecision(1)
         << (total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0)
         << "%)" << std::endl;
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  void finish(const std::string& what) {
    out_ << label_ << ": done, " << what << " in " << std::fixed << std::setprecision(2)
         << seconds() << " s" << std::endl;
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  std::ostream& out_;
  Clock::time_point start_, last_;
};

}  // namespace sg
