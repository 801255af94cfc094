// Run config parsing: every shipped config validates, defaults and overrides resolve as
// documented, and each class of bad input yields a message naming the file, the JSON path,
// the offending value and what is allowed.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "train/run_config.h"
#include "util/error.h"

using nlohmann::json;
using sg::parse_run_config;

namespace {

// The message parse_run_config throws for `j` (fails the test when nothing is thrown).
std::string error_of(const json& j, const std::vector<std::string>& overrides = {}) {
  try {
    parse_run_config(j, "configs/x.json", overrides);
  } catch (const sg::Error& e) {
    return e.what();
  }
  FAIL("no error for ", j.dump(), " with ", overrides.size(), " overrides");
  return "";
}

// Checks that `msg` contains every piece (path, value, allowed values...).
void check_has(const std::string& msg, std::initializer_list<const char*> pieces) {
  for (const char* p : pieces)
    CHECK_MESSAGE(msg.find(p) != std::string::npos, "\"" << std::string(p) << "\" not in: " << msg);
}

json with_ffw(const json& ffw) { return {{"model", {{"ffw", ffw}}}}; }

}  // namespace

TEST_CASE("run_config: every configs/*.json loads and validates") {
  const std::filesystem::path dir = std::filesystem::path(SGATLIN_SOURCE_DIR) / "configs";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    const sg::RunConfig c = sg::load_run_config(entry.path().string());
    CHECK(c.name == entry.path().stem().string());
    ++n;
  }
  CHECK(n >= 5);
}

TEST_CASE("run_config: the TinyStories configs mirror the paper's runs") {
  auto load = [](const std::string& t) {
    return sg::load_run_config(std::string(SGATLIN_SOURCE_DIR) + "/configs/tinystories_" + t +
                               ".json");
  };
  for (const char* t : {"mlp", "swiglu", "moe", "peer", "sgatlin"}) {
    INFO(t);
    const sg::RunConfig c = load(t);
    CHECK(c.model.vocab_size == 8192);
    CHECK(c.model.d_model == 256);
    CHECK(c.model.n_layers == 4);
    CHECK(c.model.d_heads == 64);
    CHECK(c.model.ffw.type == t);
    CHECK(c.model.ffw.d_ffw == 1024);
    CHECK(c.data.batch_size == 256);
    CHECK(c.data.seq_len == 1024);
    CHECK(c.data.train == "data/tinystories/train.bin");
    CHECK(c.data.tokenizer == "data/tinystories/tokenizer.model");
    CHECK(c.optimizer.learning_rate == 1e-3);
    CHECK(c.optimizer.weight_decay == 1e-4);
    CHECK(c.optimizer.schedule == "warmup_stable_sqrt_decay");
    CHECK(c.optimizer.warmup_steps == 100);
    CHECK(c.optimizer.decay_fraction == 0.2);
    CHECK(c.optimizer.clip_by_global_norm == 2.0);
  }
  CHECK(load("mlp").model.ffw.activation == "gelu");
  CHECK(load("moe").model.ffw.n_channels == 8);
  CHECK(load("moe").model.ffw.knn == 2);
  const sg::RunConfig peer = load("peer"), sgat = load("sgatlin");
  CHECK(peer.model.ffw.router_type == "product_key_value");
  CHECK(peer.model.ffw.n_channels == 8);
  CHECK(peer.model.ffw.knn == 8);
  CHECK(peer.model.ffw.d_key == 128);
  CHECK(sgat.model.ffw.router_type == "product_dense");
  CHECK(sgat.model.ffw.activation == "identity");
  CHECK(sgat.model.ffw.n_channels == 8);
  CHECK(sgat.model.ffw.knn == 8);
  CHECK(sgat.model.ffw.d_key == 128);
}

