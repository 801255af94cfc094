#include "cli/commands.h"

#include <omp.h>

#include "util/fpu.h"

namespace sg::cli {

int apply_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  flush_denormals_on_all_threads();
  return omp_get_max_threads();
}

}  // namespace sg::cli
