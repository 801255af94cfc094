// Router patching (see intervene.h). Legend: T tokens, V vocab, C channels, K picks,
// R patched rows.
#include "eval/intervene.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "nn/ffw_types.h"
#include "util/error.h"

namespace sg {

namespace {

// Logits [T, V] of one sequence; the routing hooks record or patch as they are set.
Tensor run_one(Transformer& model, const std::vector<int32_t>& tokens) {
  Tape tape;
  NoGradGuard no_grad(tape);
  const IntTensor t = IntTensor::from({1, static_cast<int64_t>(tokens.size())}, tokens);
  return model.forward(tape, t)->value;
}

// Rows `positions` of a trace [T, C, K] as an override.
RoutingOverride take_rows(const RoutingTrace& tr, const std::vector<int64_t>& positions) {
  const int64_t R = static_cast<int64_t>(positions.size()), C = tr.idx_NxCxK.dim(1),
                K = tr.idx_NxCxK.dim(2);
  RoutingOverride o{positions, IntTensor::empty({R, C, K}), Tensor::empty({R, C, K})};
  for (int64_t r = 0; r < R; ++r) {
    std::memcpy(o.idx_RxCxK.data() + r * C * K, tr.idx_NxCxK.data() + positions[r] * C * K,
                C * K * sizeof(int32_t));
    std::memcpy(o.scores_RxCxK.data() + r * C * K, tr.scores_NxCxK.data() + positions[r] * C * K,
                C * K * sizeof(float));
  }
  return o;
}

double logsumexp_of(const float* logits_V, int64_t V, const std::vector<int32_t>& ids) {
  SG_CHECK(!ids.empty(), "intervene: an answer list is empty");
  double hi = -std::numeric_limits<double>::infinity();
  for (int32_t i : ids) {
    SG_CHECK(0 <= i && i < V, "intervene: answer token id ", i, " outside the vocabulary [0, ", V,
             ")");
    hi = std::max(hi, static_cast<double>(logits_V[i]));
  }
  double s = 0;
  for (int32_t i : ids) s += std::exp(logits_V[i] - hi);
  return hi + std::log(s);
}

}  // namespace

PatchRun patch_routing(Transformer& model, const std::vector<int32_t>& clean,
                       const std::vector<int32_t>& cf, const std::vector<int64_t>& layers,
                       const std::vector<int64_t>& positions) {
  SG_CHECK(clean.size() == cf.size(), "intervene: clean prompt has ", clean.size(),
           " tokens but the counterfactual has ", cf.size(), "; they must be equal");
  const int64_t T = static_cast<int64_t>(clean.size());
  std::vector<RoutingHook*> hooks;
  for (int64_t l : layers) {
    SG_CHECK(0 <= l && l < model.config().n_layers, "intervene: layer ", l, " outside [0, ",
             model.config().n_layers, ")");
    RoutingHook* h = model.ffw(l).routing();
    const std::string& type = model.config().ffw.type;
    const FfwTypeInfo* t = find_ffw_type(type);
    SG_CHECK(h && t && t->patchable, "intervene: layer ", l, " is ", type,
             "; router patching needs sgatlin or peer layers");
    hooks.push_back(h);
  }
  for (int64_t p : positions)
    SG_CHECK(0 <= p && p < T, "intervene: position ", p, " outside the ", T, " prompt tokens");
  // The hooks belong to the model: leave them as found, even when a forward throws.
  struct Restore {
    std::vector<RoutingHook*>& hs;
    std::vector<bool> was;
    ~Restore() {
      for (size_t i = 0; i < hs.size(); ++i) {
        hs[i]->record = was[i];
        hs[i]->patch.reset();
      }
    }
  } restore{hooks, {}};
  for (RoutingHook* h : hooks) {
    restore.was.push_back(h->record);
    h->record = true;
    h->patch.reset();
  }
  PatchRun out;
  out.logits_clean_TxV = run_one(model, clean);
  out.logits_cf_TxV = run_one(model, cf);
  for (RoutingHook* h : hooks) h->patch = take_rows(h->last, positions);
  out.logits_patched_TxV = run_one(model, clean);
  return out;
}

double answer_margin(const float* logits_V, int64_t V, const std::vector<int32_t>& answers_a,
                     const std::vector<int32_t>& answers_b) {
  return logsumexp_of(logits_V, V, answers_a) - logsumexp_of(logits_V, V, answers_b);
}

PairOutcome pair_outcome(double d_clean, double d_cf, double d_patched) {
  PairOutcome o{d_clean, d_cf, d_patched};
  o.recovered = d_clean != d_cf ? (d_clean - d_patched) / (d_clean - d_cf)
                                : std::numeric_limits<double>::quiet_NaN();
  o.rank_flip = d_patched < 0;
  o.correct_clean = d_clean > 0;
  o.correct_cf = d_cf < 0;
  return o;
}

}  // namespace sg
