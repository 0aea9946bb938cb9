// The ptrace side of a run: follows every thread, fork and clone of the
// child, catches fatal signals at delivery and diagnoses them while the
// process is stopped. Must live on the thread that forked the child.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <map>
#include <set>

#include "crashgate/observation.h"
#include "runner/run_state.h"

namespace crashgate {

class ProcessTracer {
 public:
  ProcessTracer(RunState& state, Observation& observation, bool diagnose)
      : state_(state), observation_(observation), diagnose_(diagnose) {}

  // Seizes the freshly forked child (blocked before exec). False: ptrace refused, errno set.
  bool seize(pid_t child);
  // Handles stops until the main process has exited; fills the observation.
  void run_until_main_exits();
  // Kills whatever the run left behind and reaps it; notes what was killed.
  void kill_leftovers_and_reap();

 private:
  void on_exit(pid_t tid, int status, const ::rusage& usage);
  void on_stop(pid_t tid, int status);
  void on_signal_delivery(pid_t tid, int signo);
  void on_fatal_signal(pid_t tid, int signo);
  void step_aside_for_leak_check(pid_t tid);
  void capture_hang(pid_t tgid, pid_t tid);
  // Stops every other traced thread of tgid; returns each stopped thread with the signal it still owes.
  std::map<pid_t, int> stop_other_threads(pid_t tgid, pid_t except);
  void resume(const std::map<pid_t, int>& stopped);
  void remember_new_task(pid_t tid, int event);

  RunState& state_;
  Observation& observation_;
  bool diagnose_;
  bool traced_ = false;
  bool main_exited_ = false;
  bool hang_captured_ = false;
  std::set<pid_t> tracees_;        // every traced thread
  std::set<pid_t> detached_;       // processes left to their leak check
  std::set<pid_t> diagnosed_;      // processes whose unhandled fatal signal was unwound
};

}  // namespace crashgate
