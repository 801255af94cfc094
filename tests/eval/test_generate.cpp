#include "eval/generate.h"

#include "test_util.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("generate: KV-cache decoding draws the same tokens as full recomputation") {
  ModelConfig m;
  m.vocab_size = 41;
  m.d_model = 32;
  m.d_heads = 8;
  m.n_layers = 2;
  m.ffw.type = "sgatlin";
  m.ffw.d_ffw = 16;
  m.ffw.n_channels = 2;
  m.ffw.knn = 2;
  m.ffw.d_key = 8;
  Transformer model(m, 7);
  for (double temperature : {0.0, 1.0}) {
    SampleOptions opt;
    opt.max_tokens = 12;
    opt.temperature = temperature;
    opt.top_k = 10;
    opt.seed = 3;
    opt.use_cache = true;
    const auto cached = generate(model, {1, 5, 9}, opt);
    opt.use_cache = false;
    const auto full = generate(model, {1, 5, 9}, opt);
    CHECK(cached.size() == 12);
    CHECK(cached == full);
  }
}

TEST_CASE("generate: sampling follows temperature and top-k") {
  const float logits[5] = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
  SampleOptions greedy;
  greedy.temperature = 0;
  CHECK(sample_next(logits, 5, greedy, 0) == 1);  // tie between 1 and 3 -> lower index
  SampleOptions top2;
  top2.top_k = 2;
  top2.temperature = 1.0;
  int counts[5] = {0, 0, 0, 0, 0};
  for (uint64_t c = 0; c < 4000; ++c) ++counts[sample_next(logits, 5, top2, c)];
  CHECK(counts[0] + counts[2] + counts[4] == 0);  // outside the top 2
  // Equal logits -> equal odds; 4000 draws: std of a count is ~32, so 200 is > 6 sigma.
  CHECK(std::abs(counts[1] - counts[3]) < 200);
}
