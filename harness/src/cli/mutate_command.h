// `crashgate mutate`: the gate's mutation score on mutants generated from the
// engine's source (mutation.h, mutation_rules.h).
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_mutate_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
