#include "train/trainer.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <omp.h>

#include "dist/comm.h"
#include "dist/grad_reducer.h"
#include "eval/evaluate.h"
#include "nn/counting.h"
#include "nn/transformer.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "optim/adamw.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/precision.h"
#include "train/safetensors.h"
#include "train/stop_signal.h"
#include "util/file_io.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

// fp32 GFLOP/s that one core of this machine sustains in oneDNN sgemm
// (docs/PERFORMANCE.md): the reference for the `mfu` metric.
constexpr double kPeakGflopsPerThread = 110.0;

struct Run {
  const RunConfig& cfg;
  const TrainOptions& opt;
  Transformer model;
  AdamW adamw;
  Loader loader;
  TrainerState state;
  MicroBatchShare share;  // this rank's micro-batches of each step
  dist::GradReducer reducer;
  int64_t total_steps;
  double train_flops_per_token;  // 3x forward, logits included (for mfu)
  std::ofstream metrics;

  Run(const RunConfig& c, const TrainOptions& o)
      : cfg(c),
        opt(o),
        model(c.model, c.seed),
        adamw(model.params(), AdamWConfig{c.optimizer.learning_rate, c.optimizer.weight_decay, 0.9,
                                          0.999, 1e-8, c.optimizer.clip_by_global_norm}),
        loader(c.data.train, c.data.batch_size / c.optimizer.n_gradient_accumulation,
               c.data.seq_len, c.seed, o.eos_id),
        share(share_micro_batches(c.optimizer.n_gradient_accumulation, dist::size(), dist::rank())),
        reducer(model.params(), c.model.n_layers),
        total_steps(planned_steps(c, loader.tokens())) {
    const int64_t T = c.data.seq_len, D = c.model.d_model, V = c.model.vocab_size;
    train_flops_per_token =
        3.0 * (static_cast<double>(fwd_flops_per_sequence(c.model, T)) / T + 2.0 * D * V);
  }
};

// Only rank 0 opens the log; the others' lines are the same and go nowhere.
void write_json_line(std::ofstream& out, const nlohmann::json& j) {
  if (!out.is_open()) return;
  out << j.dump() << "\n";
  out.flush();
}

// After a resume, drop log lines past the checkpoint (and a torn last line) so the
// log reads as one uninterrupted run. Returns the last training loss kept (0: none).
double truncate_metrics(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return 0;
  std::ifstream in(path);
  std::string line, kept;
  double last_loss = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("step", int64_t{0}) > step) continue;
    kept += line + "\n";
    if (j.contains("loss")) last_loss = j["loss"].get<double>();
  }
  write_file_atomic(path.string(), kept);
  return last_loss;
}

// Resuming with a different model, data or batch layout would silently continue
// another experiment: refuse, naming the keys that differ.
void check_resume_config(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& ckpt) {
  std::string diff;
  for (const char* key : {"/seed", "/model", "/data/train", "/data/seq_len", "/data/batch_size",
                          "/optimizer/n_gradient_accumulation"}) {
    const nlohmann::json::json_pointer ptr(key);
    if (saved.contains(ptr) && saved.at(ptr) != now.at(ptr))
      diff += cat(" ", std::string(key).substr(1), ": ", saved.at(ptr).dump(), " -> ",
                  now.at(ptr).dump(), ";");
  }
  SG_CHECK(diff.empty(), "--resume: the config differs from the checkpoint ", ckpt, " in", diff,
           " (only schedule, logging and budget keys may change on resume)");
}

void print_header(const Run& r) {
  const RunConfig& c = r.cfg;
  const int64_t tokens_per_step = c.data.batch_size * c.data.seq_len;
  std::fprintf(
      stderr,
      "run %s: %s ffw, %lld params, %.1f MFLOP/token trained, %d threads, %s\n"
      "  %lld steps x %lld tokens = %.3g tokens (train shard: %lld tokens), budget %.3g FLOPs\n",
      c.name.c_str(), c.model.ffw.type.c_str(), static_cast<long long>(r.model.params().numel()),
      r.train_flops_per_token / 1e6, omp_get_max_threads(), r.state.precision.c_str(),
      static_cast<long long>(r.total_steps), static_cast<long long>(tokens_per_step),
      static_cast<double>(r.total_steps * tokens_per_step),
      static_cast<long long>(r.loader.tokens()),
      r.train_flops_per_token * r.total_steps * tokens_per_step);
}

EvalResult validate(Run& r) {
  // Micro-batch sized, and never more windows than the shard holds (no wrap-around).
  const int64_t micro = r.cfg.data.batch_size / r.cfg.optimizer.n_gradient_accumulation;
  const int64_t windows =
      Loader(r.cfg.data.valid, 1, r.cfg.data.seq_len, r.cfg.seed, r.opt.eos_id, false)
          .windows_per_epoch();
  Loader valid(r.cfg.data.valid, std::max<int64_t>(1, std::min(micro, windows)), r.cfg.data.seq_len,
               r.cfg.seed, r.opt.eos_id, /*shuffle=*/false);
  return evaluate_on_all_ranks(r.model, valid, r.cfg.eval_batches, r.opt.pad_id);
}

