// sgatlin: train, evaluate and compare small transformer LMs with sparsely gated
// linear neurons on CPUs. Subcommands are registered from src/cli/cmd_*.cpp.
#include <iostream>

#include "cli/commands.h"
#include "dist/comm.h"
#include "train/stop_signal.h"
#include "util/error.h"

int main(int argc, char** argv) {
  // A world of one without mpirun; under mpirun/srun every rank runs this same main.
  sg::dist::init(&argc, &argv);
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
    const int code = sg::dist::is_root() ? app.exit(e) : (e.get_exit_code() != 0);
    sg::dist::finalize();
    return code;
  } catch (const sg::Stopped& e) {  // every rank stopped at the same step
    if (sg::dist::is_root()) std::cerr << e.what() << "\n";
    sg::dist::finalize();
    return sg::kStoppedExitCode;
  } catch (const std::exception& e) {
    // Possibly this rank alone: end every rank, or the others wait forever.
    sg::dist::abort_all(e.what(), 1);
  }
  sg::dist::finalize();
  return 0;
}
