// A libFuzzer process run by `crashgate fuzz`: in its own process group (so
// that stopping it stops every fork-mode job it started), its stdout and
// stderr merged on one pipe that crashgate reads line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate {

class FuzzerProcess {
 public:
  // Starts argv (argv[0] a path) with `env` set on top of crashgate's
  // environment and every signal unblocked; the failure names the call that
  // failed (pipe, fork) and why.
  static Checked<FuzzerProcess> start(const std::vector<std::string>& argv,
                                      const std::vector<std::pair<std::string, std::string>>& env);
  FuzzerProcess(FuzzerProcess&& o) noexcept;
  FuzzerProcess& operator=(FuzzerProcess&&) = delete;
  ~FuzzerProcess();  // stop(), then wait

  // Complete lines read within `wait` (fewer when the process ends); empty
  // lines are dropped. Sets `ended` once the output is closed.
  std::vector<std::string> read_lines(std::chrono::milliseconds wait, bool& ended);
  // SIGTERM to the whole group, then SIGKILL after `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // Waits for the process; its exit status as the shell shows it (128+signal when killed).
  int wait();

 private:
  FuzzerProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;
  std::optional<int> status_;
};

}  // namespace crashgate
