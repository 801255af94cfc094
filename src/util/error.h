// Errors that carry context: every message names what failed (op, file, JSON path)
// and what was expected, so a user can fix the input without reading the source.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sg {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// cat("a", 1, "b") -> "a1b": message building without <format> (GCC 12 lacks it).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace sg

#define SG_CHECK(cond, ...)               \
  do {                                    \
    if (!(cond)) ::sg::fail(__VA_ARGS__); \
  } while (0)
