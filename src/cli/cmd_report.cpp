// sgatlin report: the interactive neuron report (one self-contained HTML page) and
// report.txt from `sgatlin scope` records and the checkpoint they came from.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "eval/interactive_report.h"

#ifndef SGATLIN_REPORT_TOOLS
#define SGATLIN_REPORT_TOOLS "tools/report"
#endif

namespace sg::cli {

namespace {

struct ReportArgs {
  std::string scope, checkpoint, out;
  InteractiveOptions opt;
  int threads = 0;
};

void run_report(ReportArgs a) {
  apply_threads(a.threads);
  const char* tools = std::getenv("SGATLIN_REPORT_TOOLS");
  a.opt.tools_dir = tools ? tools : SGATLIN_REPORT_TOOLS;
  std::cout << report_from_scope(a.scope, a.checkpoint, a.out, a.opt);
  const std::string out = a.out.empty() ? a.scope : a.out;
  std::cerr << "report: " << out << "/report.html, " << out << "/report.txt\n";
}

}  // namespace

void register_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Interactive neuron report (HTML) and report.txt from scope records");
  cmd->add_option("--scope", a->scope, "Folder written by `sgatlin scope`")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--checkpoint", a->checkpoint,
                  "Run or checkpoint folder the records came from (default: the one they name)");
  cmd->add_option("--out", a->out, "Output folder (default: the scope folder)");
  cmd->add_option("--layers", a->opt.layers, "Recorded layers to report (default: all)");
  cmd->add_option("--top", a->opt.text.top_neurons,
                  "Most used neurons in report.txt per layer and channel")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--contexts", a->opt.text.contexts, "Strongest contexts shown per neuron")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--samples", a->opt.text.sample_tokens,
                  "Sample tokens for the nearest-pattern view")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--neighbours", a->opt.text.neighbours, "Nearest tokens shown per sample token")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lens", a->opt.lens_k, "Lens tokens kept per neuron and side")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all cores)");
  cmd->callback([a] { run_report(*a); });
}

}  // namespace sg::cli