TEST_CASE("run_config: missing keys take the struct defaults, activation/router by type") {
  const sg::RunConfig c = parse_run_config(json::object(), "x.json");
  const sg::RunConfig d;  // the struct defaults
  CHECK(c.name == d.name);
  CHECK(c.seed == d.seed);
  CHECK(c.model.d_model == d.model.d_model);
  CHECK(c.model.ffw.type == "sgatlin");
  CHECK(c.model.ffw.activation == "identity");
  CHECK(c.model.ffw.router_type == "product_dense");
  CHECK(c.optimizer.schedule == d.optimizer.schedule);
  CHECK(c.optimizer.clip_by_global_norm == d.optimizer.clip_by_global_norm);
  CHECK(!c.flops_budget.has_value());
  CHECK(!c.max_steps.has_value());
  CHECK(c.workdir == "runs");
  // raw holds every key with its resolved value.
  CHECK(c.raw["optimizer"]["warmup_steps"] == 100);
  CHECK(c.raw["flops_budget"].is_null());
  CHECK(c.raw["model"]["ffw"]["activation"] == "identity");

  CHECK(parse_run_config(with_ffw({{"type", "mlp"}}), "x").model.ffw.activation == "gelu");
  CHECK(parse_run_config(with_ffw({{"type", "mlp"}, {"activation", "relu"}}), "x")
            .model.ffw.activation == "relu");
  CHECK(parse_run_config(with_ffw({{"type", "peer"}}), "x").model.ffw.router_type ==
        "product_key_value");
  CHECK(parse_run_config(with_ffw({{"type", "sgatlin"}, {"router_type", "dense"}, {"d_ffw", 1000}}),
                         "x")
            .model.ffw.router_type == "dense");
}

TEST_CASE("run_config: to_json round-trips through parse, including a 64-bit seed") {
  json j = {{"name", "rt"},
            {"seed", 18446744073709551615ull},  // 2^64 - 1
            {"model", {{"d_model", 192}, {"ffw", {{"type", "moe"}, {"knn", 3}}}}},
            {"optimizer", {{"learning_rate", 3.0e-4}, {"schedule", "cosine"}}},
            {"flops_budget", 1.5e18},
            {"max_steps", 12345}};
  const sg::RunConfig c = parse_run_config(j, "x.json");
  CHECK(c.seed == 18446744073709551615ull);
  CHECK(*c.flops_budget == 1.5e18);
  CHECK(*c.max_steps == 12345);
  const sg::RunConfig c2 = parse_run_config(sg::to_json(c), "x.json");
  CHECK(sg::to_json(c2) == sg::to_json(c));
  CHECK(c2.raw == c.raw);
  CHECK(c.raw == sg::to_json(c));
  // Through text as well (what is saved into the run folder).
  CHECK(parse_run_config(json::parse(c.raw.dump()), "x").raw == c.raw);

  const sg::ModelConfig m = sg::parse_model_config(sg::to_json(c.model), "ckpt.safetensors");
  CHECK(sg::to_json(m) == sg::to_json(c.model));
  CHECK(m.ffw.knn == 3);
  // Integers may be written as integral floats (1e5).
  CHECK(*parse_run_config({{"max_steps", 1e5}}, "x").max_steps == 100000);
}

