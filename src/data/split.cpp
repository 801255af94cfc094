#include "data/split.h"

#include <algorithm>

#include "tensor/rng.h"
#include "util/error.h"

namespace sg {

std::vector<bool> split_valid(int64_t n_documents, double valid_fraction, uint64_t seed) {
  SG_CHECK(n_documents >= 2, "split: need at least 2 documents (one train, one valid), got ",
           n_documents);
  SG_CHECK(valid_fraction > 0 && valid_fraction < 1,
           "split: valid fraction must be in (0, 1), got ", valid_fraction);
  const RngKey key{seed, stream_of("data.split")};
  std::vector<double> u(static_cast<size_t>(n_documents));
  std::vector<bool> valid(u.size());
  int64_t n_valid = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    u[i] = uniform01(key, i);
    valid[i] = u[i] < valid_fraction;
    n_valid += valid[i];
  }
  if (n_valid == 0) valid[std::min_element(u.begin(), u.end()) - u.begin()] = true;
  if (n_valid == n_documents) valid[std::max_element(u.begin(), u.end()) - u.begin()] = false;
  return valid;
}

}  // namespace sg
