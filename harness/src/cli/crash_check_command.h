// `crashgate crash-check`: a scenario's cells recorded, and recovery checked
// from each crash state (crash_check.h).
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_crash_check_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
