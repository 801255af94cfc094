// Data-parallel training under mpirun (docs/DISTRIBUTED.md), end to end through the
// CLI on the TCP transport over loopback, against the same config trained in one
// process. Ranks run 1 thread each with passive OpenMP waits (2-core CI machine).
#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/stop_signal.h"

using namespace sg;
using namespace sg::test;

namespace {

const std::string kBin = SGATLIN_BINARY;
// As root (CI) OpenMPI needs the two ALLOW variables; --bind-to none keeps parallel
// tests from pinning their ranks onto the same core.
const std::string kEnv =
    "OMP_WAIT_POLICY=passive OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ";

std::string mpirun(int ranks) {
  return kEnv + "mpirun --oversubscribe --bind-to none --mca btl tcp,self -np " +
         std::to_string(ranks) + " ";
}

// precision "auto" trains bf16 on CPUs that have it: the bit-identity tests then cover bf16.
std::string write_config(const TempDir& dir, const std::string& data, int accum, int steps,
                         const char* precision = "auto") {
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
      {"optimizer",
       {{"learning_rate", 3e-3}, {"warmup_steps", 3}, {"n_gradient_accumulation", accum}}},
      {"max_steps", steps},
      {"log_every", 1},
      {"eval_every", 5},
      {"checkpoint_every", 3},
      {"eval_batches", 3},
      {"precision", precision}};
  return dir.write("tiny_" + std::to_string(accum) + ".json", cfg.dump(2));
}

std::string prepare(const TempDir& dir) {
  const auto text = dir.write("c.txt", join(tiny_paragraphs(300, 4), "\n\n"));
  std::string log;
  INFO(log);
  REQUIRE(run(kBin + " data prepare --corpus " + text + " --out " + dir.file("data") +
                  " --vocab-size 320",
              &log) == 0);
  return dir.file("data");
}

// step -> (loss, grad_norm), and step -> val_loss, as logged.
struct Log {
  std::map<int64_t, std::pair<double, double>> train;
  std::map<int64_t, double> val;
};

Log read_log(const std::string& run_dir) {
  Log log;
  std::istringstream in(read_file(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const int64_t step = j["step"].get<int64_t>();
    if (j.contains("loss"))
      log.train[step] = {j["loss"].get<double>(), j["grad_norm"].get<double>()};
    if (j.contains("val_loss")) log.val[step] = j["val_loss"].get<double>();
  }
  return log;
}

std::string final_weights(const std::string& run_dir) {
  return read_file(resolve_checkpoint(run_dir) + "/model.safetensors");
}

std::string train_cmd(const std::string& cfg, const std::string& workdir) {
  return kBin + " train --threads 1 --config " + cfg + " --workdir " + workdir;
}

}  // namespace

TEST_CASE(
    "distributed: ranks share the micro-batches and a rank count that does not divide is refused") {
  const MicroBatchShare s = share_micro_batches(4, 2, 1);
  CHECK(s.first == 2);
  CHECK(s.count == 2);
  CHECK(s.mine(3));
  CHECK_FALSE(s.mine(1));
  CHECK(s.last_mine(3));
  try {
    share_micro_batches(2, 3, 0);
    FAIL("3 ranks for 2 micro-batches were accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("3 ranks") != std::string::npos);
    CHECK(msg.find("n_gradient_accumulation = 2") != std::string::npos);
  }
}

TEST_CASE("mpi: 2 ranks x accumulation 2 train bit-identically to one process") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 12);
  std::string out;
  INFO(out);
  REQUIRE(run(train_cmd(cfg, dir.file("one")), &out) == 0);
  REQUIRE(run(mpirun(2) + train_cmd(cfg, dir.file("two")), &out) == 0);
  const Log one = read_log(dir.file("one/tiny")), two = read_log(dir.file("two/tiny"));
  REQUIRE(one.train.size() == 12);
  CHECK(one.train == two.train);  // losses and grad norms, bit for bit
  CHECK(final_weights(dir.file("one/tiny")) == final_weights(dir.file("two/tiny")));
  CHECK(read_file(resolve_checkpoint(dir.file("one/tiny")) + "/optimizer.safetensors") ==
        read_file(resolve_checkpoint(dir.file("two/tiny")) + "/optimizer.safetensors"));
  // Validation windows are split over the ranks and their sums added: same metric,
  // up to the order of the double sums.
  REQUIRE(two.val.size() == one.val.size());
  for (const auto& [step, v] : one.val)
    CHECK(two.val.at(step) == doctest::Approx(v).epsilon(1e-12));
}

