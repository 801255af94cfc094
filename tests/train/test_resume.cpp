// End to end through the CLI: prepare a tiny corpus, train, kill the process with
// SIGKILL mid-run, resume, and compare per-step losses with an uninterrupted run.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "train/checkpoint.h"
#include "train/precision.h"

using namespace sg;
using namespace sg::test;

namespace {

const std::string kBin = SGATLIN_BINARY;

std::string write_config(const TempDir& dir, const std::string& data) {
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
        {"batch_size", 4},
        {"seq_len", 32}}},
      {"optimizer", {{"learning_rate", 3e-3}, {"warmup_steps", 3}, {"n_gradient_accumulation", 2}}},
      {"max_steps", 12},
      {"log_every", 1},
      {"eval_every", 5},
      {"checkpoint_every", 3},
      {"eval_batches", 2}};
  return dir.write("tiny.json", cfg.dump(2));
}

// A tiny generated corpus prepared into dir/<out> (vocab 320); returns that folder.
std::string prepare(const TempDir& dir, const std::string& out, int paragraphs, uint32_t seed) {
  const auto text = dir.write(out + ".txt", join(tiny_paragraphs(paragraphs, seed), "\n\n"));
  std::string log;
  INFO(log);
  REQUIRE(
      run(kBin + " data prepare --corpus " + text + " --out " + dir.file(out) + " --vocab-size 320",
          &log) == 0);
  return dir.file(out);
}

// step -> the metrics line's "loss" as printed (round-trip exact text of the double).
std::map<int64_t, std::string> losses(const std::string& metrics_path) {
  std::map<int64_t, std::string> out;
  std::istringstream in(read_file(metrics_path));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out[j["step"].get<int64_t>()] = j["loss"].dump();
  }
  return out;
}

}  // namespace

// Deterministic for a fixed thread count and bit-identical after SIGKILL + resume, in
// fp32 and, where the CPU has native bf16, in bf16 (bf16 weight copies are rebuilt from
// the fp32 checkpoint on resume, so they must match the ones the optimizer kept).
TEST_CASE("train: a run killed mid-way and resumed logs bit-identical losses") {
  std::vector<std::string> precisions = {"fp32"};
  if (host_cpu().native_bf16())
    precisions.push_back("bf16");
  else
    MESSAGE("no native bf16 on ", host_cpu().model_name, ": bf16 resume not tested");
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir, "data", 300, 4));
  for (const std::string& precision : precisions) {
    CAPTURE(precision);
    std::string out;
    const std::string flags =
        " --threads 2 --set precision=" + precision + " --config " + cfg + " --workdir ";
    const std::string a_dir = dir.file(precision + "_a"), b_dir = dir.file(precision + "_b");

    INFO(out);
    REQUIRE(run(kBin + " train" + flags + a_dir, &out) == 0);
    // Killed right after step 7: checkpoints exist for steps 3 and 6 only.
    const int killed = run("SGATLIN_TEST_KILL_AT_STEP=7 " + kBin + " train" + flags + b_dir, &out);
    CHECK(killed == 128 + 9);  // the shell reports death by SIGKILL as 137
    CHECK(resolve_checkpoint(b_dir + "/tiny").find("step_00000006") != std::string::npos);
    REQUIRE(run(kBin + " train --threads 2 --resume " + b_dir + "/tiny", &out) == 0);

    const auto a = losses(a_dir + "/tiny/metrics.jsonl");
    const auto b = losses(b_dir + "/tiny/metrics.jsonl");
    REQUIRE(a.size() == 12);
    CHECK(a == b);
    CHECK(resolve_checkpoint(b_dir + "/tiny").find("step_00000012") != std::string::npos);
    const auto summary = nlohmann::json::parse(read_file(b_dir + "/tiny/summary.json"));
    CHECK(summary["precision"] == precision);
  }
}

