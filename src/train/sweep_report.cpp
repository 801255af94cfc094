#include "train/sweep_report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "nn/ffw_types.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_util.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

using json = nlohmann::json;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_value(const json& v) {
  return csv_field(v.is_string() ? v.get<std::string>() : v.dump());
}

// gnuplot single-quoted string: a quote is written twice.
std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Position in the canonical type order (nn/ffw_types.h): plots list types in it.
size_t type_index(const std::string& type) { return static_cast<size_t>(ffw_type(type).type); }

// gnuplot line colour of a type; sgatlin (the method) in red, the baselines in calmer hues.
std::string type_color(const std::string& type) {
  static const char* colors[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728"};
  return std::string("rgb '") + colors[type_index(type)] + "'";
}

std::vector<double> budgets_of(const std::vector<SweepRow>& rows) {
  std::vector<double> b;
  for (const auto& r : rows)
    if (std::find(b.begin(), b.end(), r.run.budget) == b.end()) b.push_back(r.run.budget);
  return b;
}

// Isoflop data of one budget: a block per type (sorted by scale), each point the best
// final validation loss over the grid. Returns the types, in block order.
std::vector<std::string> write_isoflop_data(const std::vector<SweepRow>& rows, double budget,
                                            const fs::path& file) {
  std::map<size_t, std::map<int64_t, const SweepRow*>> best;  // type index -> scale -> row
  for (const auto& r : rows) {
    if (r.run.budget != budget) continue;
    const SweepRow*& b = best[type_index(r.run.type)][r.run.scale];
    if (!b || r.result.val_loss < b->result.val_loss) b = &r;
  }
  std::ostringstream out;
  std::vector<std::string> types;
  for (const auto& [index, by_scale] : best) {
    types.push_back(ffw_types()[index].name);
    out << "# " << types.back() << ": n_params val_loss scale name\n";
    for (const auto& [scale, r] : by_scale)
      out << r->result.n_params << " " << json(r->result.val_loss).dump() << " " << scale << " "
          << r->run.name << "\n";
    out << "\n\n";
  }
  write_file_atomic(file.string(), out.str());
  return types;
}

// Loss curves of one run from its metrics.jsonl: block 0 "tokens loss" (training),
// block 1 "tokens val_loss". Returns false when there is no metrics file.
bool write_curve_data(const SweepRow& r, const fs::path& file) {
  const fs::path metrics = fs::path(r.run.run_dir) / "metrics.jsonl";
  if (!fs::exists(metrics)) return false;
  const int64_t tokens_per_step = r.run.cfg.data.batch_size * r.run.cfg.data.seq_len;
  std::ostringstream train, val;
  std::istringstream in(read_file(metrics.string()));
  std::string line;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step")) continue;
    const int64_t tokens = j["step"].get<int64_t>() * tokens_per_step;
    if (j.contains("loss")) train << tokens << " " << j["loss"].dump() << "\n";
    if (j.contains("val_loss")) val << tokens << " " << j["val_loss"].dump() << "\n";
  }
  write_file_atomic(file.string(),
                    "# tokens loss\n" + train.str() + "\n\n# tokens val_loss\n" + val.str());
  return true;
}

std::string isoflop_script(double budget, const std::vector<std::string>& types,
                           const fs::path& data, const fs::path& png) {
  std::ostringstream gp;
  gp << "set output " << gp_quote(png.string()) << "\n"
     << "set title 'Isoflop: " << format_budget(budget)
     << " training FLOPs (best run over the grid at each point)'\n"
     << "set logscale x\nunset logscale y\nset xlabel 'parameters'\n"
     << "set ylabel 'final validation loss'\nset key top right\nset format x '%.0s%c'\n"
     << "set grid\nplot ";
  for (size_t i = 0; i < types.size(); ++i)
    gp << (i ? ", \\\n     " : "") << gp_quote(data.string()) << " index " << i
       << " using 1:2 with linespoints lw 2 pt 7 lc " << type_color(types[i]) << " title '"
       << types[i] << "', '' index " << i
       << " using 1:2:(sprintf('s%d', int($3))) with labels offset char 0,1 notitle";
  gp << "\n";
  return gp.str();
}

// Two panels: training loss and validation loss against tokens (log x), colour by type
// and dash pattern by scale.
std::string curves_script(double budget,
                          const std::vector<std::pair<const SweepRow*, fs::path>>& runs,
                          const fs::path& png) {
  std::ostringstream gp;
  gp << "set output " << gp_quote(png.string()) << "\n"
     << "set multiplot layout 1,2 title 'Loss curves: " << format_budget(budget)
     << " training FLOPs'\nset logscale x\nunset logscale y\nset xlabel 'tokens'\nset grid\n"
     << "set format x '%.0s%c'\nset key outside right font ',8'\n";
  const std::string prefix = cat("b", format_budget(budget), "_");
  for (int panel = 0; panel < 2; ++panel) {
    gp << "set title '" << (panel ? "validation" : "training") << " loss'\nset ylabel '"
       << (panel ? "validation" : "training") << " loss'\n"
       << (panel ? "" : "unset key\n") << "plot ";
    for (size_t i = 0; i < runs.size(); ++i) {
      const SweepRow& r = *runs[i].first;
      const std::string title = r.run.name.substr(prefix.size());
      gp << (i ? ", \\\n     " : "") << gp_quote(runs[i].second.string()) << " index " << panel
         << " using 1:2 with " << (panel ? "linespoints pt 7 ps 0.5" : "lines") << " lw 1.5 lc "
         << type_color(r.run.type) << " dt " << r.run.scale << " title " << gp_quote(title);
    }
    gp << "\nset key outside right font ',8'\n";
  }
  gp << "unset multiplot\n";
  return gp.str();
}

}  // namespace

