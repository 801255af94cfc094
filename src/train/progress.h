// A live progress line for long work: count/total, caller's fields, rate and ETA.
// On a terminal it redraws one line; otherwise it prints a line per update.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace sg {

class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t start = 0);
  // Prints "label done/total fields | ETA"; done counts from `start` for the rate.
  void update(int64_t done, const std::string& fields);
  void finish();  // ends the line on a terminal
  double seconds() const;

 private:
  std::string label_;
  int64_t total_, start_;
  bool tty_;
  std::chrono::steady_clock::time_point t0_;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace sg
