// Test support for the gate: small results documents built cell by cell.
#pragma once

#include <string>

#include "crashgate/run_results.h"

namespace crashgate::testing {

// A cell with this id and verdict; a failing one crashed with `signature`
// (and a crash state naming it) unless the signature is "".
CellResult gate_cell(const std::string& id, Verdict verdict, const std::string& signature = "");

// A run of these cells.
RunResults gate_run(std::vector<CellResult> cells);

}  // namespace crashgate::testing