TEST_CASE("mpi: 4 ranks agree with one process over 30 steps and run to run") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 4, 30);
  std::string out;
  INFO(out);
  REQUIRE(run(train_cmd(cfg, dir.file("one")), &out) == 0);
  REQUIRE(run(mpirun(4) + train_cmd(cfg, dir.file("a")), &out) == 0);
  REQUIRE(run(mpirun(4) + train_cmd(cfg, dir.file("b")), &out) == 0);
  const Log one = read_log(dir.file("one/tiny")), a = read_log(dir.file("a/tiny")),
            b = read_log(dir.file("b/tiny"));
  REQUIRE(one.train.size() == 30);
  REQUIRE(a.train.size() == 30);
  for (const auto& [step, lg] : one.train)
    CHECK(a.train.at(step).first == doctest::Approx(lg.first).epsilon(1e-5));
  CHECK(a.train == b.train);
  // One micro-batch per rank: the rank-order sum is the one process's sequential sum.
  CHECK(a.train == one.train);
  CHECK(final_weights(dir.file("a/tiny")) == final_weights(dir.file("b/tiny")));
}

TEST_CASE("mpi: 2 ranks x accumulation 4 (two micro-batches each) agree with one process") {
  TempDir dir;
  // fp32: the 1e-5 bound is about the order of fp32 sums; in bf16 each step re-rounds the
  // weights' bf16 copies, so a last-bit difference can move a copy by 2^-8 relative.
  const std::string cfg = write_config(dir, prepare(dir), 4, 30, "fp32");
  std::string out;
  INFO(out);
  REQUIRE(run(train_cmd(cfg, dir.file("one")), &out) == 0);
  REQUIRE(run(mpirun(2) + train_cmd(cfg, dir.file("two")), &out) == 0);
  const Log one = read_log(dir.file("one/tiny")), two = read_log(dir.file("two/tiny"));
  REQUIRE(two.train.size() == 30);
  // (g0 + g1) + (g2 + g3) against ((g0 + g1) + g2) + g3: rounding-level differences only.
  for (const auto& [step, lg] : one.train) {
    CHECK(two.train.at(step).first == doctest::Approx(lg.first).epsilon(1e-5));
    CHECK(two.train.at(step).second == doctest::Approx(lg.second).epsilon(1e-5));
  }
}

TEST_CASE("mpi: more ranks than micro-batches is refused before training naming the numbers") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 4);
  std::string out;
  CHECK(run(mpirun(3) + train_cmd(cfg, dir.file("w")), &out) != 0);
  CHECK(out.find("3 ranks cannot share optimizer.n_gradient_accumulation = 2") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("w/tiny/checkpoints")));
  CHECK_FALSE(std::filesystem::exists(dir.file("w/tiny/metrics.jsonl")));
}

TEST_CASE(
    "mpi: one rank SIGKILLed stops the others quickly and the run resumes on another rank count") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 12);
  std::string out;
  INFO(out);
  REQUIRE(run(train_cmd(cfg, dir.file("one")), &out) == 0);
  // Rank 1 dies like a killed process right after step 7 (checkpoints: steps 3, 6).
  const auto t0 = std::chrono::steady_clock::now();
  const int code = run(mpirun(2) +
                           "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then export "
                           "SGATLIN_TEST_KILL_AT_STEP=7; fi; exec " +
                           train_cmd(cfg, dir.file("two")) + "'",
                       &out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(code != 0);
  CHECK(seconds < 60);
  CHECK(out.find("exited on signal 9") != std::string::npos);  // mpirun names the dead rank
  CHECK(resolve_checkpoint(dir.file("two/tiny")).find("step_00000006") != std::string::npos);
  // The loader position is global: one process continues what two started.
  REQUIRE(run(kBin + " train --threads 1 --resume " + dir.file("two/tiny"), &out) == 0);
  CHECK(read_log(dir.file("two/tiny")).train == read_log(dir.file("one/tiny")).train);
  CHECK(final_weights(dir.file("two/tiny")) == final_weights(dir.file("one/tiny")));
}

