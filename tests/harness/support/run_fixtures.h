// Test support for `crashgate run`, `list`, `show` and `repro`: the scenario
// fixtures in tests/harness/data/run/, a build root holding this build's own
// drivers, and the crashgate binary run as a child.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/outcome.h"

namespace crashgate::testing {

// tests/harness/data/run/<name>
std::string run_fixture(const std::string& name);

// The preset this test binary belongs to ("release", "asan", ...): the build
// whose drivers it uses, and the --build the run tests select.
std::string this_build();

// A scratch build root in which BUILD/bin/crashgate-driver-test (the test
// driver) and BUILD/bin/crashgate-driver-vstore (this build's vstore driver)
// exist for BUILD = this_build() only: every other build's driver is missing.
std::string fake_build_root();

// How run_crashgate runs the binary: its wall-clock limit and extra environment.
struct CrashgateCall {
  std::chrono::seconds wall{120};
  std::vector<std::pair<std::string, std::string>> env;
};

// Runs the crashgate binary (untraced: it must be its children's tracer) and
// returns how it ended; its stdout and stderr are in the excerpts.
Outcome run_crashgate(const std::vector<std::string>& args, const CrashgateCall& call = {});

// "stdout:\n...\nstderr:\n...": both of an outcome's excerpts, for a failure message.
std::string output_of(const Outcome& o);

// `crashgate run FIXTURE... --build-root ROOT --out OUT` plus `extra`.
Outcome crashgate_run(const std::vector<std::string>& fixtures, const std::string& build_root,
                      const std::string& out, const std::vector<std::string>& extra = {});

// OUT/latest/results.json, parsed.
nlohmann::json latest_results(const std::string& out);

// The cell with this id in a results document (a failure names the ids there are).
const nlohmann::json& results_cell(const nlohmann::json& results, const std::string& id);

}  // namespace crashgate::testing
