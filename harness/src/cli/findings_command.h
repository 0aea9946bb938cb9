// `crashgate findings RUN... [--fuzz-run DIR...] [--out DIR]`: each engine's
// distinct crashes across runs, as reports/findings/<engine>.md and .json.
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

// Registers the subcommand; `exit_code` receives the result when it runs.
void add_findings_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
