// Progress of long work on stderr: "label done/total fields | elapsed ETA". On a
// terminal one line is redrawn (at most 5 times a second); otherwise a line is
// printed at most every 2 seconds, so logs stay readable.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace sg {

class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t start = 0);
  // done counts from `start` for the rate; the final count always prints.
  void update(int64_t done, const std::string& fields = "");
  // Ends the redrawn line; with `what`, prints "label: done, WHAT in 1.2 s".
  void finish(const std::string& what = "");
  double seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_, start_;
  bool tty_, drawn_ = false;
  Clock::time_point t0_, last_;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace sg
