#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sg {

Progress::Progress(std::string label, int64_t total, int64_t start)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      tty_(isatty(STDERR_FILENO)),
      t0_(Clock::now()),
      last_(t0_ - std::chrono::hours(1)) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(Clock::now() - t0_).count();
}

void Progress::update(int64_t done, const std::string& fields) {
  const auto now = Clock::now();
  if (done < total_ &&
      now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(2)))
    return;
  last_ = now;
  const double s = seconds();
  const double rate = done > start_ ? (done - start_) / s : 0;
  const std::string eta = rate > 0 ? format_duration((total_ - done) / rate) : "?";
  std::fprintf(stderr, "%s%s %lld/%lld %s| elapsed %s ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
               fields.empty() ? "" : (fields + " ").c_str(), format_duration(s).c_str(),
               eta.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
  drawn_ = tty_;
}

void Progress::finish(const std::string& what) {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
  if (!what.empty())
    std::fprintf(stderr, "%s: done, %s in %.1f s\n", label_.c_str(), what.c_str(), seconds());
}

std::string format_duration(double seconds) {
  const long long s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

}  // namespace sg
