// Test support: where the crash programs and the crashgate binary are, and
// small helpers to run them and read outcomes.
#pragma once

#include <string>
#include <vector>

#include "crashgate/outcome.h"
#include "crashgate/runner.h"

namespace crashgate::testing {

std::string crasher_path(const std::string& name);
std::string crashgate_binary();
std::string source_dir();

// A fresh, empty directory under the test's temp dir.
std::string scratch_dir(const std::string& name);

// Runs a crasher with the given arguments and limits under the runner.
Outcome run_crasher(const std::string& name, std::vector<std::string> args = {}, Limits limits = {});

// The first frame (of the crashing thread) whose function contains `needle`, or nullptr.
const Frame* find_frame(const Outcome& outcome, const std::string& needle);
// The stack with the given role, or nullptr.
const Thread* find_stack(const Outcome& outcome, const std::string& role);

// Writes `text` to `path` (the test fails when it cannot); the whole of a file.
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// Whether a process is gone or a zombie: it no longer runs.
bool process_gone(long pid);

}  // namespace crashgate::testing
