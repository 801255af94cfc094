#include "data/unigram.h"

#include <cmath>
#include <vector>

namespace sg {

double unigram_loss(const TokenShard& fit, const TokenShard& eval) {
  const int64_t V = fit.vocab_size();
  std::vector<double> count(V, 1.0);  // add-one: unseen tokens keep a finite loss
  for (int64_t i = 0; i < fit.tokens(); ++i) count[fit[i]] += 1;
  const double total = static_cast<double>(fit.tokens() + V);
  double loss = 0;
  for (int64_t i = 0; i < eval.tokens(); ++i) loss -= std::log(count[eval[i]] / total);
  return eval.tokens() ? loss / eval.tokens() : 0;
}

}  // namespace sg
