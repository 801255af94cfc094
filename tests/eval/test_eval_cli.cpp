// The inspection commands end to end on a tiny trained run: eval reproduces the
// trainer's validation numbers, intervene reads a pairs file.
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "data/tokenizer.h"
#include "train/checkpoint_model.h"
#include "train/precision.h"

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
      {"name", "tiny"},
      {"seed", 5},
      {"model",
       {{"vocab_size", 320},
        {"d_model", 32},
        {"d_heads", 16},
        {"n_layers", 2},
        {"ffw",
         {{"type", "sgatlin"}, {"d_ffw", 64}, {"n_channels", 2}, {"knn", 4}, {"d_key", 16}}}}},
      {"data",
       {{"train", data + "/train.bin"},
        {"valid", data + "/valid.bin"},
        {"tokenizer", data + "/tokenizer.model"},
        {"batch_size", 3},
        {"seq_len", 32}}},
      {"optimizer", {{"learning_rate", 3e-3}, {"warmup_steps", 2}}},
      {"max_steps", 6},
      {"log_every", 3},
      {"eval_every", 6},
      {"checkpoint_every", 6},
      {"eval_batches", 2}};
  const std::string path = dir.write("tiny.json", cfg.dump(2));
  INFO(out);
  REQUIRE(run(kBin + " train --threads 2 --config " + path + " --workdir " + dir.file("run"),
              &out) == 0);
}

// A minimal .npy v1.0 reader, independent of the writer: header fields by string search.
struct Npy {
  std::string descr;
  std::vector<int64_t> shape;
  std::string data;
};

Npy read_npy(const std::string& path) {
  const std::string bytes = sg::read_file(path);
  REQUIRE(bytes.size() >= 10);
  REQUIRE(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const size_t len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9])
                                                                << 8;
  CHECK((10 + len) % 64 == 0);  // numpy aligns the data to 64 bytes
  const std::string header = bytes.substr(10, len);
  CHECK(header.back() == '\n');
  CHECK(header.find("'fortran_order': False") != std::string::npos);
  Npy n;
  const size_t d = header.find("'descr': '") + 10;
  n.descr = header.substr(d, header.find('\'', d) - d);
  const size_t open = header.find('(') + 1;
  std::istringstream dims(header.substr(open, header.find(')') - open));
  std::string dim;
  while (std::getline(dims, dim, ','))
    if (dim.find_first_not_of(' ') != std::string::npos) n.shape.push_back(std::stoll(dim));
  n.data = bytes.substr(10 + len);
  return n;
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

