// `crashgate triage INPUT... [--exe PATH] [--known-issues FILE] [--against RUN...]
// [--json|--markdown] [--promote]`: a core file or a crash log from the field,
// explained, matched against the known issues and compared with past crashes.
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

// Registers the subcommand; `exit_code` receives the result when it runs.
void add_triage_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
