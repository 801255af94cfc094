#include "train/sweep.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "nn/counting.h"
#include "nn/ffw_types.h"
#include "train/ladder.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_util.h"
#include "util/strings.h"

namespace sg {

namespace {

using json = nlohmann::json;

const std::vector<std::string> kKeys = {"description", "base",      "budgets", "types",
                                        "scales",      "overrides", "grid",    "workdir"};
// Run config keys the sweep sets itself.
const std::vector<std::string> kOwnedKeys = {"name", "workdir", "flops_budget", "max_steps"};

// Errors read "<file>: <path> = <value>: <what>", like run config errors.
[[noreturn]] void error(const std::string& source, const std::string& path, const json* value,
                        const std::string& what) {
  std::string v = value ? value->dump() : "";
  if (v.size() > 80) v = v.substr(0, 77) + "...";
  fail(source, ": ", path.empty() ? "(root)" : path, value ? " = " + v : "", ": ", what);
}

const json& required(const json& j, const std::string& key, const std::string& source,
                     const std::string& what) {
  if (!j.contains(key)) error(source, key, nullptr, "missing (" + what + ")");
  return j[key];
}

const json& nonempty_list(const json& j, const std::string& key, const std::string& source,
                          const std::string& what) {
  const json& v = required(j, key, source, what);
  if (!v.is_array() || v.empty())
    error(source, key, &v, "expected a non-empty list (" + what + ")");
  return v;
}

std::string string_value(const json& j, const std::string& key, const std::string& source,
                         const std::string& what) {
  const json& v = required(j, key, source, what);
  if (!v.is_string() || v.get<std::string>().empty())
    error(source, key, &v, "expected a non-empty string (" + what + ")");
  return v.get<std::string>();
}

// Run config paths may not name a key the sweep sets itself.
void check_not_owned(const std::string& key, const json& value, const std::string& source,
                     const std::string& path) {
  if (std::find(kOwnedKeys.begin(), kOwnedKeys.end(), key) != kOwnedKeys.end())
    error(source, path, &value,
          "the sweep sets " + key + " itself (allowed here: any other run config key)");
}

// Short grid-key labels for run names: the last path component, abbreviated if common.
std::string label_of(const std::string& key) {
  static const std::map<std::string, std::string> abbrev = {{"learning_rate", "lr"},
                                                            {"weight_decay", "wd"},
                                                            {"batch_size", "bs"},
                                                            {"seq_len", "seq"},
                                                            {"warmup_steps", "warmup"},
                                                            {"decay_fraction", "decay"},
                                                            {"clip_by_global_norm", "clip"},
                                                            {"n_gradient_accumulation", "accum"},
                                                            {"activation", "act"},
                                                            {"router_type", "router"},
                                                            {"n_channels", "C"},
                                                            {"knn", "K"},
                                                            {"d_key", "Kd"},
                                                            {"d_ffw", "F"}};
  const std::string last = key.substr(key.rfind('.') + 1);
  const auto it = abbrev.find(last);
  return it == abbrev.end() ? last : it->second;
}

// %g without the exponent's '+' and leading zeros: 1e-05 -> 1e-5, 1e+15 -> 1e15.
std::string compact_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  std::string s = buf, out;
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  out = s.substr(0, e + 1);
  size_t i = e + 1;
  if (s[i] == '+')
    ++i;
  else if (s[i] == '-')
    out += s[i++];
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return out + s.substr(i);
}

// A grid value as it appears in a run name: only [A-Za-z0-9._-] (others become '-').
std::string name_value(const json& v) {
  std::string s = v.is_number_float() ? compact_number(v.get<double>())
                  : v.is_string()     ? v.get<std::string>()
                                      : v.dump();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  return s;
}

std::string override_string(const std::string& key, const json& value) {
  return key + "=" + value.dump();
}

}  // namespace

std::string format_budget(double budget) {
  const int e = static_cast<int>(std::floor(std::log10(budget)));
  char mant[32];
  std::snprintf(mant, sizeof mant, "%g", budget / std::pow(10.0, e));
  return cat(mant, "e", e);
}

