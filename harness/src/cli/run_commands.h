// `crashgate run`, `list`, `show` and `repro`: the scenario matrix from the
// command line. Exit codes (cli.h): 0 every cell met its expectation, 1 a cell
// failed, 2 usage or scenario errors, 3 harness errors, 130 interrupted.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace crashgate {

// Each registers its subcommand; `exit_code` receives the result when it runs.
void add_run_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line);
void add_list_command(CLI::App& app, int& exit_code);
void add_show_command(CLI::App& app, int& exit_code);
void add_repro_command(CLI::App& app, int& exit_code);
void add_matrix_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line);

}  // namespace crashgate
