// Routing record/override hook and router patching. The override is checked against a
// naive double-precision sgatlin sum; patching against the runs it is made of.
#include "eval/intervene.h"

#include <cmath>
#include <cstring>

#include "ops/cross_entropy.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

ModelConfig tiny_model(const std::string& type) {
  ModelConfig m;
  m.vocab_size = 37;
  m.d_model = 32;
  m.d_heads = 16;
  m.n_layers = 2;
  m.ffw = {type, 16, 2, 2, 8, type == "peer" ? "product_key_value" : "product_dense", "identity"};
  return m;
}

std::vector<int32_t> random_tokens(int64_t T, int64_t V, uint32_t seed) {
  std::vector<int32_t> t;
  for (double r : random_vec(T, seed, 0, 1)) t.push_back(static_cast<int32_t>(r * V));
  return t;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("routing hook: an override of chosen rows is what the sgatlin layer computes with") {
  // N = 5 tokens, D = 7, C = 2 channels of E = 9 neurons, K = 2.
  const int64_t N = 5, D = 7, C = 2, E = 9, K = 2;
  ParamStore ps;
  const FfwConfig cfg{"sgatlin", E, C, K, 4, "key_value", "identity"};
  auto ffw = make_feedforward(cfg, D, "f", ps, 3);
  const Tensor x = to_tensor({N, D}, random_vec(N * D, 11));
  const std::vector<int64_t> rows = {1, 4};
  const IntTensor idx = IntTensor::from({2, C, K}, {8, 0, 3, 5, 2, 2, 7, 1});
  const Tensor s = to_tensor({2, C, K}, {0.5, -1.25, 2.0, 0.75, -0.3, 1.1, 0.9, -2.0});
  ffw->routing()->patch = RoutingOverride{rows, idx, s};
  ffw->routing()->record = true;
  Tape tape;
  const Tensor y = ffw->forward(tape, make_var(x))->value;
  const std::vector<double> w_in = to_double(ps.get("f.experts.w_in")->value),
                            w_out = to_double(ps.get("f.experts.w_out")->value);
  for (int64_t r = 0; r < 2; ++r) {
    std::vector<double> want(D, 0.0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = idx[(r * C + c) * K + k];
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += x[rows[r] * D + d] * w_in[(c * E + i) * D + d];
        for (int64_t d = 0; d < D; ++d)
          want[d] += s[(r * C + c) * K + k] * dot * w_out[(c * E + i) * D + d];
      }
    // fp32 sums of 2*2 products of ~O(1) terms against a double reference.
    check_close(y.data() + rows[r] * D, want, 1e-5, 1e-6, "patched row");
  }
  // The record holds what was used: the override at the patched rows.
  const RoutingTrace& tr = ffw->routing()->last;
  CHECK(std::memcmp(tr.idx_NxCxK.data() + 4 * C * K, idx.data() + C * K, C * K * 4) == 0);
  CHECK(tr.scores_NxCxK[4 * C * K + 3] == s[C * K + 3]);
  ffw->routing()->patch = RoutingOverride{{5}, idx.rows(0, 1), s.rows(0, 1)};
  CHECK_THROWS_WITH_AS(ffw->forward(tape, make_var(x)), doctest::Contains("row 5"), Error);
}

TEST_CASE("routing hook: recording leaves the loss and every gradient bit-identical") {
  for (const char* type : {"sgatlin", "peer"}) {
    INFO(type);
    Transformer model(tiny_model(type), 4);
    const IntTensor tok = IntTensor::from({2, 7}, random_tokens(14, 37, 5));
    const IntTensor tgt = IntTensor::from({2, 7}, random_tokens(14, 37, 6));
    auto loss_and_grads = [&](bool record) {
      for (int64_t l = 0; l < 2; ++l) model.ffw(l).routing()->record = record;
      model.params().zero_grad();
      Tape tape;
      VarP loss = cross_entropy(tape, model.forward(tape, tok), tgt.reshape({-1}), -1).loss;
      tape.backward(loss);
      std::vector<Tensor> g = {loss->value.clone()};
      for (const auto& p : model.params().all()) g.push_back(p.var->grad.clone());
      return g;
    };
    const auto off = loss_and_grads(false), on = loss_and_grads(true);
    REQUIRE(off.size() == on.size());
    for (size_t i = 0; i < off.size(); ++i) CHECK(same(off[i], on[i]));
  }
}

TEST_CASE(
    "routing hook: patching every row with its own record keeps the output, cuts router grads") {
  Transformer model(tiny_model("sgatlin"), 4);
  const IntTensor tok = IntTensor::from({1, 9}, random_tokens(9, 37, 7));
  const IntTensor tgt = IntTensor::from({1, 9}, random_tokens(9, 37, 8));
  auto run = [&] {
    model.params().zero_grad();
    Tape tape;
    VarP loss = cross_entropy(tape, model.forward(tape, tok), tgt.reshape({-1}), -1).loss;
    tape.backward(loss);
    return loss->value[0];
  };
  for (int64_t l = 0; l < 2; ++l) model.ffw(l).routing()->record = true;
  const float plain = run();
  const Tensor w_out_grad = model.params().get("layers.1.ffn.experts.w_out")->grad.clone();
  // Only layer 1 is patched, so layer 0's record (and routing) stays the model's own.
  RoutingHook* h = model.ffw(1).routing();
  h->patch = RoutingOverride{{0, 1, 2, 3, 4, 5, 6, 7, 8}, h->last.idx_NxCxK, h->last.scores_NxCxK};
  const float patched = run();
  CHECK(patched == plain);
  CHECK(same(model.params().get("layers.1.ffn.experts.w_out")->grad, w_out_grad));
  // Replaced scores are constants: nothing reaches layer 1's router.
  for (const char* name :
       {"layers.1.ffn.router.w_key.weight", "layers.1.ffn.router.w_sub.weight"}) {
    const VarP p = model.params().get(name);
    INFO(name);
    if (p->has_grad())
      for (int64_t i = 0; i < p->grad.numel(); ++i) REQUIRE(p->grad[i] == 0.0f);
  }
  CHECK(model.params().get("layers.0.ffn.router.w_key.weight")->has_grad());
}

TEST_CASE("intervene: counterfactual = clean changes nothing") {
  for (const char* type : {"sgatlin", "peer"}) {
    INFO(type);
    Transformer model(tiny_model(type), 9);
    const auto clean = random_tokens(11, 37, 1);
    const PatchRun r = patch_routing(model, clean, clean, {0, 1}, {0, 3, 10});
    CHECK(same(r.logits_clean_TxV, r.logits_cf_TxV));
    CHECK(same(r.logits_clean_TxV, r.logits_patched_TxV));
    // The hooks are left as found.
    CHECK_FALSE(model.ffw(0).routing()->patch.has_value());
    CHECK_FALSE(model.ffw(1).routing()->record);
  }
}

TEST_CASE(
    "intervene: patching all layers at every position routes the clean run like the "
    "counterfactual") {
  Transformer model(tiny_model("sgatlin"), 9);
  const int64_t T = 11, V = 37;
  const auto clean = random_tokens(T, V, 1);
  auto cf = clean;
  cf[4] = (cf[4] + 5) % V;  // one token differs
  std::vector<int64_t> all(T);
  for (int64_t t = 0; t < T; ++t) all[t] = t;
  for (int64_t l = 0; l < 2; ++l) model.ffw(l).routing()->record = true;
  const PatchRun r = patch_routing(model, clean, cf, {0, 1}, all);
  // Records of the patched run (the hook's `last`, kept since record was on) equal the
  // counterfactual routing, obtained here from a fresh counterfactual run.
  std::vector<RoutingTrace> patched_tr;
  for (int64_t l = 0; l < 2; ++l) patched_tr.push_back(model.ffw(l).routing()->last);
  {
    Tape tape;
    NoGradGuard ng(tape);
    model.forward(tape, IntTensor::from({1, T}, cf));
  }
  for (int64_t l = 0; l < 2; ++l) {
    const RoutingTrace& want = model.ffw(l).routing()->last;
    CHECK(std::memcmp(patched_tr[l].idx_NxCxK.data(), want.idx_NxCxK.data(),
                      want.idx_NxCxK.numel() * 4) == 0);
    CHECK(same(patched_tr[l].scores_NxCxK, want.scores_NxCxK));
  }
  CHECK(same(r.logits_cf_TxV.rows(0, 4), r.logits_clean_TxV.rows(0, 4)));  // causal model
  CHECK_FALSE(same(r.logits_patched_TxV.rows(4, T), r.logits_clean_TxV.rows(4, T)));
  // Patching only position 7 of layer 1: earlier positions keep the clean logits
  // exactly, position 7 (where the routing differs) changes.
  const PatchRun one = patch_routing(model, clean, cf, {1}, {7});
  CHECK(same(one.logits_patched_TxV.rows(0, 7), one.logits_clean_TxV.rows(0, 7)));
  CHECK_FALSE(same(one.logits_patched_TxV.rows(7, 8), one.logits_clean_TxV.rows(7, 8)));
  CHECK_THROWS_WITH_AS(patch_routing(model, clean, random_tokens(T - 1, V, 2), {0}, {0}),
                       doctest::Contains("must be equal"), Error);
  CHECK_THROWS_WITH_AS(patch_routing(model, clean, cf, {2}, {0}), doctest::Contains("layer 2"),
                       Error);
}

TEST_CASE("intervene: answer margin and pair outcome by hand") {
  // logits over V = 4: logsumexp(1, 2) - logsumexp(0) = log(e + e^2).
  const float logits[] = {1.0f, 2.0f, 0.0f, -3.0f};
  // One fp32 rounding of the logits involved; computed in double from there.
  CHECK(answer_margin(logits, 4, {0, 1}, {2}) ==
        doctest::Approx(std::log(std::exp(1.0) + std::exp(2.0))));
  CHECK(answer_margin(logits, 4, {3}, {2}) == doctest::Approx(-3.0));
  CHECK_THROWS_AS(answer_margin(logits, 4, {4}, {2}), Error);
  const PairOutcome o = pair_outcome(2.0, -1.0, 0.5);
  CHECK(o.recovered == doctest::Approx(0.5));  // (2 - 0.5) / (2 + 1)
  CHECK_FALSE(o.rank_flip);
  CHECK(o.correct_clean);
  CHECK(o.correct_cf);
  CHECK(pair_outcome(1.0, 0.5, -0.2).rank_flip);
  CHECK(std::isnan(pair_outcome(1.0, 1.0, 0.0).recovered));
}
