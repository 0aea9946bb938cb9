// Test support: real core files, written by the kernel for a crasher run
// with RLIMIT_CORE raised in `dir` (core_pattern "core" or "core.%p"-like).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace crashgate::testing {

// Why this machine cannot write a core into a directory ("" when it can):
// a core_pattern that pipes cores to a handler (systemd-coredump, apport).
std::string cores_unavailable();

// Runs crasher `name` with `args` in `dir`, RLIMIT_CORE unlimited, and
// returns the core it left there (nothing when it left none).
std::optional<std::string> dump_core(const std::string& name, const std::vector<std::string>& args, const std::string& dir);

// The same for any program, by path (a copy of a crasher, stripped).
std::optional<std::string> dump_core_of(const std::string& program, const std::vector<std::string>& args,
                                        const std::string& dir);

}  // namespace crashgate::testing
