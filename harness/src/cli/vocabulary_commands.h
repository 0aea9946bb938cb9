#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_vocabulary_commands(CLI::App& app, int& exit_code);
// `crashgate driver-check` (driver_check_command.cc).
void add_driver_check_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
