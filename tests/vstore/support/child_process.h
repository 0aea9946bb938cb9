// Test support: run a piece of a test in a forked child, so that a crash (a
// regression switched on, a corrupt file mishandled) fails the test instead of
// killing the suite, and so that a test can crash a store on purpose.
#pragma once

#include <functional>
#include <string>

namespace vstore::testing {

struct ChildResult {
  bool exited = false;  // normal exit (else killed by `signal`)
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  std::string output;  // what the child wrote to stdout and stderr
  // "exit 0", "signal 7 (Bus error)", with the output's tail.
  std::string describe() const;
};

// Forks; the child runs body() and _exits with its return value. The parent
// waits (killing the child after timeout_seconds) and collects its output.
ChildResult run_in_child(const std::function<int()>& body, int timeout_seconds = 120);

}  // namespace vstore::testing
