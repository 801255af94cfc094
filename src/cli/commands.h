// Each subcommand lives in its own cmd_*.cpp and registers itself on the app.
#pragma once
#include <CLI/CLI.hpp>

namespace sg::cli {

// Sets the OpenMP thread count (0 = all cores), flushes denormals on every thread
// (util/fpu.h) and returns the count in use.
int apply_threads(int threads);

void register_data(CLI::App& app);       // cmd_data.cpp
void register_train(CLI::App& app);      // cmd_train.cpp
void register_generate(CLI::App& app);   // cmd_generate.cpp
void register_info(CLI::App& app);       // cmd_info.cpp
void register_eval(CLI::App& app);       // cmd_eval.cpp
void register_intervene(CLI::App& app);  // cmd_intervene.cpp
void register_scope(CLI::App& app);      // cmd_scope.cpp
void register_report(CLI::App& app);     // cmd_report.cpp
void register_sweep(CLI::App& app);      // cmd_sweep.cpp
void register_facts(CLI::App& app);      // cmd_facts.cpp
// `bench` with its `ops` subcommand; returned so more bench modes can attach to it.
CLI::App* register_bench(CLI::App& app);

}  // namespace sg::cli
