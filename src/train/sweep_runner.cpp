// The sweep runner behind `sgatlin sweep` (see sweep_runner.h): run states, time
// estimates, the plan table and the run loop.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "train/sweep_runner.h"

#include "dist/comm.h"
#include "train/bench.h"
#include "train/checkpoint.h"
#include "train/run_setup.h"
#include "train/stop_signal.h"
#include "train/sweep.h"
#include "train/sweep_report.h"
#include "util/error.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

using json = nlohmann::json;

enum class Status { new_run, resume, done, zero_steps };

struct RunState {
  Status status = Status::new_run;
  int64_t resume_step = 0;
};

std::string human(double x) {
  char buf[32];
  if (x >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2fG", x / 1e9);
  else if (x >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", x / 1e6);
  else if (x >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fk", x / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}

// A finished or resumable run must have been started with the config this sweep plans
// for it; otherwise its results would be mislabelled.
void check_same_config(const PlannedRun& r) {
  const fs::path saved = fs::path(r.run_dir) / "config.json";
  SG_CHECK(fs::exists(saved), r.run_dir,
           " holds a run but no config.json; delete the folder to rerun it");
  const json old = load_run_config(saved.string()).raw;
  if (old == r.cfg.raw) return;
  const json patch = json::diff(old, r.cfg.raw);
  const json::json_pointer at(patch.at(0).at("path").get<std::string>());
  std::string path = at.to_string().substr(1);
  std::replace(path.begin(), path.end(), '/', '.');
  fail(r.run_dir, " holds a run with another config (", path, " = ",
       old.contains(at) ? old[at].dump() : "(absent)", " there, ",
       r.cfg.raw.contains(at) ? r.cfg.raw[at].dump() : "(absent)",
       " in this sweep); delete that folder or give the sweep another workdir");
}

RunState run_state(const PlannedRun& r, bool check_config) {
  RunState st;
  if (r.steps == 0) {
    st.status = Status::zero_steps;
    return st;
  }
  const fs::path dir(r.run_dir);
  if (fs::exists(dir / "summary.json")) {
    st.status = Status::done;
  } else if (fs::exists(dir / "checkpoints" / "latest")) {
    st.status = Status::resume;
    const std::string ckpt =
        fs::path(resolve_checkpoint(r.run_dir)).filename().string();  // step_NNNNNNNN
    st.resume_step = std::stoll(ckpt.substr(ckpt.find('_') + 1));
  }
  if (check_config && st.status != Status::new_run) check_same_config(r);
  return st;
}

std::string status_text(const RunState& st) {
  switch (st.status) {
    case Status::new_run: return "to run";
    case Status::resume: return cat("resume at step ", st.resume_step);
    case Status::done: return "finished";
    case Status::zero_steps: return "skip: 0 steps";
  }
  return "";
}

// Training seconds of a run from a measured tokens/s; validation forwards are counted
// at a third of a training step's cost per token.
double estimate_seconds(const PlannedRun& r, double tokens_per_s) {
  const RunConfig& c = r.cfg;
  const int64_t micro = c.data.batch_size / c.optimizer.n_gradient_accumulation;
  const int64_t evals = r.steps / c.eval_every + (r.steps % c.eval_every ? 1 : 0);
  const double eval_tokens = static_cast<double>(evals * c.eval_batches * micro * c.data.seq_len);
  return (static_cast<double>(r.tokens) + eval_tokens / 3) / tokens_per_s;
}

// tokens/s of every distinct model shape, from a short bench_model on a batch of about
// 8k tokens (smaller than the run's batch when that is larger: throughput per token
// hardly depends on it, and a TinyStories batch would take minutes per step here).
std::map<std::string, double> bench_shapes(const std::vector<PlannedRun>& plan,
                                           const std::vector<RunState>& states, int64_t steps) {
  std::map<std::string, RunConfig> shapes;
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedRun& r = plan[i];
    if (states[i].status == Status::zero_steps || states[i].status == Status::done) continue;
    RunConfig c = r.cfg;
    const int64_t micro = c.data.batch_size / c.optimizer.n_gradient_accumulation;
    c.data.batch_size = std::min<int64_t>(micro, std::max<int64_t>(1, 8192 / c.data.seq_len));
    shapes.emplace(to_json(c.model).dump() + cat("|", c.data.batch_size, "|", c.data.seq_len), c);
  }
  std::map<std::string, double> tps;
  if (shapes.empty()) return tps;
  Progress progress("benchmark", static_cast<int64_t>(shapes.size()));
  int64_t done = 0;
  for (const auto& [key, c] : shapes) {
    tps[key.substr(0, key.find('|'))] = bench_model(c, steps).tokens_per_s;
    progress.update(++done);
  }
  progress.finish(cat(shapes.size(), " model shapes x ", steps, " steps"));
  return tps;
}

void print_plan(const std::vector<PlannedRun>& plan, const std::vector<RunState>& states,
                const std::map<std::string, double>& tps, int threads) {
  size_t w = 4;
  for (const auto& r : plan) w = std::max(w, r.name.size());
  std::printf("%-*s %9s %10s %8s %9s %10s  %s\n", static_cast<int>(w), "run", "params", "MFLOP/tok",
              "steps", "tokens", tps.empty() ? "" : "est. time", "status");
  double total = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedRun& r = plan[i];
    std::string est;
    const auto it = tps.find(to_json(r.cfg.model).dump());
    if (it != tps.end() && r.steps > 0) {
      const double s = estimate_seconds(r, it->second);
      est = format_duration(s);
      if (states[i].status == Status::new_run) total += s;
      if (states[i].status == Status::resume)
        total += s * (1.0 - static_cast<double>(states[i].resume_step) / r.steps);
    }
    std::string note = status_text(states[i]);
    if (r.steps > 0 && r.steps <= r.cfg.optimizer.warmup_steps)
      note +=
          cat(" (note: ", r.steps, " steps <= warmup_steps ", r.cfg.optimizer.warmup_steps, ")");
    std::printf("%-*s %9s %10.2f %8lld %9s %10s  %s\n", static_cast<int>(w), r.name.c_str(),
                human(static_cast<double>(r.n_params)).c_str(), r.train_flops_per_token / 1e6,
                static_cast<long long>(r.steps), human(static_cast<double>(r.tokens)).c_str(),
                est.c_str(), note.c_str());
  }
  std::printf(
      "MFLOP/tok: training FLOPs per token (3x forward, spec §5: no embedding or logits)\n");
  if (!tps.empty())
    std::printf(
        "estimated time of the runs still to do: %s (from a short benchmark at %d threads)\n",
        format_duration(total).c_str(), threads);
}

// Every run of the plan that has a summary.json, in plan order.
std::vector<SweepRow> finished_rows(const std::vector<PlannedRun>& plan) {
  std::vector<SweepRow> rows;
  for (const PlannedRun& r : plan) {
    const fs::path summary = fs::path(r.run_dir) / "summary.json";
    if (r.steps > 0 && fs::exists(summary))
      rows.push_back({r, read_train_summary(summary.string())});
  }
  return rows;
}

void refresh_outputs(const SweepSpec& spec, const std::vector<SweepRow>& rows, bool plot) {
  write_sweep_summary(spec, rows);
  if (!plot || rows.empty()) return;
  try {
    plot_sweep(spec, rows);
  } catch (const Error& e) {
    std::cerr << "warning: plots not updated: " << e.what() << "\n";
  }
}

}  // namespace

void run_sweep(const SweepOptions& a, int threads) {
  const SweepSpec spec = load_sweep(a.config);
  RunConfig base = load_run_config(spec.base, a.overrides);
  bool have_data = true;
  try {
    absolutize_data_paths(base);
  } catch (const Error& e) {
    if (!a.dry_run) throw;
    have_data = false;
    std::cerr << "note: " << e.what() << "\n";
  }
  const std::vector<PlannedRun> plan = expand_sweep(spec, base);
  std::vector<RunState> states;
  for (const auto& r : plan) states.push_back(run_state(r, have_data));
  const size_t runnable =
      std::count_if(plan.begin(), plan.end(), [](const PlannedRun& r) { return r.steps > 0; });
  if (dist::world_rank() == 0)
    std::printf(
        "sweep %s: %zu runs (%zu budgets x %zu types x %zu scales x %zu grid points) in %s\n",
        a.config.c_str(), plan.size(), spec.budgets.size(), spec.types.size(), spec.scales.size(),
        plan.size() / (spec.budgets.size() * spec.types.size() * spec.scales.size()),
        spec.workdir.c_str());
  if (a.dry_run) {
    if (dist::world_rank() != 0) return;  // one plan, one benchmark
    std::fflush(stdout);
    print_plan(plan, states,
               a.bench_steps > 0 ? bench_shapes(plan, states, a.bench_steps)
                                 : std::map<std::string, double>{},
               threads);
    return;
  }
  if (dist::world_rank() == 0) print_plan(plan, states, {}, threads);
  SG_CHECK(runnable > 0, a.config,
           ": every run has 0 steps: the budgets are smaller than one "
           "optimizer step of the smallest model (raise budgets or lower data.batch_size)");
  std::fflush(stdout);

  const bool plot = gnuplot_available();
  std::vector<SweepRow> rows;
  std::vector<std::string> failed;
  bool stopped = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    // Under mpirun each rank trains every R-th run alone, with its own threads.
    if (static_cast<int>(i % dist::world_size()) != dist::world_rank()) continue;
    const dist::SoloScope solo;
    const PlannedRun& r = plan[i];
    const std::string tag = cat("[", i + 1, "/", plan.size(), "] ", r.name);
    if (states[i].status == Status::zero_steps) {
      std::cerr << cat(tag, ": skipped, 0 steps (one step of this model costs more than ",
                       format_budget(r.budget), " FLOPs)\n");
      continue;
    }
    if (states[i].status == Status::done) {
      rows.push_back({r, read_train_summary((fs::path(r.run_dir) / "summary.json").string())});
      std::cerr << cat(tag, ": finished earlier, skipped (val_loss ", rows.back().result.val_loss,
                       ")\n");
      continue;
    }
    const bool resume = states[i].status == Status::resume;
    // One write per line: under mpirun the ranks' lines must not interleave.
    std::cerr << cat(tag, ": ",
                     resume ? cat("resuming at step ", states[i].resume_step) : "training", " (",
                     r.steps, " steps, ", threads, " threads)\n");
    try {
      const TrainOptions opt = prepare_run(r.cfg, r.run_dir, resume);
      rows.push_back({r, train(r.cfg, opt)});
      std::cerr << cat(tag, ": done, val_loss ", rows.back().result.val_loss, " in ",
                       format_duration(rows.back().result.wall_s), "\n");
    } catch (const Stopped& e) {  // SIGTERM/SIGINT: the run checkpointed; start no other
      std::cerr << cat(tag, ": ", e.what(), "\n");
      stopped = true;
      break;
    } catch (const Error& e) {
      std::cerr << cat(tag, ": FAILED: ", e.what(), "\n");
      failed.push_back(r.name);
      continue;
    }
    if (dist::world_size() == 1) refresh_outputs(spec, rows, plot);
  }
  if (dist::world_size() > 1) {  // rank 0 reports once every rank is done
    dist::world_barrier();
    const double n_failed = dist::sum_in_rank_order(static_cast<double>(failed.size()));
    stopped = dist::any(stopped);
    if (dist::world_rank() != 0) return;
    rows = finished_rows(plan);
    failed.resize(static_cast<size_t>(n_failed),
                  "(a run of another rank, named in its messages above)");
  }
  refresh_outputs(spec, rows, plot);
  std::printf("summary: %s/summary.csv and summary.json (%zu runs)\n", spec.workdir.c_str(),
              rows.size());
  if (plot)
    std::printf("plots: %s/plots/\n", spec.workdir.c_str());
  else
    std::printf(
        "gnuplot not found: plots skipped (install gnuplot-nox, then rerun this command)\n");
  if (stopped) throw Stopped("sweep stopped by a signal; rerun the same command to continue it");
  SG_CHECK(failed.empty(), failed.size(), " run(s) failed: ", [&] {
    std::string s;
    for (const auto& f : failed) s += (s.empty() ? "" : ", ") + f;
    return s;
  }());
}

}  // namespace sg
