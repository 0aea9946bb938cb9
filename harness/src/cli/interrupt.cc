#include "cli/interrupt.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>

namespace crashgate {
namespace {

sigset_t interrupt_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Reads every pending signal from `fd`; true when there was one.
bool drain(int fd) {
  bool any = false;
  signalfd_siginfo info;
  while (read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) any = true;
  return any;
}

}  // namespace

InterruptGuard::InterruptGuard(Cancellation& cancellation) : cancellation_(cancellation) {
  sigset_t set = interrupt_signals();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (signal_fd_ < 0 || stop_fd_ < 0) return;  // no Ctrl-C handling; the runs themselves are unaffected
  waiter_ = std::thread([this] {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[0].revents & POLLIN && drain(signal_fd_)) cancellation_.cancel();
      if (fds[1].revents & POLLIN) return;
    }
  });
}

InterruptGuard::~InterruptGuard() {
  if (waiter_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
    waiter_.join();
  }
  // A signal that arrived as the waiter stopped still counts, and must not kill
  // crashgate by its default action once unblocked.
  if (signal_fd_ >= 0 && drain(signal_fd_)) cancellation_.cancel();
  if (signal_fd_ >= 0) close(signal_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

}  // namespace crashgate