// One optimizer step over n_gradient_accumulation micro-batches, this rank's share of
// them computed here, gradients summed over all ranks (dist/grad_reducer.h); returns
// the mean loss over all micro-batches, the same on every rank.
double train_step(Run& r, Tape& tape) {
  const int64_t accum = r.cfg.optimizer.n_gradient_accumulation;
  double loss_sum = 0;
  for (int64_t a = 0; a < accum; ++a) {
    const Batch batch = r.loader.next();
    if (!r.share.mine(a)) continue;
    const CrossEntropyResult ce = cross_entropy(tape, r.model.forward(tape, batch.inputs_BxT),
                                                batch.targets_BxT.reshape({-1}), r.opt.pad_id);
    if (r.share.last_mine(a)) r.reducer.arm(tape.marks());
    tape.backward(accum > 1 ? scale(tape, ce.loss, 1.0f / accum) : ce.loss,
                  [&](size_t i) { r.reducer.after_backward_step(i); });
    r.reducer.micro_batch_done();
    loss_sum += ce.loss->value[0];
  }
  r.reducer.finish();
  const double loss = dist::sum_in_rank_order(loss_sum) / accum;
  SG_CHECK(std::isfinite(loss), "loss is ", loss);  // global: every rank stops here together
  return loss;
}

void setup_run_dir(const Run& r) {
  if (!dist::is_root()) return;
  fs::create_directories(r.opt.run_dir);
  write_file_atomic((fs::path(r.opt.run_dir) / "config.json").string(), r.cfg.raw.dump(2) + "\n");
}

}  // namespace

nlohmann::json to_json(const TrainSummary& s) {
  return {{"steps", s.steps},
          {"tokens", s.tokens},
          {"n_params", s.n_params},
          {"final_train_loss", s.final_train_loss},
          {"val_loss", s.val_loss},
          {"val_accuracy", s.val_accuracy},
          {"val_perplexity", s.val_perplexity},
          {"wall_s", s.wall_s},
          {"tokens_per_s", s.tokens_per_s},
          {"precision", s.precision}};
}

int64_t planned_steps(const RunConfig& cfg, int64_t train_tokens) {
  const int64_t B = cfg.data.batch_size;  // sequences per optimizer step
  if (cfg.flops_budget) return steps_for_budget(*cfg.flops_budget, cfg.model, cfg.data.seq_len, B);
  if (cfg.max_steps) return *cfg.max_steps;
  return std::max<int64_t>(1, train_tokens / (B * cfg.data.seq_len));
}

