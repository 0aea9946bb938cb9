#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

#include "crashgate/runner.h"

namespace crashgate {

Cancellation::Cancellation() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed: cannot create the cancellation channel");
}

Cancellation::~Cancellation() { close(fd_); }

// The counter is never read back, so the fd stays readable for every run that polls it.
void Cancellation::cancel() noexcept {
  std::uint64_t one = 1;
  ssize_t ignored = write(fd_, &one, sizeof one);
  (void)ignored;
}

bool Cancellation::cancelled() const noexcept {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

}  // namespace crashgate
