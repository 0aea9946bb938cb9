#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_vocabulary_commands(CLI::App& app, int& exit_code);

}  // namespace crashgate
