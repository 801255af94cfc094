#include "data/unigram.h"

#include <cmath>

#include "data/data_test_util.h"
#include "data/shard.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("unigram: add-one smoothed cross-entropy worked by hand") {
  TempDir dir;
  // fit: ids 3,3,4 + eos 1 after the document, V = 5 -> counts+1 = [1, 2, 1, 3, 2], total 9.
  ShardWriter fit(dir.file("fit.bin"), 5);
  const int32_t doc[] = {3, 3, 4};
  fit.add_document(doc, 3, 1);
  fit.finish();
  // eval: ids 3, then eos 1 -> loss = -(ln(3/9) + ln(2/9)) / 2.
  ShardWriter eval(dir.file("eval.bin"), 5);
  const int32_t doc2[] = {3};
  eval.add_document(doc2, 1, 1);
  eval.finish();
  const double want = -(std::log(3.0 / 9) + std::log(2.0 / 9)) / 2;
  CHECK(unigram_loss(TokenShard(dir.file("fit.bin")), TokenShard(dir.file("eval.bin"))) ==
        doctest::Approx(want).epsilon(1e-12));
}
