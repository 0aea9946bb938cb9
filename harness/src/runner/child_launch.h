// Starting the child: everything is prepared before fork, so the child side
// makes only raw system calls (safe in a multithreaded, sanitized parent).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/runner.h"

namespace crashgate {

struct LaunchPlan {
  std::string executable;
  std::vector<std::string> argv_text;
  std::vector<std::string> env_text;   // "KEY=value"
  std::vector<char*> argv;             // into argv_text, null-terminated
  std::vector<char*> envp;             // into env_text, null-terminated
  std::string work_dir;
  struct Rlimit {
    int resource;
    rlimit value;
  };
  std::vector<Rlimit> rlimits;
  std::vector<int> signals_to_default;  // ignored in crashgate; SIG_IGN would survive exec
  bool trap_ptracer_prctl = false;      // see install_lsan_trap in child_launch.cc
  // The child's ends, all >= 10 and close-on-exec in the parent; -1 when unused.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, events_fd = -1;
  int go_fd = -1;          // the child waits for one byte here: "you are traced, exec now"
  int exec_error_fd = -1;  // the child writes errno here if execve fails
};

// Resolves argv[0] in PATH (as execvp would, using the child's PATH); the failure names what failed.
Checked<std::string> find_executable(const std::string& name, const std::string& path_env);

// Builds the child's environment: crashgate's, then spec.env, then sanitizer
// defaults and the driver-protocol variables.
std::vector<std::string> child_environment(const RunSpec& spec);

// Forks; the child applies the plan and execs. Returns the pid, or -1 with errno set.
pid_t fork_child(const LaunchPlan& plan);

}  // namespace crashgate
