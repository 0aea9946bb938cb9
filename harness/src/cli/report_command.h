// `crashgate report RUN_DIR|RESULTS.json [--out DIR]`: (re)writes a run's
// reports (junit.xml, results.sarif, report.html) from its results.json.
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

// Registers the subcommand; `exit_code` receives the result when it runs.
void add_report_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
