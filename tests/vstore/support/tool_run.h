// Test support: the real vstore tool run as a script runs it.
#pragma once

#include <string>

namespace vstore::testing {

struct ToolRun {
  int exit_code = -1;  // -1 when it died of a signal
  int signal = 0;
  std::string output;  // stdout and stderr, interleaved
};

// `vstore ARGS` through the shell, with `env` (e.g. "VSTORE_FAILPOINTS=...")
// in its environment.
ToolRun run_tool(const std::string& args, const std::string& env = "");

}  // namespace vstore::testing
