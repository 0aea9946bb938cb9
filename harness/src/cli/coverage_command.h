// `crashgate coverage`: builds the coverage preset when asked, replays the fuzz
// corpora through it and writes the HTML report (fuzz/coverage_report.h).
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_coverage_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
