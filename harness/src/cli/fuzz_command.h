// `crashgate fuzz` (libFuzzer campaigns, crash triage, --promote) and
// `crashgate coverage` (the corpora replayed under the coverage build).
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_fuzzing_commands(CLI::App& app, int& exit_code);

}  // namespace crashgate
