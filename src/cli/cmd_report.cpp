// sgatlin report: a browsable neuron report (static HTML + text) from `sgatlin scope` records.
#include <iostream>

#include "cli/commands.h"
#include "eval/neuron_report.h"

namespace sg::cli {

namespace {

struct ReportArgs {
  std::string scope, out;
  ReportOptions opt;
};

void run_report(const ReportArgs& a) {
  const ScopeData d = load_scope(a.scope);
  const std::string out = a.out.empty() ? a.scope : a.out;
  write_neuron_report(d, out, a.opt);
  std::cerr << "report: " << out << "/report.html, " << out << "/report.txt\n";
}

}  // namespace

void register_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand("report", "Neuron report (HTML + text) from scope records");
  cmd->add_option("--scope", a->scope, "Folder written by `sgatlin scope`")->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "Output folder (default: the scope folder)");
  cmd->add_option("--top", a->opt.top_neurons, "Most used neurons shown per layer and channel")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--contexts", a->opt.contexts, "Strongest contexts shown per neuron")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--samples", a->opt.sample_tokens, "Sample tokens for the nearest-pattern view")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--neighbours", a->opt.neighbours, "Nearest tokens shown per sample token")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->callback([a] { run_report(*a); });
}

}  // namespace sg::cli
