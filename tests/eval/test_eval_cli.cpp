// The inspection commands end to end on a tiny trained run: eval reproduces the
// trainer's validation numbers, intervene reads a pairs file.
#include <nlohmann/json.hpp>

#include "data/data_test_util.h"

using namespace sg::test;

namespace {

const std::string kBin = SGATLIN_BINARY;

// Prepares a tiny corpus and trains a 2-layer sgatlin model for 6 steps in dir/run/tiny.
void train_tiny(const TempDir& dir) {
  const auto text = dir.write("t.txt", join(tiny_paragraphs(300, 4), "\n\n"));
  std::string out;
  REQUIRE(run(kBin + " data prepare --corpus " + text + " --out " + dir.file("data") +
                  " --vocab-size 320",
              &out) == 0);
  const std::string data = dir.file("data");
  const nlohmann::json cfg = {
      {"name", "tiny"}, {"seed", 5},
      {"model", {{"vocab_size", 320}, {"d_model", 32}, {"d_heads", 16}, {"n_layers", 2},
                 {"ffw", {{"type", "sgatlin"}, {"d_ffw", 64}, {"n_channels", 2}, {"knn", 4},
                          {"d_key", 16}}}}},
      {"data", {{"train", data + "/train.bin"}, {"valid", data + "/valid.bin"},
                {"tokenizer", data + "/tokenizer.model"}, {"batch_size", 3}, {"seq_len", 32}}},
      {"optimizer", {{"learning_rate", 3e-3}, {"warmup_steps", 2}}},
      {"max_steps", 6}, {"log_every", 3}, {"eval_every", 6}, {"checkpoint_every", 6},
      {"eval_batches", 2}};
  const std::string path = dir.write("tiny.json", cfg.dump(2));
  INFO(out);
  REQUIRE(run(kBin + " train --threads 2 --config " + path + " --workdir " + dir.file("run"), &out) == 0);
}

nlohmann::json last_val_line(const std::string& metrics) {
  std::istringstream in(sg::read_file(metrics));
  std::string line;
  nlohmann::json last;
  while (std::getline(in, line))
    if (auto j = nlohmann::json::parse(line); j.contains("val_loss")) last = j;
  return last;
}

}  // namespace

TEST_CASE("cli: eval reproduces the trainer's validation; intervene checks its pairs") {
  TempDir dir;
  train_tiny(dir);
  const std::string run_dir = dir.file("run/tiny");
  const nlohmann::json val = last_val_line(run_dir + "/metrics.jsonl");
  REQUIRE(val.contains("val_usage"));
  REQUIRE(val["val_usage"].size() == 2);

  // The trainer validates with batches of min(batch_size, windows) = 3 sequences.
  std::string out;
  REQUIRE(run(kBin + " eval --json --threads 2 --batches 2 --batch-size 3 --checkpoint " + run_dir, &out) == 0);
  const auto ev = nlohmann::json::parse(out);
  // Same batches, same code path and thread count: the same doubles.
  CHECK(ev["loss"].get<double>() == val["val_loss"].get<double>());
  CHECK(ev["acc"].get<double>() == val["val_acc"].get<double>());
  CHECK(ev["perplexity_last_token"].get<double>() == val["val_perplexity_last_token"].get<double>());
  CHECK(ev["usage"] == val["val_usage"]);
  CHECK(ev["tokens"].get<int64_t>() == 2 * 3 * 32);
  CHECK(ev["sequences"].get<int64_t>() == 6);
  for (const auto& u : ev["usage"]) {
    CHECK(u["type"] == "sgatlin");
    CHECK(u["sequences"].get<int64_t>() == 6);
    const double used = u["set"]["frac_used"].get<double>();
    CHECK((0 < used && used <= 1));
  }
  REQUIRE(run(kBin + " eval --threads 2 --batches 1 --checkpoint " + run_dir, &out) == 0);
  CHECK(out.find("perplexity_last_token") != std::string::npos);
  CHECK(out.find("layer 1 (sgatlin)") != std::string::npos);

  // A pair whose counterfactual is the clean prompt: nothing moves, no effect to recover.
  const std::string pairs = dir.write(
      "pairs.jsonl",
      R"({"clean": "the cat sat on the", "counterfactual": "the cat sat on the", "answers_clean": ["mat"], "answers_cf": ["tree"]})"
      "\n");
  REQUIRE(run(kBin + " intervene --json --threads 2 --position 1 --checkpoint " + run_dir +
                  " --pairs " + pairs, &out) == 0);
  const auto iv = nlohmann::json::parse(out);
  const auto& p = iv["pairs"][0];
  CHECK(p["d_clean"].get<double>() == p["d_patched"].get<double>());
  CHECK(p["d_clean"].get<double>() == p["d_cf"].get<double>());
  CHECK(p["recovered"].is_null());
  CHECK(iv["layers"] == nlohmann::json::array({0, 1}));

  const std::string bad = dir.write(
      "bad.jsonl",
      R"({"clean": "the cat", "counterfactual": "the cat sat on a warm mat", "answers_clean": ["sat"], "answers_cf": ["and"]})"
      "\n");
  CHECK(run(kBin + " intervene --position 0 --checkpoint " + run_dir + " --pairs " + bad, &out) == 1);
  CHECK(out.find("equal token lengths") != std::string::npos);
}
