// What the engine drivers' tests share: run a one-cell scenario against a
// driver, say its steps in a failure message, read a number out of a file.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "crashgate/outcome.h"

namespace crashgate::testing {

// Runs the only cell of the one-cell scenario `toml` with `driver`, in `work_dir`.
Outcome run_one_cell(const std::string& toml, const std::string& driver, const std::string& work_dir);
// The outcome's detail, then each step's op, status, code and message: for failure messages.
std::string steps_of(const Outcome& o);
// A little-endian number of `width` bytes at `offset` of `bytes` (bytes past the end read as 0).
std::uint64_t little_endian(const std::string& bytes, std::uint64_t offset, std::uint64_t width);

// The import op's tests: every regular file of `dir` by name with its bytes
// (to hold a source directory unchanged), and a copy of `from` at `to` whose
// `file` is cut to half its size (a damaged store from the field).
std::map<std::string, std::string> files_of(const std::string& dir);
// A one-cell scenario of `target` whose step 0 imports `from` (and `keys`, TOML lines), then `steps` (TOML).
std::string import_scenario(const std::string& target, const std::string& from, const std::string& keys = "",
                            const std::string& steps = "");
void copy_with_half(const std::string& from, const std::string& to, const std::string& file);

}  // namespace crashgate::testing
