// Neuron report pieces on hand-made scope records (S = 1 or 2 sequences, C = 2, K = 2).
#include "eval/neuron_report.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "eval/npy.h"
#include "util/error.h"
#include "util/file_io.h"

using namespace sg;

namespace {

// One layer, S = 1, T = 4, C = 2 channels, K = 2 of M = 3 neurons.
ScopeData tiny() {
  ScopeData d;
  d.S = 1, d.T = 4, d.C = 2, d.K = 2, d.M = 3;
  d.tokens_SxT = {1, 5, 6, 7};
  d.pieces_SxT = {"</s>",
                  "\xe2\x96\x81"
                  "the",
                  "\xe2\x96\x81"
                  "cat",
                  "<b>"};
  // Per token: channel 0 picks, channel 1 picks.
  d.layers.push_back({0,
                      {0, 1, 2, 0,  //
                       1, 2, 2, 1,  //
                       1, 0, 2, 0,  //
                       2, 1, 0, 1},
                      {0.5f, 0.1f, 0.2f, 0.3f,  //
                       0.9f, 0.4f, 0.6f, 0.2f,  //
                       0.7f, 0.8f, 0.1f, 0.5f,  //
                       0.3f, 0.9f, 0.4f, 0.6f}});
  return d;
}

}  // namespace

TEST_CASE("neuron report: most used neurons and their strongest contexts") {
  const ScopeData d = tiny();
  const auto top = top_neurons(d, 1, 3);
  REQUIRE(top.size() == 2);  // one neuron per channel
  // Channel 0 picks: 0 1 | 1 2 | 1 0 | 2 1 -> neuron 1 picked 4 times.
  CHECK(top[0].channel == 0);
  CHECK(top[0].neuron == 1);
  CHECK(top[0].count == 4);
  // Its scores by token: 0.1 (t0), 0.9 (t1), 0.7 (t2), 0.9 (t3): 0.9 t1, 0.9 t3, 0.7 t2.
  REQUIRE(top[0].contexts.size() == 3);
  CHECK(top[0].contexts[0].pos == 1);
  CHECK(top[0].contexts[1].pos == 3);
  CHECK(top[0].contexts[2].pos == 2);
  CHECK(top[0].contexts[2].score == 0.7f);
  // Channel 1 picks: 2 0 | 2 1 | 2 0 | 0 1 -> 0 and 2 both 3 times; the lower id wins.
  CHECK(top[1].channel == 1);
  CHECK(top[1].neuron == 0);
  CHECK(top[1].count == 3);
}

TEST_CASE("neuron report: nearest gating patterns by cosine of pick sets") {
  const ScopeData d = tiny();
  // Token 0 picks {c0: 0, 1; c1: 2, 0}. Shared with t1 {1, 2; 2, 1}: c0 1, c1 2 -> 2 of 4;
  // t2 {1, 0; 2, 0}: all 4; t3 {2, 1; 0, 1}: c0 1, c1 0 -> 2 of 4.
  const auto nb = nearest_tokens(d, 0, 0, 3);
  REQUIRE(nb.size() == 3);
  CHECK(nb[0].pos == 2);
  CHECK(nb[0].cosine == doctest::Approx(1.0));
  CHECK(nb[1].pos == 1);
  CHECK(nb[1].cosine == doctest::Approx(0.5));
  CHECK(nb[2].pos == 3);
  CHECK(nb[2].cosine == doctest::Approx(0.5));
  CHECK(context_text(d, 0, 2, 1, 1) == " the[ cat]<b>");
}

TEST_CASE("neuron report: files load back and the text report lists neurons and contexts") {
  test::TempDir dir;
  const ScopeData d = tiny();
  write_npy(dir.file("tokens.npy"), d.tokens_SxT.data(), {1, 4});
  write_npy(dir.file("i.npy"), d.layers[0].idx_SxTxCxK.data(), {1, 4, 2, 2});
  write_npy(dir.file("s.npy"), d.layers[0].scores_SxTxCxK.data(), {1, 4, 2, 2});
  const nlohmann::json index = {
      {"format", "sgatlin-scope-1"},
      {"sequences", 1},
      {"seq_len", 4},
      {"n_channels", 2},
      {"knn", 2},
      {"n_neurons", 3},
      {"tokens", "tokens.npy"},
      {"layers", {{{"layer", 0}, {"indices", "i.npy"}, {"scores", "s.npy"}}}},
      {"pieces", {d.pieces_SxT}}};
  dir.write("index.json", index.dump());
  const ScopeData back = load_scope(dir.path().string());
  CHECK(back.tokens_SxT == d.tokens_SxT);
  CHECK(back.pieces_SxT == d.pieces_SxT);
  CHECK(back.layers[0].idx_SxTxCxK == d.layers[0].idx_SxTxCxK);
  CHECK(back.layers[0].scores_SxTxCxK == d.layers[0].scores_SxTxCxK);

  const std::string txt = neuron_report_text(back, {2, 2, 2, 2});
  CHECK(txt.find("neuron 1 (4 picks)") != std::string::npos);
  CHECK(txt.find(" the[ cat]<b>") != std::string::npos);

  write_npy(dir.file("i.npy"), d.layers[0].idx_SxTxCxK.data(), {1, 4, 4});  // wrong shape
  CHECK_THROWS_WITH_AS(load_scope(dir.path().string()), doctest::Contains("i.npy"), Error);
}