TEST_CASE(
    "train: resume refuses a run in another precision, a bf16 checkpoint evaluates alike in both") {
  if (!host_cpu().native_bf16()) {
    MESSAGE("no native bf16 on ", host_cpu().model_name, ": skipped");
    return;
  }
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir, "data", 200, 6));
  std::string out;
  INFO(out);
  const std::string run_dir = dir.file("w/tiny");
  REQUIRE(run(kBin + " train --threads 2 --config " + cfg + " --workdir " + dir.file("w") +
                  " --set precision=bf16 --set max_steps=5",
              &out) == 0);
  CHECK(out.find("2 threads, bf16") != std::string::npos);  // the run header
  CHECK(run(kBin + " train --threads 2 --resume " + run_dir +
                " --set precision=fp32 --set max_steps=8",
            &out) == 1);
  CHECK(out.find("was trained in bf16") != std::string::npos);
  CHECK(out.find("--set precision=bf16") != std::string::npos);

  // Checkpoints stay fp32: evaluating in fp32 or bf16 differs only by bf16 rounding. The
  // bar is the for a whole bf16 training run against fp32 (0.03 nats); one eval of
  // the same weights differs by ~1e-3 (measured on the KJV model: 6.2205 vs 6.2211).
  auto eval_loss = [&](const std::string& precision) {
    REQUIRE(run(kBin + " eval --threads 2 --json --batches 2 --checkpoint " + run_dir +
                    " --set precision=" + precision,
                &out) == 0);
    return nlohmann::json::parse(out.substr(out.find('{')))["loss"].get<double>();
  };
  const double l16 = eval_loss("bf16"), l32 = eval_loss("fp32");
  CHECK(std::fabs(l16 - l32) < 0.03);
  CHECK(l16 != l32);  // both precisions really ran
}

TEST_CASE("train: bad config values and missing data are reported, nothing is trained") {
  TempDir dir;
  const std::string cfg = write_config(dir, dir.file("nowhere"));
  std::string out;
  CHECK(run(kBin + " train --config " + cfg + " --workdir " + dir.file("w"), &out) == 1);
  CHECK(out.find("data.train") != std::string::npos);
  CHECK(run(kBin + " train --config " + cfg + " --set optimizer.learning_rate=-1", &out) == 1);
  CHECK(out.find("optimizer.learning_rate") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("w/tiny")));
}

TEST_CASE("checkpoint: a truncated model file is rejected with a clear error") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir, "data", 200, 9));
  std::string out;
  REQUIRE(run(kBin + " train --threads 2 --config " + cfg + " --workdir " + dir.file("w") +
                  " --set max_steps=3",
              &out) == 0);
  const std::string ckpt = resolve_checkpoint(dir.file("w/tiny"));
  const auto model = ckpt + "/model.safetensors";
  std::filesystem::resize_file(model, std::filesystem::file_size(model) - 100);
  CHECK(run(kBin + " generate --checkpoint " + dir.file("w/tiny") + " --prompt hi", &out) == 1);
  CHECK(out.find("model.safetensors") != std::string::npos);
  CHECK(out.find("truncated") != std::string::npos);
}

TEST_CASE("train: a diverging run stops with a clear message and keeps its last checkpoint") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir, "data", 200, 3));
  std::string out;
  // lr 1e30 blows the weights up in one update: step 2's loss is not finite.
  const int rc = run(kBin + " train --threads 2 --config " + cfg + " --workdir " + dir.file("w") +
                         " --set optimizer.learning_rate=1e30 --set optimizer.warmup_steps=0"
                         " --set checkpoint_every=1",
                     &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find("step 2: ") != std::string::npos);
  CHECK(out.find("NaN") != std::string::npos);
  CHECK(out.find("is intact") != std::string::npos);
  CHECK(resolve_checkpoint(dir.file("w/tiny")).find("step_00000001") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("w/tiny/summary.json")));
}

TEST_CASE("train: resuming a finished run, a changed config, or a taken folder") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir, "data", 200, 5));
  std::string out;
  const std::string run_dir = dir.file("w/tiny");
  REQUIRE(run(kBin + " train --threads 2 --config " + cfg + " --workdir " + dir.file("w") +
                  " --set max_steps=4",
              &out) == 0);
  const auto first = nlohmann::json::parse(read_file(run_dir + "/summary.json"));
  const std::string tokenizer = read_file(run_dir + "/tokenizer.model");

  // Nothing left to train: the summary is measured again, not zeroed.
  INFO(out);
  REQUIRE(run(kBin + " train --threads 2 --resume " + run_dir, &out) == 0);
  const auto again = nlohmann::json::parse(read_file(run_dir + "/summary.json"));
  CHECK(again["val_loss"] == first["val_loss"]);
  CHECK(again["final_train_loss"] == first["final_train_loss"]);

  CHECK(run(kBin + " train --resume " + run_dir + " --set model.d_model=64", &out) == 1);
  CHECK(out.find("model: ") != std::string::npos);
  CHECK(out.find("differs from the checkpoint") != std::string::npos);

  // A fresh run into the same folder is refused before anything there is rewritten.
  const std::string other = prepare(dir, "data2", 150, 8);
  CHECK(run(kBin + " train --config " + cfg + " --workdir " + dir.file("w") +
                " --set data.tokenizer=" + other + "/tokenizer.model",
            &out) == 1);
  CHECK(out.find("already holds a run") != std::string::npos);
  CHECK(read_file(run_dir + "/tokenizer.model") == tokenizer);
}
