#include "cli/commands.h"

#include <omp.h>

namespace sg::cli {

int apply_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  return omp_get_max_threads();
}

}  // namespace sg::cli