TEST_CASE("cli: eval reproduces the trainer's validation, intervene and scope on a tiny run") {
  TempDir dir;
  train_tiny(dir);
  const std::string run_dir = dir.file("run/tiny");
  const nlohmann::json val = last_val_line(run_dir + "/metrics.jsonl");
  REQUIRE(val.contains("val_usage"));
  REQUIRE(val["val_usage"].size() == 2);

  // The trainer validates with batches of min(batch_size, windows) = 3 sequences.
  std::string out;
  REQUIRE(run_stdout(
              kBin + " eval --json --threads 2 --batches 2 --batch-size 3 --checkpoint " + run_dir,
              &out) == 0);
  const auto ev = nlohmann::json::parse(out);
  // Same batches, same code path and thread count: the same doubles.
  CHECK(ev["loss"].get<double>() == val["val_loss"].get<double>());
  CHECK(ev["acc"].get<double>() == val["val_acc"].get<double>());
  CHECK(ev["perplexity_last_token"].get<double>() ==
        val["val_perplexity_last_token"].get<double>());
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
  REQUIRE(run_stdout(kBin + " intervene --json --threads 2 --position 1 --checkpoint " + run_dir +
                         " --pairs " + pairs,
                     &out) == 0);
  const auto iv = nlohmann::json::parse(out);
  const auto& p = iv["pairs"][0];
  CHECK(p["d_clean"].get<double>() == p["d_patched"].get<double>());
  CHECK(p["d_clean"].get<double>() == p["d_cf"].get<double>());
  CHECK(p["recovered"].is_null());
  CHECK(iv["layers"] == nlohmann::json::array({0, 1}));

  // scope: files round-trip, and hold what the model routes for those tokens.
  REQUIRE(run(kBin + " scope --threads 2 --sequences 3 --checkpoint " + run_dir + " --out " +
                  dir.file("scope"),
              &out) == 0);
  const auto index = nlohmann::json::parse(sg::read_file(dir.file("scope/index.json")));
  CHECK(index["format"] == "sgatlin-scope-1");
  CHECK(index["sequences"] == 3);
  const Npy tokens = read_npy(dir.file("scope/tokens.npy"));
  CHECK(tokens.descr == "<i4");
  REQUIRE(tokens.shape == std::vector<int64_t>{3, 32});
  REQUIRE(tokens.data.size() == 3 * 32 * 4);
  std::vector<int32_t> tok_ids(3 * 32);
  std::memcpy(tok_ids.data(), tokens.data.data(), tokens.data.size());
  const sg::Tokenizer tok = sg::Tokenizer::load(dir.file("data/tokenizer.model"));
  for (int s = 0; s < 3; ++s) {
    CHECK(tok_ids[s * 32] == tok.eos_id());
    for (int t = 0; t < 32; ++t) REQUIRE(index["pieces"][s][t] == tok.piece(tok_ids[s * 32 + t]));
  }
  sg::CheckpointModel cm = sg::load_checkpoint_model(run_dir);
  // scope ran the model in the run's own precision (auto: bf16 where the CPU has it).
  const sg::MatmulPrecisionScope restore(sg::matmul_precision());
  sg::apply_precision(sg::saved_model_precision(cm.run_config, {}), cm.dir, /*quiet=*/true);
  for (int l = 0; l < 2; ++l) cm.model->ffw(l).routing()->record = true;
  REQUIRE(index["layers"].size() == 2);
  for (int s = 0; s < 3; ++s) {
    sg::Tape tape;
    cm.model->forward(
        tape, sg::IntTensor::from({1, 32}, std::vector<int32_t>(tok_ids.begin() + s * 32,
                                                                tok_ids.begin() + (s + 1) * 32)));
    for (int l = 0; l < 2; ++l) {
      const auto& entry = index["layers"][l];
      CHECK(entry["layer"] == l);
      const Npy idx = read_npy(dir.file("scope/" + entry["indices"].get<std::string>()));
      const Npy sc = read_npy(dir.file("scope/" + entry["scores"].get<std::string>()));
      CHECK(idx.descr == "<i4");
      CHECK(sc.descr == "<f4");
      REQUIRE(idx.shape == std::vector<int64_t>{3, 32, 2, 4});
      REQUIRE(sc.shape == idx.shape);
      const sg::RoutingTrace& tr = cm.model->ffw(l).routing()->last;
      const size_t per_seq = 32 * 2 * 4 * 4;  // bytes of one sequence's records
      CHECK(std::memcmp(idx.data.data() + s * per_seq, tr.idx_NxCxK.data(), per_seq) == 0);
      CHECK(std::memcmp(sc.data.data() + s * per_seq, tr.scores_NxCxK.data(), per_seq) == 0);
    }
  }

  REQUIRE(run(kBin + " report --scope " + dir.file("scope") + " --top 2 --samples 3", &out) == 0);
  CHECK(sg::read_file(dir.file("scope/report.txt")).find("layer 1 channel 1") != std::string::npos);
  CHECK(sg::read_file(dir.file("scope/report.html")).find("Content-Security-Policy") !=
        std::string::npos);

  // Bad input: a layer that was not recorded, records from another checkpoint (their
  // fingerprint no longer matches): clear errors, and no file of the report is written.
  CHECK(run(kBin + " report --scope " + dir.file("scope") + " --layers 5 --out " + dir.file("r5"),
            &out) == 1);
  CHECK(out.find("layer 5 was not recorded (recorded layers: 0, 1)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("r5/report.html")));
  nlohmann::json other = nlohmann::json::parse(sg::read_file(dir.file("scope/index.json")));
  const std::string real_fp = other["model_fnv1a64"];
  CHECK(real_fp.size() == 16);
  other["model_fnv1a64"] = "0123456789abcdef";
  dir.write("scope/index.json", other.dump());
  CHECK(run(kBin + " report --scope " + dir.file("scope") + " --out " + dir.file("r6"), &out) == 1);
  CHECK(out.find("0123456789abcdef") != std::string::npos);
  CHECK(out.find(real_fp) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("r6")));

  const std::string bad = dir.write(
      "bad.jsonl",
      R"({"clean": "the cat", "counterfactual": "the cat sat on a warm mat", "answers_clean": ["sat"], "answers_cf": ["and"]})"
      "\n");
  CHECK(run(kBin + " intervene --position 0 --checkpoint " + run_dir + " --pairs " + bad, &out) ==
        1);
  CHECK(out.find("equal token lengths") != std::string::npos);
}
