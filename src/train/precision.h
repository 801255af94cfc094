// Resolving a run's `precision` setting (spec §1, §8) against the CPU it runs on:
// "fp32", "bf16" or "auto" (bf16 where the CPU has native bf16 arithmetic, avx512_bf16 or
// AMX, else fp32). The resolved precision is what a run records and what resume checks.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ops/linear.h"

namespace sg {

// What the precision choice depends on. Tests pass made-up CPUs.
struct CpuFeatures {
  std::string model_name;  // lscpu's "Model name"
  bool avx512_bf16 = false, amx_bf16 = false;
  bool native_bf16() const { return avx512_bf16 || amx_bf16; }
};
// This machine, from /proc/cpuinfo (model name and flags); read once.
const CpuFeatures& host_cpu();

struct ResolvedPrecision {
  MatmulPrecision precision = MatmulPrecision::fp32;
  std::string note;  // why "auto" chose what it chose (empty for an explicit setting)
};
// `setting` is "fp32", "bf16" or "auto". "bf16" on a CPU without native bf16 is refused
// with the CPU's name and what it lacks; `source` names where the setting came from.
ResolvedPrecision resolve_precision(const std::string& setting, const CpuFeatures& cpu,
                                    const std::string& source);
const char* precision_name(MatmulPrecision p);  // "fp32" | "bf16"
// Inverse of precision_name; throws naming `source` for anything else.
MatmulPrecision parse_precision_name(const std::string& name, const std::string& source);

// The precision setting of a command that runs a saved model (eval, generate, scope,
// intervene): "precision=VALUE" from its --set options (the only key they take), else
// the run config's "precision", else "auto" (checkpoints from before the key).
std::string saved_model_precision(const nlohmann::json& run_config,
                                  const std::vector<std::string>& overrides);

// Resolves `setting` on host_cpu(), makes it the process-wide matmul precision and
// returns it; prints the note of "auto" to stderr unless quiet.
MatmulPrecision apply_precision(const std::string& setting, const std::string& source,
                                bool quiet = false);

}  // namespace sg
