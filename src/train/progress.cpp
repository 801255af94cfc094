#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sg {

Progress::Progress(std::string label, int64_t total, int64_t start)
    : label_(std::move(label)), total_(total), start_(start), tty_(isatty(STDERR_FILENO)),
      t0_(std::chrono::steady_clock::now()) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void Progress::update(int64_t done, const std::string& fields) {
  const double s = seconds();
  const double rate = done > start_ ? (done - start_) / s : 0;
  const std::string eta = rate > 0 ? format_duration((total_ - done) / rate) : "?";
  std::fprintf(stderr, "%s%s %lld/%lld %s | elapsed %s ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
               fields.c_str(), format_duration(s).c_str(), eta.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

std::string format_duration(double seconds) {
  const long long s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

}  // namespace sg
