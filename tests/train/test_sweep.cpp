// Sweeps: plan expansion and step counts (step counts worked out by hand from spec §5),
// sweep file validation, and end to end through the CLI on a tiny corpus: an
// interrupted sweep resumes, finished runs are skipped, summaries and plots appear.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "train/sweep.h"
#include "util/error.h"

using namespace sg;
using namespace sg::test;
using json = nlohmann::json;

namespace {

const std::string kBin = SGATLIN_BINARY;

// Tiny base: T 32, B 4, vocab 320. Data paths are only checked when training.
json base_json(const std::string& data) {
  return {{"name", "base"},
          {"seed", 3u},
          {"model",
           {{"vocab_size", 320},
            {"d_model", 32},
            {"d_heads", 16},
            {"n_layers", 1},
            {"ffw", {{"type", "mlp"}, {"d_ffw", 64}}}}},
          {"data",
           {{"train", data + "/train.bin"},
            {"valid", data + "/valid.bin"},
            {"tokenizer", data + "/tokenizer.model"},
            {"batch_size", 4},
            {"seq_len", 32}}},
          {"optimizer", {{"learning_rate", 3e-3}, {"warmup_steps", 2}}},
          {"max_steps", 1000},
          {"log_every", 1},
          {"eval_every", 3},
          {"checkpoint_every", 2},
          {"eval_batches", 1}};
}

RunConfig base_config() { return parse_run_config(base_json("d"), "base.json"); }

json sweep_json() {
  return {{"base", "base.json"},
          {"budgets", {1e10, 1.5e9}},
          {"types", {"mlp", "sgatlin"}},
          {"scales", {1}},
          {"workdir", "w"},
          {"overrides", {{"optimizer.warmup_steps", 5}}},
          {"grid", {{"seed", {0, 1}}, {"optimizer.learning_rate", {1e-3, 2e-3}}}}};
}

std::string error_of(const json& j) {
  try {
    parse_sweep(j, "s.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("sweep: plan order, names, overrides and steps for budget") {
  const std::vector<PlannedRun> plan =
      expand_sweep(parse_sweep(sweep_json(), "s.json"), base_config());
  REQUIRE(plan.size() == 2 * 2 * 1 * 4);  // budgets x types x scales x (2 lr x 2 seeds)
  // Budgets, then types, then scales, then grid keys alphabetically (last fastest).
  CHECK(plan[0].name == "b1e10_mlp_s1_lr0.001_seed0");
  CHECK(plan[1].name == "b1e10_mlp_s1_lr0.001_seed1");
  CHECK(plan[2].name == "b1e10_mlp_s1_lr0.002_seed0");
  CHECK(plan[4].name == "b1e10_sgatlin_s1_lr0.001_seed0");
  CHECK(plan[8].name == "b1.5e9_mlp_s1_lr0.001_seed0");
  CHECK(plan[3].run_dir == (std::filesystem::path("w") / "b1e10_mlp_s1_lr0.002_seed1").string());
  const RunConfig& c = plan[3].cfg;
  CHECK(c.name == plan[3].name);
  CHECK(c.workdir == "w");
  CHECK(c.optimizer.learning_rate == 2e-3);
  CHECK(c.seed == 1);
  CHECK(c.optimizer.warmup_steps == 5);  // from overrides
  CHECK(c.data.batch_size == 4);         // from the base
  CHECK_FALSE(c.max_steps.has_value());  // the budget decides
  CHECK(*c.flops_budget == 1e10);
  CHECK(c.model.d_model == 128);     // the ladder replaced the base model...
  CHECK(c.model.vocab_size == 320);  // ...but kept its vocabulary

  // By hand (spec §5), T 32, B 4, D 128, H 2, Dh 64, 2 layers. Attention per sequence
  // 3*32*2*128^2 + 2*2*2*32^2*64 + 32*2*128^2 = 3145728 + 524288 + 1048576 = 4718592.
  // mlp F 256: ffw 32 * 4*128*256 = 4194304; forward 2 * 8912896 = 17825792;
  // a step 3 * 17825792 * 4 = 213909504 FLOPs; 1e10 / that = 46.7 -> 46 steps.
  CHECK(plan[0].steps == 46);
  CHECK(plan[0].tokens == 46 * 4 * 32);
  CHECK(plan[0].train_flops_per_token == doctest::Approx(3.0 * 17825792 / 32));
  // sgatlin N 784 (nk 28), C 16, K 8, Kd 128: ffw per token 2*128*128 + 4*16*28*128 +
  // 4*8*16*128 = 327680; forward 2 * (4718592 + 32*327680) = 30408704; a step
  // 3 * 30408704 * 4 = 364904448; 1e10 / that = 27.4 -> 27, and 1.5e9 -> 4.1 -> 4.
  CHECK(plan[4].steps == 27);
  CHECK(plan[12].steps == 4);
  CHECK(plan[8].steps == 7);  // mlp at 1.5e9: 7.01 -> 7
}

TEST_CASE("sweep: budgets print compactly in names") {
  CHECK(format_budget(1e15) == "1e15");
  CHECK(format_budget(3e14) == "3e14");
  CHECK(format_budget(2.5e17) == "2.5e17");
  CHECK(format_budget(6e18) == "6e18");
}

TEST_CASE("sweep: invalid sweep files name the file, path, value and what is allowed") {
  auto with = [](const std::string& key, const json& v) {
    json j = sweep_json();
    j[key] = v;
    return j;
  };
  json no_base = sweep_json();
  no_base.erase("base");
  CHECK(error_of(no_base) == "s.json: base: missing (the base run config)");
  CHECK(error_of(with("budget", 1))
            .find("s.json: budget = 1: unknown key (known keys: description, base") == 0);
  CHECK(error_of(with("budgets", {1e10, -1})) ==
        "s.json: budgets[1] = -1: expected a FLOP budget > 0, e.g. 1e15");
  CHECK(error_of(with("budgets", json::array()))
            .find("s.json: budgets = []: expected a non-empty list") == 0);
  CHECK(error_of(with("types", {"mlp", "glu"})) ==
        "s.json: types[1] = \"glu\": unknown feedforward type (allowed: mlp, swiglu, moe, peer, "
        "sgatlin)");
  CHECK(error_of(with("types", {"mlp", "mlp"})) == "s.json: types[1] = \"mlp\": listed twice");
  CHECK(error_of(with("scales", {1, 0})).find("s.json: scales[1] = 0: expected an integer scale") ==
        0);
  CHECK(
      error_of(with("scales", {1.5})).find("s.json: scales[0] = 1.5: expected an integer scale") ==
      0);
  CHECK(error_of(with("grid", {{"seed", 3}})) ==
        "s.json: grid.seed = 3: expected a non-empty list of values");
  CHECK(error_of(with("grid", {{"name", {"a"}}}))
            .find("s.json: grid.name = [\"a\"]: the sweep sets name itself") == 0);
  CHECK(error_of(with("overrides", {{"max_steps", 5}}))
            .find("s.json: overrides.max_steps = 5: the sweep sets") == 0);

  // Bad run config keys or values surface from the run config parser with the run.
  const RunConfig base = base_config();
  auto expand_error = [&](const json& j) {
    try {
      expand_sweep(parse_sweep(j, "s.json"), base);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string bad_lr = expand_error(with("grid", {{"optimizer.learning_rate", {1e-3, -1}}}));
  CHECK(bad_lr.find("s.json (run b1e10_mlp_s1_lr-1, base base.json): optimizer.learning_rate = -1: "
                    "must be > 0") == 0);
  const std::string bad_key = expand_error(with("overrides", {{"optimizer.lr", 1e-3}}));
  CHECK(bad_key.find("optimizer.lr") != std::string::npos);
  CHECK(bad_key.find("unknown key (did you mean \"learning_rate\"?") != std::string::npos);
  CHECK(expand_error(with("budgets", {1e10, 1.0000001e10})) ==
        "s.json: two runs would both be named b1e10_mlp_s1_lr0.001_seed0 (make the budgets or "
        "grid values differ in their first 6 digits)");
}

TEST_CASE("sweep CLI: an interrupted sweep resumes, finished runs are skipped") {
  TempDir dir;
  const auto text = dir.write("t.txt", join(tiny_paragraphs(300, 4), "\n\n"));
  std::string out;
  REQUIRE(run(kBin + " data prepare --corpus " + text + " --out " + dir.file("data") +
                  " --vocab-size 320",
              &out) == 0);
  dir.write("base.json", base_json(dir.file("data")).dump());
  // mlp 7 steps at 1.5e9 (worked out in the plan test); swiglu F 256: ffw per token
  // 3*2*128*256 = 196608, a step 3*4*2*(4718592 + 32*196608) = 264241152 -> 5 steps.
  // 1e6 is 0 steps for both.
  const json sweep = {{"base", dir.file("base.json")},
                      {"budgets", {1.5e9, 1e6}},
                      {"types", {"mlp", "swiglu"}},
                      {"scales", {1}},
                      {"workdir", dir.file("w")}};
  const std::string cfg = dir.write("sweep.json", sweep.dump());
  // Passive OpenMP waiting: on a loaded shared machine spinning threads made this test
  // ~20x slower (it changes no result: the thread count is the same).
  const std::string cmd = "OMP_WAIT_POLICY=passive " + kBin + " sweep --threads 2 --config " + cfg;

  REQUIRE(run(cmd + " --dry-run --bench-steps 0", &out) == 0);
  INFO(out);
  CHECK(out.find("b1.5e9_mlp_s1") != std::string::npos);
  CHECK(out.find("skip: 0 steps") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("w")));

  // Killed after step 3 of the first run (checkpoint at step 2), without gnuplot on PATH.
  CHECK(run("PATH=/nonexistent SGATLIN_TEST_KILL_AT_STEP=3 " + cmd, &out) == 128 + 9);
  CHECK_FALSE(std::filesystem::exists(dir.file("w/b1.5e9_mlp_s1/summary.json")));
  REQUIRE(run("PATH=/nonexistent " + cmd, &out) == 0);
  CHECK(out.find("[1/4] b1.5e9_mlp_s1: resuming at step 2") != std::string::npos);
  CHECK(out.find("[2/4] b1.5e9_swiglu_s1: training") != std::string::npos);
  CHECK(out.find("b1e6_mlp_s1: skipped, 0 steps") != std::string::npos);
  CHECK(out.find("gnuplot not found: plots skipped") != std::string::npos);

  const json summary = json::parse(read_file(dir.file("w/summary.json")));
  REQUIRE(summary.size() == 2);
  CHECK(summary[0]["name"] == "b1.5e9_mlp_s1");
  CHECK(summary[0]["steps"] == 7);
  CHECK(summary[0]["tokens"] == 7 * 4 * 32);
  CHECK(summary[1]["steps"] == 5);
  CHECK(summary[1]["type"] == "swiglu");
  CHECK(summary[1]["val_perplexity"].get<double>() ==
        doctest::Approx(std::exp(summary[1]["val_loss"].get<double>()))
            .epsilon(1e-6));  // float vs double exp
  const std::string csv = read_file(dir.file("w/summary.csv"));
  CHECK(csv.find(
            "name,budget,type,scale,n_params,train_flops_per_token,steps,tokens,final_train_loss,"
            "val_loss,val_perplexity,val_accuracy,wall_s,tokens_per_s,run_dir\n") == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);

  // A third call trains nothing and leaves the runs untouched, now with plots.
  const std::string metrics = read_file(dir.file("w/b1.5e9_swiglu_s1/metrics.jsonl"));
  REQUIRE(run(cmd, &out) == 0);
  CHECK(out.find("[1/4] b1.5e9_mlp_s1: finished earlier, skipped") != std::string::npos);
  CHECK(out.find("[2/4] b1.5e9_swiglu_s1: finished earlier, skipped") != std::string::npos);
  CHECK(read_file(dir.file("w/b1.5e9_swiglu_s1/metrics.jsonl")) == metrics);
  CHECK(json::parse(read_file(dir.file("w/summary.json"))) == summary);
  if (out.find("gnuplot not found") == std::string::npos) {
    CHECK(std::filesystem::file_size(dir.file("w/plots/isoflop_b1.5e9.png")) > 0);
    CHECK(std::filesystem::file_size(dir.file("w/plots/loss_b1.5e9.png")) > 0);
  }

  // The same workdir with another learning rate: the finished runs no longer match.
  json changed = sweep;
  changed["overrides"] = {{"optimizer.learning_rate", 1e-2}};
  dir.write("sweep.json", changed.dump());
  CHECK(run(cmd, &out) == 1);
  CHECK(out.find("b1.5e9_mlp_s1 holds a run with another config (optimizer.learning_rate = 0.003 "
                 "there, 0.01 in this sweep)") != std::string::npos);
}