TEST_CASE("run_config: overrides") {
  const sg::RunConfig c =
      parse_run_config(json::object(), "x.json",
                       {"optimizer.learning_rate=3e-4", "data.train=shards/a b.bin", "name=123",
                        "flops_budget=2e17", "model.ffw={\"type\": \"mlp\", \"d_ffw\": 512}",
                        "max_steps=7", "max_steps=null", "seed=42"});
  CHECK(c.optimizer.learning_rate == 3e-4);
  CHECK(c.data.train == "shards/a b.bin");  // not JSON: taken as a string
  CHECK(c.name == "123");                   // string key: the raw text
  CHECK(*c.flops_budget == 2e17);
  CHECK(c.model.ffw.type == "mlp");
  CHECK(c.model.ffw.d_ffw == 512);
  CHECK(c.model.ffw.activation == "gelu");  // type-dependent default still applies
  CHECK(!c.max_steps.has_value());          // later overrides win
  CHECK(c.seed == 42);
  CHECK(c.raw["optimizer"]["learning_rate"] == 3e-4);

  // Overrides replace values from the file.
  CHECK(
      parse_run_config({{"model", {{"d_model", 128}}}}, "x", {"model.d_model=256"}).model.d_model ==
      256);

  check_has(error_of(json::object(), {"optimizer.lr=3e-4"}),
            {"configs/x.json: optimizer.lr = ", "unknown key", "did you mean \"learning_rate\"",
             "optimizer.lr=3e-4"});
  check_has(error_of(json::object(), {"modle.d_model=3"}), {"modle", "did you mean \"model\""});
  check_has(error_of(json::object(), {"seed.x=3"}), {"seed", "is not a section", "seed.x=3"});
  check_has(error_of(json::object(), {"optimizer.learning_rate"}),
            {"configs/x.json", "override \"optimizer.learning_rate\"", "path=value"});
  check_has(error_of(json::object(), {"optimizer.learning_rate=-1"}),
            {"configs/x.json: optimizer.learning_rate = -1: must be > 0",
             "set by override \"optimizer.learning_rate=-1\""});
  check_has(error_of(json::object(), {"data.batch_size=big"}),
            {"data.batch_size = \"big\"", "expected an integer"});
}

TEST_CASE("run_config: unknown keys at any level suggest the closest known key") {
  check_has(error_of(with_ffw({{"rooter_type", "dense"}})),
            {"configs/x.json: model.ffw.rooter_type = \"dense\": unknown key",
             "did you mean \"router_type\"", "activation"});
  check_has(error_of({{"optimiser", json::object()}}),
            {"configs/x.json: optimiser", "did you mean \"optimizer\""});
  check_has(error_of({{"data", {{"batchsize", 4}}}}),
            {"data.batchsize = 4", "did you mean \"batch_size\""});
  check_has(error_of({{"model", {{"d_modle", 4}}}}), {"model.d_modle", "did you mean \"d_model\""});
  // A typo is reported even when another value is also wrong.
  check_has(error_of({{"model", {{"d_model", -1}, {"ffw", {{"tpye", "mlp"}}}}}}),
            {"model.ffw.tpye", "did you mean \"type\""});
}

TEST_CASE("run_config: wrong types name path, value and the expected type") {
  check_has(error_of({{"model", {{"d_model", "256"}}}}),
            {"configs/x.json: model.d_model = \"256\": expected an integer"});
  check_has(error_of({{"model", {{"n_layers", 2.5}}}}),
            {"model.n_layers = 2.5", "expected an integer"});
  check_has(error_of({{"model", 3}}), {"configs/x.json: model = 3: expected an object"});
  check_has(error_of({{"optimizer", {{"learning_rate", "fast"}}}}),
            {"optimizer.learning_rate = \"fast\": expected a number"});
  check_has(error_of({{"name", 5}}), {"name = 5: expected a string"});
  check_has(error_of({{"flops_budget", "lots"}}), {"flops_budget = \"lots\"", "number or null"});
  check_has(error_of({{"max_steps", true}}), {"max_steps = true", "integer or null"});
  check_has(error_of({{"seed", -1}}), {"seed = -1", "[0, 18446744073709551615]"});
  check_has(error_of({{"seed", 1.5}}), {"seed = 1.5", "expected an integer"});
  check_has(error_of({{"model", {{"d_model", 9223372036854775808ull}}}}),
            {"model.d_model = 9223372036854775808", "too large"});
  check_has(error_of(json::array()), {"configs/x.json: (root) = []: expected an object"});
}

