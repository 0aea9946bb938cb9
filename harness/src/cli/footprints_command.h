// `crashgate footprints`: runs one cell per footprint key in the coverage
// build and records the repository files each executed (footprint_recording.h)
// into reports/footprints.json, which change-aware selection reads.
#pragma once

#include <CLI/CLI.hpp>

namespace crashgate {

void add_footprints_command(CLI::App& app, int& exit_code);

}  // namespace crashgate