SweepSpec parse_sweep(const json& j, const std::string& source) {
  SweepSpec s;
  s.source = source;
  if (!j.is_object()) error(source, "", &j, "expected an object");
  for (const auto& [key, value] : j.items())
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
      error(source, key, &value, "unknown key (known keys: " + join(kKeys) + ")");
  if (j.contains("description") && !j["description"].is_string())
    error(source, "description", &j["description"], "expected a string");
  s.base = string_value(j, "base", source, "the base run config");
  s.workdir = string_value(j, "workdir", source, "folder for the run folders and the summary");

  const json& budgets = nonempty_list(j, "budgets", source, "FLOP budgets, e.g. [1e15, 3e15]");
  for (size_t i = 0; i < budgets.size(); ++i) {
    const json& b = budgets[i];
    const std::string path = cat("budgets[", i, "]");
    if (!b.is_number() || !std::isfinite(b.get<double>()) || b.get<double>() <= 0)
      error(source, path, &b, "expected a FLOP budget > 0, e.g. 1e15");
    if (std::find(s.budgets.begin(), s.budgets.end(), b.get<double>()) != s.budgets.end())
      error(source, path, &b, "listed twice");
    s.budgets.push_back(b.get<double>());
  }
  const json& types = nonempty_list(j, "types", source, "feedforward types");
  for (size_t i = 0; i < types.size(); ++i) {
    const json& t = types[i];
    const std::string path = cat("types[", i, "]");
    if (!t.is_string() || !find_ffw_type(t.get<std::string>()))
      error(source, path, &t, "unknown feedforward type (allowed: " + join(ffw_type_names()) + ")");
    if (std::find(s.types.begin(), s.types.end(), t.get<std::string>()) != s.types.end())
      error(source, path, &t, "listed twice");
    s.types.push_back(t.get<std::string>());
  }
  const json& scales = nonempty_list(j, "scales", source, "ladder scales, e.g. [1, 2]");
  for (size_t i = 0; i < scales.size(); ++i) {
    const json& sc = scales[i];
    const std::string path = cat("scales[", i, "]");
    const bool integral =
        sc.is_number_integer() ||
        (sc.is_number_float() && sc.get<double>() == std::floor(sc.get<double>()));
    if (!integral || sc.get<double>() < 1 || sc.get<double>() > 64)
      error(source, path, &sc, "expected an integer scale in 1..64 (spec §6: d_model = 128*s)");
    const auto v = static_cast<int64_t>(sc.get<double>());
    if (std::find(s.scales.begin(), s.scales.end(), v) != s.scales.end())
      error(source, path, &sc, "listed twice");
    s.scales.push_back(v);
  }
  if (j.contains("overrides")) {
    const json& o = j["overrides"];
    if (!o.is_object())
      error(source, "overrides", &o, "expected an object of \"json.path\": value");
    for (const auto& [key, value] : o.items())
      check_not_owned(key, value, source, "overrides." + key);
    s.overrides = o;
  }
  if (j.contains("grid")) {
    const json& g = j["grid"];
    if (!g.is_object()) error(source, "grid", &g, "expected an object of \"json.path\": [values]");
    std::map<std::string, std::string> labels;     // label -> key, to keep run names unique
    for (const auto& [key, values] : g.items()) {  // nlohmann objects iterate sorted by key
      const std::string path = "grid." + key;
      check_not_owned(key, values, source, path);
      if (!values.is_array() || values.empty())
        error(source, path, &values, "expected a non-empty list of values");
      if (s.overrides.contains(key))
        error(source, path, &values, "also set in overrides (set it in one place)");
      const auto [it, fresh] = labels.emplace(label_of(key), key);
      if (!fresh)
        error(source, path, &values,
              "its run-name label \"" + it->first + "\" clashes with grid key " + it->second);
      std::set<std::string> seen;
      for (size_t i = 0; i < values.size(); ++i)
        if (!seen.insert(name_value(values[i])).second)
          error(source, cat(path, "[", i, "]"), &values[i], "listed twice");
      s.grid.emplace_back(key, std::vector<json>(values.begin(), values.end()));
    }
  }
  return s;
}

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep(parse_json_strict(read_file(path), path), path);
}

std::vector<PlannedRun> expand_sweep(const SweepSpec& s, const RunConfig& base) {
  // Grid combinations, the last key varying fastest.
  std::vector<std::vector<std::pair<std::string, json>>> combos = {{}};
  for (const auto& [key, values] : s.grid) {
    std::vector<std::vector<std::pair<std::string, json>>> next;
    for (const auto& c : combos)
      for (const json& v : values) {
        next.push_back(c);
        next.back().emplace_back(key, v);
      }
    combos = std::move(next);
  }
  std::vector<PlannedRun> plan;
  for (double budget : s.budgets)
    for (const std::string& type : s.types)
      for (int64_t scale : s.scales)
        for (const auto& combo : combos) {
          PlannedRun r;
          r.budget = budget;
          r.type = type;
          r.scale = scale;
          r.grid_values = combo;
          r.name = cat("b", format_budget(budget), "_", type, "_s", scale);
          for (const auto& [key, v] : combo) r.name += cat("_", label_of(key), name_value(v));

          json j = base.raw;
          j["model"] = to_json(ladder_model(type, scale, base.model.vocab_size));
          j["name"] = r.name;
          j["workdir"] = s.workdir;
          j["flops_budget"] = budget;
          j["max_steps"] = nullptr;
          std::vector<std::string> overrides;
          for (const auto& [key, v] : s.overrides.items())
            overrides.push_back(override_string(key, v));
          for (const auto& [key, v] : combo) overrides.push_back(override_string(key, v));
          r.cfg = parse_run_config(j, cat(s.source, " (run ", r.name, ", base ", s.base, ")"),
                                   overrides);

          const ModelConfig& m = r.cfg.model;
          const int64_t T = r.cfg.data.seq_len, B = r.cfg.data.batch_size;
          r.steps = steps_for_budget(budget, m, T, B);
          r.tokens = r.steps * B * T;
          r.n_params = n_params(m);
          r.train_flops_per_token = 3.0 * static_cast<double>(fwd_flops_per_sequence(m, T)) / T;
          r.run_dir = (std::filesystem::path(s.workdir) / r.name).string();
          plan.push_back(std::move(r));
        }
  std::set<std::string> names;  // e.g. budgets 1e15 and 1.0000001e15 print alike
  for (const auto& r : plan)
    SG_CHECK(names.insert(r.name).second, s.source, ": two runs would both be named ", r.name,
             " (make the budgets or grid values differ in their first 6 digits)");
  return plan;
}

}  // namespace sg
