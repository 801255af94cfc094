// Graceful preemption without MPI: a real SIGTERM finishes the step, checkpoints and
// exits "stopped"; the run resumes bit-identically to one never interrupted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "train/checkpoint.h"
#include "train/stop_signal.h"

using namespace sg;
using namespace sg::test;

namespace {

const std::string kBin = SGATLIN_BINARY;

std::string config(const TempDir& dir, int steps) {
  const auto text = dir.write("c.txt", join(tiny_paragraphs(300, 4), "\n\n"));
  std::string log;
  REQUIRE(run(kBin + " data prepare --corpus " + text + " --out " + dir.file("data") +
                  " --vocab-size 320",
              &log) == 0);
  const std::string data = dir.file("data");
  const nlohmann::json cfg = {
      {"name", "tiny"},
      {"seed", 5},
      {"model",
       {{"vocab_size", 320},
        {"d_model", 32},
        {"d_heads", 16},
        {"n_layers", 2},
        {"ffw", {{"type", "mlp"}, {"d_ffw", 64}}}}},
      {"data",
       {{"train", data + "/train.bin"},
        {"valid", data + "/valid.bin"},
        {"tokenizer", data + "/tokenizer.model"},
        {"batch_size", 4},
        {"seq_len", 32}}},
      {"optimizer", {{"learning_rate", 3e-3}, {"warmup_steps", 3}, {"n_gradient_accumulation", 2}}},
      {"max_steps", steps},
      {"log_every", 1},
      {"eval_every", 1000},
      {"checkpoint_every", 1000},
      {"eval_batches", 1}};
  return dir.write("tiny.json", cfg.dump(2));
}

std::string losses(const std::string& run_dir) {
  std::istringstream in(read_file(run_dir + "/metrics.jsonl"));
  std::string line, out;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out += j["step"].dump() + " " + j["loss"].dump() + "\n";
  }
  return out;
}

int64_t logged_steps(const std::string& metrics) {
  std::ifstream in(metrics);
  return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
}

}  // namespace

TEST_CASE("train: SIGTERM finishes the step and checkpoints and the run resumes bit-identically") {
  TempDir dir;
  const std::string cfg = config(dir, 400);
  std::string out;
  INFO(out);
  // Reference: 400 steps uninterrupted.
  REQUIRE(run(kBin + " train --threads 1 --config " + cfg + " --workdir " + dir.file("a"), &out) ==
          0);

  const std::string log_file = dir.file("b.log");
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string cmd = "exec " + kBin + " train --threads 1 --config " + cfg + " --workdir " +
                            dir.file("b") + " > " + log_file + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Signal once a few steps are logged (checkpoint_every is 1000: nothing saved yet).
  const std::string metrics = dir.file("b/tiny/metrics.jsonl");
  for (int i = 0; i < 3000 && logged_steps(metrics) < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  out = read_file(log_file);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == kStoppedExitCode);
  CHECK(out.find("stopped by a signal after step") != std::string::npos);
  CHECK(out.find("resume with: sgatlin train --resume " + dir.file("b/tiny")) != std::string::npos);
  const std::string ckpt = resolve_checkpoint(dir.file("b/tiny"));
  CHECK(ckpt.find("step_00000400") == std::string::npos);  // stopped early

  REQUIRE(run(kBin + " train --threads 1 --resume " + dir.file("b/tiny"), &out) == 0);
  CHECK(losses(dir.file("b/tiny")) == losses(dir.file("a/tiny")));
  CHECK(read_file(resolve_checkpoint(dir.file("a/tiny")) + "/model.safetensors") ==
        read_file(resolve_checkpoint(dir.file("b/tiny")) + "/model.safetensors"));
}

TEST_CASE("stop signals: the first SIGTERM only sets the flag, a second one exits at once") {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // child: no doctest macros here, the exit status is the verdict
    const StopSignals signals;
    if (StopSignals::requested()) _exit(10);
    raise(SIGTERM);
    if (!StopSignals::requested() || std::string(StopSignals::name()) != "SIGTERM") _exit(11);
    raise(SIGTERM);
    _exit(12);  // not reached: the second signal exits from the handler
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
}
