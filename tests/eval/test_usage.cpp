// Usage statistics on count vectors with hand-derived values, and the evaluation
// accumulator on hand-made logits, targets and routing records.
#include "eval/usage.h"

#include <cmath>

#include <doctest/doctest.h>

#include "eval/evaluate.h"

using namespace sg;

namespace {

// Hand values are exact rationals, logs and square roots evaluated in double; the only
// error is rounding in the code under test (a few ulp on sums of a handful of terms).
constexpr double kTol = 1e-12;

void check_stats(const UsageStats& s, double ratio, double cv, double used, double entropy) {
  CHECK(s.min_max_ratio == doctest::Approx(ratio).epsilon(kTol));
  CHECK(s.cv == doctest::Approx(cv).epsilon(kTol));
  CHECK(s.frac_used == doctest::Approx(used).epsilon(kTol));
  CHECK(s.entropy == doctest::Approx(entropy).epsilon(kTol));
}

}  // namespace

TEST_CASE("usage: statistics of known count vectors") {
  // {2, 0, 6, 4}: mean 3, variance (1 + 9 + 9 + 1) / 4 = 5, p = 1/6, 0, 1/2, 1/3.
  const int64_t a[] = {2, 0, 6, 4};
  check_stats(usage_stats(a, 4), 0.0, std::sqrt(5.0) / 3, 0.75,
              (std::log(6.0) / 6 + std::log(2.0) / 2 + std::log(3.0) / 3) / std::log(4.0));
  const int64_t uniform[] = {5, 5, 5};
  check_stats(usage_stats(uniform, 3), 1.0, 0.0, 1.0, 1.0);
  // {1, 3}: mean 2, std 1, p = 1/4, 3/4.
  const int64_t b[] = {1, 3};
  check_stats(usage_stats(b, 2), 1.0 / 3, 0.5, 1.0,
              -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)) / std::log(2.0));
  const int64_t none[] = {0, 0, 0};
  check_stats(usage_stats(none, 3), 0, 0, 0, 0);
  const int64_t one[] = {7};
  check_stats(usage_stats(one, 1), 1, 0, 1, 1);
  // Two pools of 2: {1, 3} and {2, 2}; the layer figure is their mean.
  check_stats(pooled_usage_stats({1, 3, 2, 2}, 2), (1.0 / 3 + 1) / 2, 0.25, 1.0,
              (1 - (0.25 * std::log(0.25) + 0.75 * std::log(0.75)) / std::log(2.0)) / 2);
  CHECK_THROWS_AS(pooled_usage_stats({1, 2, 3}, 2), Error);
}

TEST_CASE("usage: picks count into pools by channel, skipping masked rows") {
  // N = 3 rows, C = 2 channels, K = 2 picks of M = 3 neurons.
  const IntTensor idx = IntTensor::from({3, 2, 2}, {0, 1, 2, 2,  //
                                                    1, 1, 0, 2,  //
                                                    2, 0, 1, 1});
  const uint8_t keep[] = {1, 0, 1};
  std::vector<int64_t> two(6, 0);
  add_picks(idx, 0, 3, keep, 2, 3, two);
  CHECK(two == std::vector<int64_t>{2, 1, 1, /*channel 1:*/ 0, 2, 2});
  std::vector<int64_t> folded(3, 0);  // peer: every head counts into one table
  add_picks(idx, 1, 3, nullptr, 1, 3, folded);
  CHECK(folded == std::vector<int64_t>{2, 4, 2});
  std::vector<int64_t> small(3, 0);
  CHECK_THROWS_AS(add_picks(idx, 0, 3, nullptr, 1, 2, small), Error);  // id 2 >= M
}