TEST_CASE("run_config: unknown names list the allowed values") {
  // The exact message format the CLI user sees.
  CHECK(error_of(with_ffw({{"router_type", "foo"}})) ==
        "configs/x.json: model.ffw.router_type = \"foo\": unknown router (allowed: product_dense, "
        "product_key_value, key_value, dense)");
  check_has(error_of(with_ffw({{"type", "transformer"}})),
            {"model.ffw.type = \"transformer\"", "mlp, swiglu, moe, peer, sgatlin"});
  check_has(error_of(with_ffw({{"activation", "tanh"}})),
            {"model.ffw.activation = \"tanh\"", "identity, gelu, relu, swish"});
  check_has(error_of({{"optimizer", {{"schedule", "linear"}}}}),
            {"optimizer.schedule = \"linear\"",
             "constant, cosine, warmup_stable_linear_decay, warmup_stable_sqrt_decay"});
  check_has(error_of(with_ffw({{"type", "peer"}, {"router_type", "product_dense"}})),
            {"model.ffw.router_type = \"product_dense\"", "allowed: product_key_value"});
}

TEST_CASE("run_config: impossible sizes") {
  check_has(error_of({{"model", {{"d_model", -4}}}}),
            {"model.d_model = -4", "must be an integer >= 1"});
  check_has(error_of({{"model", {{"vocab_size", 0}}}}), {"model.vocab_size = 0", ">= 1"});
  check_has(error_of({{"model", {{"n_layers", 0}}}}), {"model.n_layers = 0", ">= 1"});
  check_has(error_of({{"model", {{"d_model", 100}, {"d_heads", 64}}}}),
            {"model.d_model = 100", "multiple of d_heads = 64"});
  check_has(error_of({{"model", {{"d_model", 99}, {"d_heads", 33}}}}),
            {"model.d_heads = 33", "even"});
  check_has(error_of(with_ffw({{"d_ffw", 0}})), {"model.ffw.d_ffw = 0", ">= 1"});
  check_has(error_of(with_ffw({{"n_channels", -1}})), {"model.ffw.n_channels = -1", ">= 1"});
  check_has(error_of(with_ffw({{"d_key", 0}})), {"model.ffw.d_key = 0", ">= 1"});
  check_has(error_of({{"data", {{"batch_size", 0}}}}), {"data.batch_size = 0", ">= 1"});
  check_has(error_of({{"data", {{"seq_len", 1}}}}), {"data.seq_len = 1", ">= 2"});
  check_has(error_of({{"optimizer", {{"n_gradient_accumulation", 0}}}}),
            {"optimizer.n_gradient_accumulation = 0", ">= 1"});
  check_has(error_of({{"optimizer", {{"warmup_steps", -1}}}}),
            {"optimizer.warmup_steps = -1", ">= 0"});
  check_has(error_of({{"log_every", 0}}), {"log_every = 0", ">= 1"});
}

TEST_CASE("run_config: impossible optimizer values and budgets") {
  check_has(error_of({{"optimizer", {{"learning_rate", 0}}}}),
            {"optimizer.learning_rate = 0", "must be > 0"});
  check_has(error_of({{"optimizer", {{"learning_rate", -1e-3}}}}),
            {"optimizer.learning_rate = -0.001", "> 0"});
  check_has(error_of({{"optimizer", {{"decay_fraction", 1.5}}}}),
            {"optimizer.decay_fraction = 1.5", "must be in [0, 1]"});
  check_has(error_of({{"optimizer", {{"decay_fraction", -0.1}}}}),
            {"optimizer.decay_fraction = -0.1", "[0, 1]"});
  check_has(error_of({{"optimizer", {{"weight_decay", -1}}}}),
            {"optimizer.weight_decay = -1", ">= 0"});
  check_has(error_of({{"optimizer", {{"clip_by_global_norm", -1}}}}),
            {"optimizer.clip_by_global_norm = -1", ">= 0"});
  check_has(error_of({{"flops_budget", 0}}), {"flops_budget = 0", "must be > 0 or null"});
  check_has(error_of({{"flops_budget", -1e18}}), {"flops_budget = -1e+18", "> 0 or null"});
  check_has(error_of({{"max_steps", 0}}), {"max_steps = 0", ">= 1"});
  // Boundaries that are allowed.
  CHECK(parse_run_config({{"optimizer", {{"decay_fraction", 0}}}}, "x").optimizer.decay_fraction ==
        0);
  CHECK(parse_run_config({{"optimizer", {{"decay_fraction", 1}}}}, "x").optimizer.decay_fraction ==
        1);
}

