// `crashgate record`: what a command asks of the file system under one
// directory, written as a recording (fs_recording.h).
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_record_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