TrainSummary train(const RunConfig& cfg, const TrainOptions& opt) {
  const MatmulPrecisionScope restore(matmul_precision());  // the run's precision ends with it
  const std::string precision =
      precision_name(apply_precision(cfg.precision, opt.run_dir + ": config precision", opt.quiet));
  Run r(cfg, opt);
  SG_CHECK(r.total_steps > 0, cfg.name, ": the run has 0 steps (flops_budget too small?)");
  const fs::path metrics_path = fs::path(opt.run_dir) / "metrics.jsonl";
  double resumed_loss = 0;
  if (opt.resume) {
    const std::string ckpt = resolve_checkpoint(opt.run_dir);
    check_resume_config(checkpoint_run_config(ckpt), cfg.raw, ckpt);
    load_model_weights(ckpt, r.model);
    load_training_state(ckpt, r.model, r.adamw, r.state);
    SG_CHECK(r.state.precision == precision, "--resume: ", ckpt, " was trained in ",
             r.state.precision, " but precision = \"", cfg.precision, "\" resolves to ", precision,
             " here; a run continues in its own precision (pass --set precision=",
             r.state.precision, ")");
    r.loader.restore(r.state.loader);
    if (dist::is_root()) resumed_loss = truncate_metrics(metrics_path, r.state.step);
    if (!opt.quiet && dist::is_root())
      std::fprintf(stderr, "resuming from %s (step %lld)\n", ckpt.c_str(),
                   static_cast<long long>(r.state.step));
  } else {
    SG_CHECK(!fs::exists(fs::path(opt.run_dir) / "checkpoints"), opt.run_dir,
             " already holds a run; pass --resume to continue it or choose another --workdir");
    if (dist::is_root()) fs::remove(metrics_path);
  }
  r.state.precision = precision;
  const int64_t first_step = r.state.step;
  setup_run_dir(r);
  if (dist::is_root()) r.metrics.open(metrics_path, std::ios::app);
  const bool quiet = opt.quiet || !dist::is_root();
  if (!quiet) print_header(r);

  const ScheduleConfig sched{cfg.optimizer.schedule, cfg.optimizer.learning_rate,
                             cfg.optimizer.warmup_steps, cfg.optimizer.decay_fraction,
                             r.total_steps};
  const int64_t tokens_per_step = cfg.data.batch_size * cfg.data.seq_len;
  const double elapsed_before = r.state.elapsed_s;
  Progress progress("train", r.total_steps, r.state.step);
  const StopSignals stop_signals;
  Tape tape;
  TrainSummary sum;
  // Fault injection for the resume test: die like a killed process, no clean-up.
  const char* kill_env = std::getenv("SGATLIN_TEST_KILL_AT_STEP");
  const int64_t kill_at_step = kill_env ? std::atoll(kill_env) : -1;
  // ... and for the preemption test: a SIGTERM to this rank after that step.
  const char* term_env = std::getenv("SGATLIN_TEST_SIGTERM_AT_STEP");
  const int64_t term_at_step = term_env ? std::atoll(term_env) : -1;
  int64_t last_log_step = r.state.step;
  double last_log_s = 0;
  while (r.state.step < r.total_steps) {
    const double lr = learning_rate_at(sched, r.state.step);
    double loss = 0, grad_norm = 0;
    try {
      loss = train_step(r, tape);
      grad_norm = r.adamw.step(lr);  // refuses non-finite gradients before touching weights
    } catch (const Error& e) {
      fail("step ", r.state.step + 1, ": ", e.what(), "; stopping (the last checkpoint in ",
           opt.run_dir, " is intact; lower optimizer.learning_rate or check the data)");
    }
    r.model.params().zero_grad();
    ++r.state.step;
    r.state.tokens += tokens_per_step;
    r.state.loader = r.loader.state();
    r.state.elapsed_s = elapsed_before + progress.seconds();
    sum.final_train_loss = loss;

    const bool last = r.state.step == r.total_steps;
    if (r.state.step % cfg.log_every == 0 || last) {
      const double now = progress.seconds();
      const double tps = (r.state.step - last_log_step) * tokens_per_step / (now - last_log_s);
      last_log_step = r.state.step;
      last_log_s = now;
      const double mfu = tps * r.train_flops_per_token /
                         (kPeakGflopsPerThread * 1e9 * omp_get_max_threads() * dist::size());
      write_json_line(r.metrics, {{"step", r.state.step},
                                  {"tokens", r.state.tokens},
                                  {"loss", loss},
                                  {"lr", lr},
                                  {"grad_norm", grad_norm},
                                  {"tokens_per_s", tps},
                                  {"mfu", mfu}});
      if (!quiet) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "loss %.4f lr %.2e gnorm %.3f %.0f tok/s", loss, lr,
                      grad_norm, tps);
        progress.update(r.state.step, buf);
      }
    }
    if (r.state.step % cfg.eval_every == 0 || last) {
      const EvalResult ev = validate(r);
      nlohmann::json usage = nlohmann::json::array();
      for (const LayerUsage& u : ev.usage) usage.push_back(to_json(u));
      write_json_line(r.metrics, {{"step", r.state.step},
                                  {"precision", precision},
                                  {"val_loss", ev.loss},
                                  {"val_acc", ev.accuracy},
                                  {"val_perplexity", ev.perplexity},
                                  {"val_perplexity_last_token", ev.perplexity_last_token},
                                  {"val_usage", usage}});
      sum.val_loss = ev.loss;
      sum.val_accuracy = ev.accuracy;
      sum.val_perplexity = ev.perplexity;
      if (!quiet) {
        progress.finish();
        std::fprintf(stderr, "  step %lld: val_loss %.4f val_acc %.4f val_perplexity %.2f\n",
                     static_cast<long long>(r.state.step), ev.loss, ev.accuracy, ev.perplexity);
      }
    }
    if (r.state.step == term_at_step) raise(SIGTERM);
    const bool stop = dist::any(StopSignals::requested());  // a signal to any rank stops all
    if ((r.state.step % cfg.checkpoint_every == 0 || last || stop) && dist::is_root())
      save_checkpoint(opt.run_dir, r.model, r.adamw, r.state, cfg.raw);
    if (r.state.step == kill_at_step) raise(SIGKILL);
    if (stop && !last)
      throw Stopped(cat("stopped by a signal after step ", r.state.step, " of ", r.total_steps,
                        "; checkpoint written to ", opt.run_dir,
                        "/checkpoints; resume with: ", "sgatlin train --resume ", opt.run_dir));
  }
  if (!quiet) progress.finish();
  if (r.state.step == first_step) {  // resumed a run whose steps were all done: measure it
    const EvalResult ev = validate(r);
    sum.final_train_loss = resumed_loss;
    sum.val_loss = ev.loss;
    sum.val_accuracy = ev.accuracy;
    sum.val_perplexity = ev.perplexity;
  }
  sum.precision = precision;
  sum.steps = r.state.step;
  sum.tokens = r.state.tokens;
  sum.n_params = r.model.params().numel();
  sum.wall_s = r.state.elapsed_s;
  sum.tokens_per_s = sum.wall_s > 0 ? sum.tokens / sum.wall_s : 0;
  if (dist::is_root())
    write_file_atomic((fs::path(opt.run_dir) / "summary.json").string(),
                      to_json(sum).dump(2) + "\n");
  return sum;
}

}  // namespace sg
