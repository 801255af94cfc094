// sgatlin: train, evaluate and compare small transformer LMs with sparsely gated
// linear neurons on CPUs. Subcommands are registered from src/cli/cmd_*.cpp.
#include <iostream>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "sgatlin: train small transformer language models with sparsely gated linear neurons "
      "on CPUs.\nRun 'sgatlin COMMAND --help' for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sgatlin 0.1.0");
  sg::cli::register_data(app);
  sg::cli::register_train(app);
  sg::cli::register_generate(app);
  sg::cli::register_info(app);
  sg::cli::register_eval(app);
  sg::cli::register_intervene(app);
  sg::cli::register_scope(app);
  sg::cli::register_report(app);
  sg::cli::register_facts(app);
  sg::cli::register_sweep(app);
  sg::cli::register_bench(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
