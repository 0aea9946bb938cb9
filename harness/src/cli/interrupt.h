// Ctrl-C for the CLI: SIGINT/SIGTERM cancel every run, which still report what finished.
#pragma once

#include <signal.h>

#include <thread>

#include "crashgate/runner.h"

namespace crashgate {

// Routes SIGINT and SIGTERM to cancellation.cancel() for as long as the guard
// lives. Construct it before starting threads: the signals are blocked in the
// constructing thread (and so in every thread it starts after) and read from a
// signalfd by a thread of the guard's own. A handler would run on whichever
// thread the kernel picks, which may sit in a restarted waitpid() for as long
// as a child runs (ThreadSanitizer defers handlers until such calls return).
class InterruptGuard {
 public:
  explicit InterruptGuard(Cancellation& cancellation);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  Cancellation& cancellation_;
  sigset_t previous_mask_;
  int signal_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: readable when the guard is destroyed
  std::thread waiter_;
};

}  // namespace crashgate
