// State one run's tracer thread and its output pump share.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <set>

namespace crashgate {

struct RunState {
  pid_t main_pid = 0;               // also the process group id
  std::atomic<bool> timed_out{false};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> killed{false};  // crashgate sent SIGKILL

  // Every process of the run crashgate knows of (traced, so its pid cannot be
  // reused before the tracer has seen it exit).
  void add_process(pid_t pid) {
    std::lock_guard lock(mutex_);
    processes_.insert(pid);
  }
  void remove_process(pid_t pid) {
    std::lock_guard lock(mutex_);
    processes_.erase(pid);
  }
  std::set<pid_t> processes() {
    std::lock_guard lock(mutex_);
    return processes_;
  }
  // Signals the whole run: its process group and every known process, even
  // those that left the group (setsid) to outlive it.
  void signal_all(int signo) {
    std::lock_guard lock(mutex_);
    if (signo == SIGKILL) killed = true;
    kill(-main_pid, signo);
    for (pid_t pid : processes_) kill(pid, signo);
  }

 private:
  std::mutex mutex_;
  std::set<pid_t> processes_;
};

}  // namespace crashgate
