// Test support: programs this machine may or may not have (gdb, rustc), and a
// small Rust program built with rustc for the tests of Rust crashes.
#pragma once

#include <string>

namespace crashgate::testing {

// `name` on PATH, or in rustup's default place (~/.cargo/bin); "" when absent (the test skips).
std::string find_tool(const std::string& name);

// Builds tests/harness/data/programs/worker.rs with `rustc` in `dir` (debug:
// line tables, no inlining) and returns the program's path; "" and a test
// failure when rustc fails. `worker panic` looks up a missing id with
// expect(); `worker overflow` overflows the 64 KiB stack of a thread named
// filter-worker by recursion in parse_clause.
std::string build_rust_worker(const std::string& rustc, const std::string& dir);

}  // namespace crashgate::testing
