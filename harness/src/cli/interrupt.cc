#include "cli/interrupt.h"

#include <signal.h>

#include <atomic>

namespace crashgate {
namespace {

std::atomic<Cancellation*> g_cancellation{nullptr};

extern "C" void on_interrupt(int) {
  if (Cancellation* c = g_cancellation.load()) c->cancel();
}

}  // namespace

InterruptGuard::InterruptGuard(Cancellation& cancellation) {
  g_cancellation = &cancellation;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

InterruptGuard::~InterruptGuard() {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  g_cancellation = nullptr;
}

}  // namespace crashgate
