// Deterministic train/valid split of documents: document i goes to valid when
// uniform01(Philox(seed, "data.split"), i) < valid_fraction, so membership depends
// only on (seed, i), not on the other documents. At least one document lands on each
// side: if none was drawn for valid, the one with the smallest draw moves there; if
// all were, the one with the largest draw moves to train.
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

std::vector<bool> split_valid(int64_t n_documents, double valid_fraction, uint64_t seed);

}  // namespace sg
