// `crashgate gate`, `crashgate baseline update` and `crashgate merge`: the
// release gate over a run's results, its baseline, and joining shards.
// Exit codes: each command's --help footer and the README.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace crashgate {

void add_gate_command(CLI::App& app, int& exit_code);
void add_baseline_command(CLI::App& app, int& exit_code);
void add_merge_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line);

}  // namespace crashgate