TrainSummary read_train_summary(const std::string& path) {
  const json j = parse_json_strict(read_file(path), path);
  TrainSummary s;
  try {
    s.steps = j.at("steps").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.n_params = j.at("n_params").get<int64_t>();
    s.final_train_loss = j.at("final_train_loss").get<double>();
    s.val_loss = j.at("val_loss").get<double>();
    s.val_accuracy = j.at("val_accuracy").get<double>();
    s.val_perplexity = j.at("val_perplexity").get<double>();
    s.wall_s = j.at("wall_s").get<double>();
    s.tokens_per_s = j.at("tokens_per_s").get<double>();
  } catch (const json::exception& e) {
    fail(path, ": not a run summary (", e.what(), ")");
  }
  return s;
}

json sweep_summary_json(const std::vector<SweepRow>& rows) {
  json out = json::array();
  for (const auto& r : rows) {
    json grid = json::object();
    for (const auto& [key, v] : r.run.grid_values) grid[key] = v;
    const TrainSummary& s = r.result;
    out.push_back({{"name", r.run.name},
                   {"budget", r.run.budget},
                   {"type", r.run.type},
                   {"scale", r.run.scale},
                   {"grid", grid},
                   {"n_params", s.n_params},
                   {"train_flops_per_token", r.run.train_flops_per_token},
                   {"steps", s.steps},
                   {"tokens", s.tokens},
                   {"final_train_loss", s.final_train_loss},
                   {"val_loss", s.val_loss},
                   {"val_perplexity", s.val_perplexity},
                   {"val_accuracy", s.val_accuracy},
                   {"wall_s", s.wall_s},
                   {"tokens_per_s", s.tokens_per_s},
                   {"run_dir", r.run.run_dir}});
  }
  return out;
}

std::string sweep_summary_csv(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  const std::vector<std::string> numbers = {
      "n_params", "train_flops_per_token", "steps",        "tokens", "final_train_loss",
      "val_loss", "val_perplexity",        "val_accuracy", "wall_s", "tokens_per_s"};
  auto line = [](const std::vector<std::string>& fields) {
    std::string s;
    for (const auto& f : fields) {
      if (!s.empty()) s += ',';
      s += f;
    }
    return s + '\n';
  };
  std::vector<std::string> header = {"name", "budget", "type", "scale"};
  for (const auto& [key, _] : spec.grid) header.push_back(csv_field(key));
  header.insert(header.end(), numbers.begin(), numbers.end());
  header.push_back("run_dir");
  std::string csv = line(header);
  for (const json& j : sweep_summary_json(rows)) {
    std::vector<std::string> f = {csv_value(j["name"]), j["budget"].dump(), csv_value(j["type"]),
                                  j["scale"].dump()};
    for (const auto& [key, _] : spec.grid) f.push_back(csv_value(j["grid"][key]));
    for (const auto& k : numbers) f.push_back(j[k].dump());
    f.push_back(csv_value(j["run_dir"]));
    csv += line(f);
  }
  return csv;
}

void write_sweep_summary(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  fs::create_directories(spec.workdir);
  write_file_atomic((fs::path(spec.workdir) / "summary.json").string(),
                    sweep_summary_json(rows).dump(2) + "\n");
  write_file_atomic((fs::path(spec.workdir) / "summary.csv").string(),
                    sweep_summary_csv(spec, rows));
}

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

std::vector<std::string> plot_sweep(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  const fs::path dir = fs::absolute(fs::path(spec.workdir) / "plots"), data = dir / "data";
  fs::create_directories(data);
  std::string script = "# Written by 'sgatlin sweep'; rerun with: gnuplot " +
                       (dir / "sweep.gp").string() +
                       "\nset terminal pngcairo size 1200,700 noenhanced font ',11'\n";
  std::vector<std::string> pngs;
  for (double budget : budgets_of(rows)) {
    const std::string b = format_budget(budget);
    const fs::path iso_data = data / ("isoflop_b" + b + ".dat"),
                   iso_png = dir / ("isoflop_b" + b + ".png");
    script += isoflop_script(budget, write_isoflop_data(rows, budget, iso_data), iso_data, iso_png);
    pngs.push_back(iso_png.string());
    std::vector<std::pair<const SweepRow*, fs::path>> curves;
    for (const auto& r : rows)
      if (r.run.budget == budget && write_curve_data(r, data / (r.run.name + ".dat")))
        curves.emplace_back(&r, data / (r.run.name + ".dat"));
    if (curves.empty()) continue;
    const fs::path loss_png = dir / ("loss_b" + b + ".png");
    script += curves_script(budget, curves, loss_png);
    pngs.push_back(loss_png.string());
  }
  const fs::path gp = dir / "sweep.gp";
  write_file_atomic(gp.string(), script);
  FILE* p = ::popen(("gnuplot " + sh_quote(gp.string()) + " 2>&1").c_str(), "r");
  SG_CHECK(p, "could not start gnuplot");
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  const int status = ::pclose(p);
  SG_CHECK(status == 0, "gnuplot failed on ", gp.string(), ":\n", output);
  return pngs;
}

}  // namespace sg
