// The report's data on hand-made records and weights: checks against the records
// (usage, token index, co-activation), the lens op, and the bad-input errors.
#include "eval/interactive_report.h"

#include <doctest/doctest.h>

#include <map>

#include "test_util.h"
#include "util/error.h"

using namespace sg;

namespace {

// S = 2 sequences of T = 3 tokens, one layer (index 1), C = 2 channels, K = 2 of M = 4.
ScopeData records() {
  ScopeData d;
  d.S = 2, d.T = 3, d.C = 2, d.K = 2, d.M = 4;
  d.checkpoint = "ckpt";
  d.model_fingerprint = "00000000000000aa";
  d.ffw_type = "sgatlin";
  d.tokens_SxT = {1, 5, 6, 1, 5, 5};
  d.pieces_SxT = {"</s>", "a", "b", "</s>", "a", "a"};
  d.layers.push_back({1,
                      {0, 1, 2, 3, 1, 0, 2, 1, 3, 2, 0, 1,  //
                       0, 1, 3, 2, 1, 2, 2, 3, 1, 0, 1, 2},
                      std::vector<float>(24, 0.5f)});
  for (int i = 0; i < 24; ++i) d.layers[0].scores_SxTxCxK[i] = 0.1f * i;
  return d;
}

ReportModel weights(int64_t V, int64_t D) {
  ReportModel m;
  m.dir = "ckpt";
  m.fingerprint = "00000000000000aa";
  m.V = V, m.D = D;
  m.E_VxD = test::to_tensor({V, D}, test::random_vec(V * D, 1));
  m.final_scale_D = test::to_tensor({D}, test::random_vec(D, 2, 0.5, 1.5));
  LensLayer L;
  L.P = 2, L.M = 4;
  L.w_in_PxMxD = test::to_tensor({2, 4, D}, test::random_vec(2 * 4 * D, 3));
  L.w_out_PxMxD = test::to_tensor({2, 4, D}, test::random_vec(2 * 4 * D, 4));
  L.ffn_scale_D = test::to_tensor({D}, test::random_vec(D, 5, 0.5, 1.5));
  m.layers[1] = L;
  for (int64_t v = 0; v < V; ++v) m.vocab.push_back("t" + std::to_string(v));
  return m;
}

}  // namespace

TEST_CASE("report data: usage, token index, co-activation and lens agree with the records") {
  const ScopeData d = records();
  const ReportModel m = weights(8, 6);
  InteractiveOptions o;
  o.lens_k = 3;
  o.map_neighbours = 2;
  std::string text;
  std::map<int64_t, NeuronLens> lens;
  const nlohmann::json j = report_data(d, m, o, &text, &lens);
  REQUIRE(j["layers"].size() == 1);
  const auto& l = j["layers"][0];
  // Usage counts by brute force over the records.
  std::vector<int64_t> counts(d.C * d.M, 0);
  std::map<std::pair<int32_t, std::array<int64_t, 2>>, int64_t> fired;  // (token, (c, n)) -> picks
  for (int64_t t = 0; t < 6; ++t)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t k = 0; k < 2; ++k) {
        const int32_t n = d.layers[0].idx_SxTxCxK[(t * 2 + c) * 2 + k];
        ++counts[c * 4 + n];
        ++fired[{d.tokens_SxT[t], {c, n}}];
      }
  CHECK(l["counts"].get<std::vector<int64_t>>() == counts);
  for (const auto& [tok, list] : j["token_neurons"].items())
    for (const auto& e : list) {
      CHECK(e[0] == 1);
      CHECK(e[3].get<int64_t>() ==
            fired.at({std::stoi(tok), {e[1].get<int64_t>(), e[2].get<int64_t>()}}));
    }
  // Token 5 (positions 1, 4, 5): channel 0 picks {1,0}, {1,2}, {1,0} -> neuron 1 three times;
  // channel 1's neuron 2 too ({2,1}, {2,3}, {1,2}): the tie goes to the lower channel.
  const auto& t5 = j["token_neurons"]["5"];
  CHECK(t5[0] == nlohmann::json({1, 0, 1, 3}));
  // Co-activation: channel 0, neurons 0 and 1 are picked together by tokens 0, 1, 3, 5.
  const auto& co0 = l["coact"][0];
  CHECK(co0["pairs"][0] == nlohmann::json({0, 1, 4}));
  // Lens ids in the data are the lens op's, table by table.
  for (int64_t p = 0; p < 2; ++p) {
    const NeuronLens want = neuron_lens(
        m.layers.at(1).w_in_PxMxD.data() + p * 4 * 6, m.layers.at(1).w_out_PxMxD.data() + p * 4 * 6,
        4, m.E_VxD.data(), 8, 6, m.final_scale_D.data(), m.layers.at(1).ffn_scale_D.data(), 3);
    for (int64_t i = 0; i < 12; ++i) {
      CHECK(l["lens"]["out_top"][p * 12 + i] == want.out_top.ids_NxK[i]);
      CHECK(l["lens"]["in_top"][p * 12 + i] == want.in_top.ids_NxK[i]);
      CHECK(lens.at(1).out_bottom.ids_NxK[p * 12 + i] == want.out_bottom.ids_NxK[i]);
    }
  }
  CHECK(text.find("Linear CKA") != std::string::npos);
  CHECK(l["knn"]["ids"].size() == 6 * 2);
}

TEST_CASE(
    "report data: records from another checkpoint, unrecorded layers, other shapes are refused") {
  ScopeData d = records();
  ReportModel m = weights(8, 6);
  CHECK_NOTHROW(check_scope_matches(d, m, {}));
  CHECK_THROWS_WITH_AS(check_scope_matches(d, m, {0}),
                       doctest::Contains("layer 0 was not recorded (recorded layers: 1)"), Error);
  m.fingerprint = "00000000000000bb";
  CHECK_THROWS_WITH_AS(check_scope_matches(d, m, {}), doctest::Contains("00000000000000aa"), Error);
  m = weights(8, 6);
  m.layers[1].M = 5;
  CHECK_THROWS_WITH_AS(check_scope_matches(d, m, {}), doctest::Contains("2 tables of 5 neurons"),
                       Error);
  m = weights(6, 6);  // token 6 is outside a vocab of 6
  CHECK_THROWS_WITH_AS(check_scope_matches(d, m, {}), doctest::Contains("token 6"), Error);
}
