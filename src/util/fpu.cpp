#include "util/fpu.h"

#include <xmmintrin.h>

#include <cstdlib>
#include <cstring>

namespace sg {

namespace {

constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;  // MXCSR bits

void flush_here() { _mm_setcsr(_mm_getcsr() | kFtz | kDaz); }

}  // namespace

bool flush_denormals_on_all_threads() {
  const char* keep = std::getenv("SGATLIN_KEEP_DENORMALS");
  if (keep && std::strcmp(keep, "1") == 0) return false;
  flush_here();
#pragma omp parallel
  flush_here();
  return true;
}

bool denormals_flushed_here() { return (_mm_getcsr() & (kFtz | kDaz)) == (kFtz | kDaz); }

}  // namespace sg
