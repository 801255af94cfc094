#include "train/precision.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sg {

namespace {

CpuFeatures read_cpuinfo() {
  CpuFeatures cpu;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool have_model = false, have_flags = false;
  while (std::getline(in, line) && !(have_model && have_flags)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && !have_model) {
      cpu.model_name = value;
      have_model = true;
    } else if (key == "flags" && !have_flags) {
      std::istringstream flags(value);
      for (std::string f; flags >> f;) {
        cpu.avx512_bf16 |= f == "avx512_bf16";
        cpu.amx_bf16 |= f == "amx_bf16";
      }
      have_flags = true;
    }
  }
  if (cpu.model_name.empty()) cpu.model_name = "unknown CPU (no model name in /proc/cpuinfo)";
  return cpu;
}

}  // namespace

const CpuFeatures& host_cpu() {
  static const CpuFeatures cpu = read_cpuinfo();
  return cpu;
}

const char* precision_name(MatmulPrecision p) {
  return p == MatmulPrecision::bf16 ? "bf16" : "fp32";
}

MatmulPrecision parse_precision_name(const std::string& name, const std::string& source) {
  if (name == "fp32") return MatmulPrecision::fp32;
  if (name == "bf16") return MatmulPrecision::bf16;
  fail(source, ": precision = \"", name, "\": expected \"fp32\" or \"bf16\"");
}

ResolvedPrecision resolve_precision(const std::string& setting, const CpuFeatures& cpu,
                                    const std::string& source) {
  if (setting == "fp32") return {MatmulPrecision::fp32, ""};
  if (setting == "bf16") {
    SG_CHECK(cpu.native_bf16(), source,
             ": precision = \"bf16\" needs a CPU with native bf16 "
             "arithmetic, but this CPU (",
             cpu.model_name,
             ") has neither avx512_bf16 nor "
             "amx_bf16 in its /proc/cpuinfo flags; use \"fp32\" or \"auto\"");
    return {MatmulPrecision::bf16, ""};
  }
  SG_CHECK(setting == "auto", source, ": precision = \"", setting,
           "\": unknown precision (allowed: auto, fp32, bf16)");
  if (cpu.native_bf16())
    return {MatmulPrecision::bf16, cat("precision auto -> bf16 (", cpu.model_name, " has ",
                                       cpu.amx_bf16 ? "amx_bf16" : "avx512_bf16", ")")};
  return {MatmulPrecision::fp32, cat("precision auto -> fp32 (", cpu.model_name,
                                     " has neither avx512_bf16 nor amx_bf16)")};
}

std::string saved_model_precision(const nlohmann::json& run_config,
                                  const std::vector<std::string>& overrides) {
  std::string setting = run_config.value("precision", std::string("auto"));
  for (const std::string& ov : overrides) {
    SG_CHECK(ov.rfind("precision=", 0) == 0, "--set ", ov,
             ": this command takes only --set precision=fp32|bf16|auto (the model comes from the "
             "checkpoint)");
    setting = ov.substr(10);
  }
  return setting;
}

MatmulPrecision apply_precision(const std::string& setting, const std::string& source, bool quiet) {
  const ResolvedPrecision r = resolve_precision(setting, host_cpu(), source);
  if (!quiet && !r.note.empty()) std::fprintf(stderr, "%s\n", r.note.c_str());
  set_matmul_precision(r.precision);
  return r.precision;
}

}  // namespace sg
