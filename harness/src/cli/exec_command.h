// `crashgate exec`: run any command isolated and observed.
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

// Registers the subcommand; `exit_code` receives its result when it runs.
void add_exec_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