TEST_CASE("eval: loss, accuracy, perplexities and usage on a hand-checkable batch") {
  ModelConfig m;
  m.vocab_size = 3;
  m.d_model = 8;
  m.d_heads = 4;
  m.n_layers = 1;
  m.ffw = {"sgatlin", 3, 2, 1, 4, "dense", "identity"};  // C = 2 pools of M = 3, K = 1
  Transformer model(m, 0);
  RecordRouting record(model);
  // B = 2, T = 3, pad id 2: sequence 1 has one real target.
  const int32_t pad = 2;
  const IntTensor targets = IntTensor::from({2, 3}, {0, 1, 0, 1, pad, pad});
  const float l2 = std::log(2.0f);
  const Tensor logits = Tensor::from({6, 3}, {l2, 0, 0,    // p(0) = 1/2: loss ln 2, correct
                                              l2, 0, 0,    // p(1) = 1/4: loss ln 4, wrong
                                              0, 0, 0,     // tie -> argmax 0: loss ln 3, correct
                                              0, l2, 0,    // p(1) = 1/2: loss ln 2, correct
                                              5, -1, 3,    // pad
                                              -4, 2, 9});  // pad
  // Picks per row: channel 0, channel 1.
  model.ffw(0).routing()->last = {IntTensor::from({6, 2, 1}, {0, 2, 0, 2, 1, 2, 2, 0, 1, 0, 1, 0}),
                                  Tensor::zeros({6, 2, 1})};
  EvalAccumulator acc(model, pad);
  acc.add(logits, targets);
  const EvalResult r = acc.result();
  const double ln2 = std::log(2.0), ln3 = std::log(3.0);
  // Logits are fp32 (ln 2 rounded to float, rel. error ~3e-8) and the loss is an fp32
  // log-sum-exp: agreement to ~1e-6 relative is what fp32 allows.
  const double tol = 1e-6;
  CHECK(r.tokens == 4);
  CHECK(r.sequences == 2);
  CHECK(r.loss == doctest::Approx((4 * ln2 + ln3) / 4).epsilon(tol));
  CHECK(r.accuracy == doctest::Approx(0.75));
  CHECK(r.perplexity == doctest::Approx(std::pow(48.0, 0.25)).epsilon(tol));
  CHECK(r.perplexity_last_token == doctest::Approx(std::sqrt(6.0)).epsilon(tol));

  REQUIRE(r.usage.size() == 1);
  const LayerUsage& u = r.usage[0];
  CHECK(u.sequences == 2);
  // Whole set (rows 0-3): pool 0 counts {2, 1, 1}, pool 1 counts {1, 0, 3}.
  const double h0 = 1.5 * ln2 / ln3, h1 = -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)) / ln3;
  check_stats(u.set, 0.25, (std::sqrt(2.0) / 4 + std::sqrt(14.0) / 4) / 2, 5.0 / 6, (h0 + h1) / 2);
  // Sequence 0: pool 0 {2, 1, 0}, pool 1 {0, 0, 3}. Sequence 1: {0, 0, 1} and {1, 0, 0}.
  const double h_seq0 = -(2.0 / 3 * std::log(2.0 / 3) + 1.0 / 3 * std::log(1.0 / 3)) / ln3 / 2;
  const double cv_seq0 = (std::sqrt(2.0 / 3) + std::sqrt(2.0)) / 2, cv_seq1 = std::sqrt(2.0);
  check_stats(u.per_sequence, 0, (cv_seq0 + cv_seq1) / 2, (0.5 + 1.0 / 3) / 2, h_seq0 / 2);
}

TEST_CASE("usage: recorded picks of sgatlin, peer and moe layers add up to their own pick counts") {
  // The layers count picks themselves (router / moe op); the records are a separate path.
  for (const char* type : {"sgatlin", "peer", "moe"}) {
    INFO(type);
    ModelConfig m;
    m.vocab_size = 37;
    m.d_model = 32;
    m.d_heads = 16;
    m.n_layers = 2;
    m.ffw =
        std::string(type) == "moe"
            ? FfwConfig{"moe", 8, 5, 2, 8, "product_dense", "identity"}
            : FfwConfig{
                  type,      16,
                  3,         2,
                  8,         type == std::string("peer") ? "product_key_value" : "product_dense",
                  "identity"};
    Transformer model(m, 2);
    RecordRouting record(model);
    IntTensor tok = IntTensor::empty({2, 7});
    for (int64_t i = 0; i < 14; ++i) tok[i] = static_cast<int32_t>((i * 11 + 3) % 37);
    Tape tape;
    NoGradGuard ng(tape);
    model.forward(tape, tok);
    const PoolShape ps = usage_pools(m.ffw);
    for (int64_t l = 0; l < 2; ++l) {
      std::vector<int64_t> counts(ps.pools * ps.size, 0);
      add_picks(model.ffw(l).routing()->last.idx_NxCxK, 0, 14, nullptr, ps.pools, ps.size, counts);
      CHECK(counts == model.ffw(l).pick_counts());
    }
  }
}
