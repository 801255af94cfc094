// Resolving `precision` against a CPU (injected here) and the config key itself.
#include "train/precision.h"

#include <doctest/doctest.h>

#include "train/run_config.h"

using namespace sg;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const CpuFeatures kPlain{"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", false, false};
const CpuFeatures kAvx512Bf16{"AMD EPYC 9654 96-Core Processor", true, false};
const CpuFeatures kAmx{"Intel(R) Xeon(R) Platinum 8480+", true, true};

}  // namespace

TEST_CASE("precision: auto picks bf16 exactly where the CPU has native bf16") {
  CHECK(resolve_precision("auto", kPlain, "x").precision == MatmulPrecision::fp32);
  CHECK(resolve_precision("auto", kAvx512Bf16, "x").precision == MatmulPrecision::bf16);
  CHECK(resolve_precision("auto", kAmx, "x").precision == MatmulPrecision::bf16);
  // The fallback says why, naming the CPU.
  const std::string note = resolve_precision("auto", kPlain, "x").note;
  CHECK(note.find("fp32") != std::string::npos);
  CHECK(note.find("E5-2680") != std::string::npos);
  CHECK(resolve_precision("auto", kAmx, "x").note.find("amx_bf16") != std::string::npos);
  // Explicit settings are taken as they are where possible.
  CHECK(resolve_precision("fp32", kAmx, "x").precision == MatmulPrecision::fp32);
  CHECK(resolve_precision("bf16", kAvx512Bf16, "x").precision == MatmulPrecision::bf16);
}

TEST_CASE("precision: bf16 on a CPU without bf16 is refused with the CPU and what it lacks") {
  const std::string msg =
      error_of([] { resolve_precision("bf16", kPlain, "configs/run.json: config precision"); });
  CHECK(msg.find("configs/run.json") != std::string::npos);
  CHECK(msg.find("E5-2680") != std::string::npos);
  CHECK(msg.find("avx512_bf16") != std::string::npos);
  CHECK(msg.find("amx_bf16") != std::string::npos);
  CHECK(error_of([] { resolve_precision("fp16", kAmx, "x"); }).find("fp16") != std::string::npos);
}

TEST_CASE("precision: the run config key defaults to auto and rejects other values") {
  CHECK(parse_run_config(nlohmann::json::object(), "t.json").precision == "auto");
  CHECK(parse_run_config({{"precision", "bf16"}}, "t.json").raw["precision"] == "bf16");
  CHECK(parse_run_config(nlohmann::json::object(), "t.json", {"precision=fp32"}).precision ==
        "fp32");
  const std::string msg = error_of([] { parse_run_config({{"precision", "half"}}, "t.json"); });
  CHECK(msg.find("t.json") != std::string::npos);
  CHECK(msg.find("precision") != std::string::npos);
  CHECK(msg.find("half") != std::string::npos);
  CHECK(msg.find("auto, fp32, bf16") != std::string::npos);
}

TEST_CASE("precision: saved-model commands take only --set precision=...") {
  const nlohmann::json saved = {{"precision", "fp32"}};
  CHECK(saved_model_precision(saved, {}) == "fp32");
  CHECK(saved_model_precision(nlohmann::json::object(), {}) == "auto");  // before the key
  CHECK(saved_model_precision(saved, {"precision=bf16"}) == "bf16");
  CHECK(error_of([&] { saved_model_precision(saved, {"seed=3"}); }).find("seed=3") !=
        std::string::npos);
}

TEST_CASE("precision: the host CPU probe reads a model name") {
  CHECK_FALSE(host_cpu().model_name.empty());
}
