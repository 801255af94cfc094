// Causal patching over a pairs file (see intervene_pairs.h).
#include "eval/intervene_pairs.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "data/tokenizer.h"
#include "eval/intervene.h"
#include "train/checkpoint_model.h"
#include "train/precision.h"
#include "util/error.h"

namespace sg {

namespace {

struct Pair {
  std::string clean, cf;
  std::vector<std::string> answers_clean, answers_cf;
};

std::vector<Pair> read_pairs(const std::string& path) {
  std::ifstream in(path);
  SG_CHECK(in, path, ": cannot open the pairs file");
  std::vector<Pair> pairs;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      pairs.push_back(
          {j.at("clean"), j.at("counterfactual"), j.at("answers_clean"), j.at("answers_cf")});
    } catch (const nlohmann::json::exception& e) {
      fail(path, ":", n,
           ": expected {\"clean\", \"counterfactual\", \"answers_clean\": [...], "
           "\"answers_cf\": [...]}: ",
           e.what());
    }
  }
  SG_CHECK(!pairs.empty(), path, ": no pairs");
  return pairs;
}

std::vector<int32_t> prompt_tokens(const Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids = {tok.eos_id()};
  for (int32_t id : tok.encode(text)) ids.push_back(id);
  return ids;
}

std::vector<int32_t> answer_tokens(const Tokenizer& tok, const std::vector<std::string>& answers) {
  std::vector<int32_t> ids;
  for (const std::string& a : answers) {
    const auto enc = tok.encode(a);
    SG_CHECK(!enc.empty(), "intervene: answer \"", a, "\" encodes to no token");
    ids.push_back(enc[0]);
  }
  return ids;
}

// Prompt position p (0 = first prompt token, negative from the end) -> row of the
// model input of T tokens (eos first).
int64_t input_row(int64_t p, int64_t T, const std::string& what) {
  const int64_t row = p >= 0 ? p + 1 : T + p;
  SG_CHECK(1 <= row && row < T, "intervene: ", what, " ", p, " outside the ", T - 1,
           " prompt tokens");
  return row;
}

}  // namespace

void run_intervene(const InterveneOptions& a) {
  CheckpointModel cm = load_checkpoint_model(a.checkpoint);
  apply_precision(saved_model_precision(cm.run_config, a.overrides), cm.dir);
  Transformer& model = *cm.model;
  const Tokenizer tok = Tokenizer::load(find_tokenizer(cm.dir, cm.run_config));
  std::vector<int64_t> layers = a.layers;
  if (layers.empty())
    for (int64_t l = 0; l < model.config().n_layers; ++l) layers.push_back(l);
  const int64_t V = model.config().vocab_size;

  nlohmann::json rows = nlohmann::json::array();
  double sum_clean = 0, sum_cf = 0, sum_patched = 0, sum_rec = 0;
  int64_t n_rec = 0, flips = 0, ok_clean = 0, ok_cf = 0;
  const std::vector<Pair> pairs = read_pairs(a.pairs);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    const auto clean = prompt_tokens(tok, p.clean), cf = prompt_tokens(tok, p.cf);
    SG_CHECK(clean.size() == cf.size(), a.pairs, ": pair ", i + 1, ": \"", p.clean, "\" has ",
             clean.size() - 1, " tokens but \"", p.cf, "\" has ", cf.size() - 1,
             "; clean and counterfactual must have equal token lengths");
    const int64_t T = static_cast<int64_t>(clean.size());
    std::vector<int64_t> positions;
    if (a.position == "diff") {
      for (int64_t t = 1; t < T; ++t)
        if (clean[t] != cf[t]) positions.push_back(t);
    } else {
      positions.push_back(input_row(std::stoll(a.position), T, "position"));
    }
    const int64_t q = input_row(a.measure, T, "measure position");
    const PatchRun run = patch_routing(model, clean, cf, layers, positions);
    const auto ac = answer_tokens(tok, p.answers_clean), af = answer_tokens(tok, p.answers_cf);
    auto margin = [&](const Tensor& l) { return answer_margin(l.data() + q * V, V, ac, af); };
    const PairOutcome o = pair_outcome(margin(run.logits_clean_TxV), margin(run.logits_cf_TxV),
                                       margin(run.logits_patched_TxV));
    sum_clean += o.d_clean;
    sum_cf += o.d_cf;
    sum_patched += o.d_patched;
    if (std::isfinite(o.recovered)) sum_rec += o.recovered, ++n_rec;
    flips += o.rank_flip;
    ok_clean += o.correct_clean;
    ok_cf += o.correct_cf;
    rows.push_back(
        {{"clean", p.clean},
         {"counterfactual", p.cf},
         {"d_clean", o.d_clean},
         {"d_cf", o.d_cf},
         {"d_patched", o.d_patched},
         {"recovered", std::isfinite(o.recovered) ? nlohmann::json(o.recovered) : nullptr},
         {"rank_flip", o.rank_flip},
         {"correct_clean", o.correct_clean},
         {"correct_cf", o.correct_cf}});
  }
  const double n = static_cast<double>(pairs.size());
  const nlohmann::json mean = {{"pairs", pairs.size()},
                               {"d_clean", sum_clean / n},
                               {"d_cf", sum_cf / n},
                               {"d_patched", sum_patched / n},
                               {"recovered", n_rec ? nlohmann::json(sum_rec / n_rec) : nullptr},
                               {"rank_flip", flips / n},
                               {"correct_clean", ok_clean / n},
                               {"correct_cf", ok_cf / n},
                               {"fact_accuracy", (ok_clean + ok_cf) / (2 * n)}};
  if (a.json) {
    std::cout << nlohmann::json{{"checkpoint", cm.dir},   {"layers", layers},
                                {"position", a.position}, {"measure", a.measure},
                                {"pairs", rows},          {"mean", mean}}
                     .dump(2)
              << "\n";
    return;
  }
  std::printf("%-28s %-28s %9s %9s %9s %9s %4s %3s %3s\n", "clean", "counterfactual", "d_clean",
              "d_cf", "d_patch", "recov", "flip", "okC", "okF");
  for (const auto& r : rows)
    std::printf(
        "%-28.28s %-28.28s %9.3f %9.3f %9.3f %9s %4d %3d %3d\n",
        r["clean"].get<std::string>().c_str(), r["counterfactual"].get<std::string>().c_str(),
        r["d_clean"].get<double>(), r["d_cf"].get<double>(), r["d_patched"].get<double>(),
        r["recovered"].is_null() ? "-" : std::to_string(r["recovered"].get<double>()).c_str(),
        r["rank_flip"].get<bool>(), r["correct_clean"].get<bool>(), r["correct_cf"].get<bool>());
  std::printf(
      "mean over %zu pairs: d_clean %.3f d_cf %.3f d_patched %.3f recovered %s "
      "rank_flip %.3f correct_clean %.3f correct_cf %.3f\n",
      pairs.size(), sum_clean / n, sum_cf / n, sum_patched / n,
      n_rec ? std::to_string(sum_rec / n_rec).c_str() : "-", flips / n, ok_clean / n, ok_cf / n);
}

}  // namespace sg