TEST_CASE("run_config: router and expert-count constraints") {
  // Product routers need N = nk^2 and K < nk: sgatlin with product_dense / product_key_value, peer.
  for (const char* router : {"product_dense", "product_key_value"}) {
    INFO(router);
    check_has(error_of(with_ffw({{"type", "sgatlin"}, {"router_type", router}, {"d_ffw", 1000}})),
              {"model.ffw.d_ffw = 1000", "perfect square", "961", "1024", router});
    check_has(error_of(with_ffw(
                  {{"type", "sgatlin"}, {"router_type", router}, {"d_ffw", 1024}, {"knn", 32}})),
              {"model.ffw.knn = 32", "sqrt(d_ffw) = 32", "allowed: 1..31"});
    CHECK(parse_run_config(with_ffw({{"router_type", router}, {"d_ffw", 1024}, {"knn", 31}}), "x")
              .model.ffw.knn == 31);
  }
  check_has(error_of(with_ffw({{"type", "peer"}, {"d_ffw", 50}})),
            {"model.ffw.d_ffw = 50", "perfect square", "49", "64"});
  check_has(error_of(with_ffw({{"type", "peer"}, {"d_ffw", 16}, {"knn", 4}})),
            {"model.ffw.knn = 4", "allowed: 1..3"});
  // key_value and dense routers search all N: any N, K <= N.
  CHECK(parse_run_config(with_ffw({{"router_type", "key_value"}, {"d_ffw", 1000}, {"knn", 1000}}),
                         "x")
            .model.ffw.d_ffw == 1000);
  check_has(error_of(with_ffw({{"router_type", "dense"}, {"d_ffw", 10}, {"knn", 11}})),
            {"model.ffw.knn = 11", "allowed: 1..10"});
  // moe: top-knn of n_channels experts.
  check_has(error_of(with_ffw({{"type", "moe"}, {"n_channels", 8}, {"knn", 9}})),
            {"model.ffw.knn = 9", "n_channels = 8", "allowed: 1..8"});
  CHECK(parse_run_config(with_ffw({{"type", "moe"}, {"n_channels", 8}, {"knn", 8}}), "x")
            .model.ffw.knn == 8);
  // mlp and swiglu ignore the routing keys.
  CHECK(parse_run_config(with_ffw({{"type", "mlp"}, {"d_ffw", 1000}, {"knn", 64}}), "x")
            .model.ffw.d_ffw == 1000);
}

TEST_CASE("run_config: files, JSON syntax and duplicate keys") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sgatlin_cfg_" + std::to_string(::getpid()) + ".json"))
                               .string();
  auto load_text = [&](const std::string& text) -> std::string {
    std::ofstream(path) << text;
    try {
      sg::load_run_config(path);
    } catch (const sg::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  check_has(load_text("{\"model\": {\"d_model\": 128,}}"), {path.c_str(), "invalid JSON"});
  check_has(load_text("{\"model\": {\"d_model\": 128, \"d_model\": 256}}"),
            {path.c_str(), "model.d_model: duplicate key"});
  check_has(load_text("{\"optimizer\": {\"learning_rate\": 0}}"),
            {(path + ": optimizer.learning_rate = 0").c_str()});
  CHECK(load_text("{\"model\": {\"d_model\": 128}}") == "(no error)");
  std::filesystem::remove(path);
  try {
    sg::load_run_config(path);
    FAIL("no error for a missing file");
  } catch (const sg::Error& e) {
    check_has(e.what(), {path.c_str(), "cannot open"});
  }
}