TEST_CASE(
    "mpi: SIGTERM to one rank stops all after the step and the checkpoint resumes "
    "bit-identically") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 12);
  std::string out;
  INFO(out);
  REQUIRE(run(train_cmd(cfg, dir.file("one")), &out) == 0);
  const int code = run(mpirun(2) +
                           "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then export "
                           "SGATLIN_TEST_SIGTERM_AT_STEP=4; fi; exec " +
                           train_cmd(cfg, dir.file("two")) + "'",
                       &out);
  CHECK(code == kStoppedExitCode);
  CHECK(out.find("stopped by a signal after step 4") != std::string::npos);
  CHECK(out.find("sgatlin train --resume") != std::string::npos);
  CHECK(resolve_checkpoint(dir.file("two/tiny")).find("step_00000004") != std::string::npos);
  REQUIRE(run(mpirun(2) + kBin + " train --threads 1 --resume " + dir.file("two/tiny"), &out) == 0);
  CHECK(read_log(dir.file("two/tiny")).train == read_log(dir.file("one/tiny")).train);
  CHECK(final_weights(dir.file("two/tiny")) == final_weights(dir.file("one/tiny")));
}

TEST_CASE("mpi: a sweep trains its runs one per rank and rank 0 writes the summary") {
  TempDir dir;
  const std::string base = write_config(dir, prepare(dir), 2, 12);
  auto sweep_file = [&](const std::string& workdir) {
    const nlohmann::json sweep = {{"base", base},
                                  {"budgets", {1.5e9}},
                                  {"types", {"mlp", "swiglu"}},
                                  {"scales", {1}},
                                  {"workdir", dir.file(workdir)}};
    return dir.write(workdir + ".json", sweep.dump());
  };
  std::string out;
  INFO(out);
  REQUIRE(run(kEnv + kBin + " sweep --threads 1 --config " + sweep_file("one"), &out) == 0);
  REQUIRE(run(mpirun(2) + kBin + " sweep --threads 1 --config " + sweep_file("two"), &out) == 0);
  CHECK(out.find("[1/2] b1.5e9_mlp_s1: training") != std::string::npos);
  CHECK(out.find("[2/2] b1.5e9_swiglu_s1: training") != std::string::npos);
  const auto summary = nlohmann::json::parse(read_file(dir.file("two/summary.json")));
  REQUIRE(summary.size() == 2);
  for (const char* name : {"b1.5e9_mlp_s1", "b1.5e9_swiglu_s1"})
    CHECK(read_log(dir.file(std::string("two/") + name)).train ==
          read_log(dir.file(std::string("one/") + name)).train);
  // Rerun: both finished, nothing trains.
  REQUIRE(run(mpirun(2) + kBin + " sweep --threads 1 --config " + sweep_file("two"), &out) == 0);
  CHECK(out.find("finished earlier, skipped") != std::string::npos);
  CHECK(out.find("_s1: training") == std::string::npos);
}

TEST_CASE("mpi: an error on one rank ends every rank with its message") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 12);
  std::string out;
  // Rank 1 alone is given a shard that does not exist; rank 0 is already waiting in the
  // first collective of training and must not hang there.
  const auto t0 = std::chrono::steady_clock::now();
  const int code =
      run(mpirun(2) + "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec " +
              train_cmd(cfg, dir.file("w")) + " --set data.train=" + dir.file("missing.bin") +
              "; else exec " + train_cmd(cfg, dir.file("w")) + "; fi'",
          &out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(out);
  CHECK(code != 0);
  CHECK(seconds < 60);
  CHECK(out.find("error (rank 1 of 2)") != std::string::npos);
  CHECK(out.find("missing.bin") != std::string::npos);
}

TEST_CASE("mpi: bench --config reports compute, communication, exposed time and bytes reduced") {
  TempDir dir;
  const std::string cfg = write_config(dir, prepare(dir), 2, 4);
  std::string out;
  REQUIRE(run(kBin + " info --json --config " + cfg, &out) == 0);
  const int64_t n_params = nlohmann::json::parse(out)["n_params"].get<int64_t>();
  REQUIRE(run(mpirun(2) + kBin + " bench --threads 1 --steps 2 --config " + cfg, &out) == 0);
  INFO(out);
  CHECK(out.find("2 ranks: ") != std::string::npos);
  CHECK(out.find("ms (blocking)  exposed ") != std::string::npos);
  // fp32 gradients of every parameter; with 2 ranks each sends 2(R-1)/R = 1x of them.
  const std::string bytes = std::to_string(4 * n_params);
  CHECK(out.find("gradient bytes reduced " + bytes + " per step, sent per rank " + bytes) !=
        std::string::npos);
}
