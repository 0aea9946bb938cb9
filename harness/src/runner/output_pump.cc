#include "runner/output_pump.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <fmt/format.h>

namespace crashgate {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxEventLine = 64 * 1024;
constexpr std::size_t kMaxEvents = 100'000;
// After the main process is gone, a descendant still holding a pipe gets this long.
constexpr auto kDrainGrace = std::chrono::milliseconds(200);

}  // namespace

OutputPump::OutputPump(RunState& state, const RunSpec& spec, const Cancellation* cancellation,
                       Clock::time_point started, int stdout_fd, int stderr_fd, int events_fd)
    : state_(state),
      spec_(spec),
      cancellation_(cancellation),
      started_(started),
      fds_{stdout_fd, stderr_fd, events_fd},
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      stdout_(spec.stdout_bounds),
      stderr_(spec.stderr_bounds) {}

OutputPump::~OutputPump() {
  if (thread_.joinable()) finish();
  for (int fd : fds_)
    if (fd >= 0) close(fd);
  close(wake_fd_);
}

void OutputPump::start() { thread_ = std::thread([this] { loop(); }); }

void OutputPump::finish() {
  std::uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof one);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
}

void OutputPump::read_events(const char* data, std::size_t size) {
  auto at = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] != '\n') {
      if (partial_event_.size() < kMaxEventLine) partial_event_ += data[i];
      continue;
    }
    if (events_.size() < kMaxEvents) events_.push_back({at, std::move(partial_event_)});
    partial_event_.clear();
  }
}

void OutputPump::loop() {
  const auto deadline = started_ + spec_.limits.wall;
  std::optional<Clock::time_point> kill_at;
  std::optional<Clock::time_point> drain_until;
  bool watch_cancel = cancellation_ != nullptr;
  // Not zero-filled: a quiet command then touches none of it (malloc maps this size
  // fresh, so only the pages a read fills are ever faulted in).
  constexpr std::size_t kBufferSize = 256 * 1024;
  std::unique_ptr<char[]> buffer(new char[kBufferSize]);

  while (true) {
    auto now = Clock::now();
    if (!state_.timed_out && !state_.cancelled && now >= deadline && !drain_until) {
      state_.timed_out = true;
      state_.signal_all(SIGTERM);
      kill_at = now + spec_.kill_grace;
    }
    if (kill_at && now >= *kill_at) {
      state_.signal_all(SIGKILL);
      kill_at.reset();
    }
    bool pipes_open = fds_[0] >= 0 || fds_[1] >= 0 || fds_[2] >= 0;
    if (drain_until && (!pipes_open || now >= *drain_until)) break;

    pollfd polls[5];
    int which[5];
    int count = 0;
    for (int i = 0; i < 3; ++i)
      if (fds_[i] >= 0) {
        polls[count] = {fds_[i], POLLIN, 0};
        which[count++] = i;
      }
    if (!drain_until) {
      polls[count] = {wake_fd_, POLLIN, 0};
      which[count++] = 3;
    }
    if (watch_cancel) {
      polls[count] = {cancellation_->poll_fd(), POLLIN, 0};
      which[count++] = 4;
    }
    auto next = drain_until ? *drain_until : (kill_at ? *kill_at : deadline);
    if (!drain_until && (state_.timed_out || state_.cancelled) && !kill_at) next = now + std::chrono::hours(1);
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
    int ready = poll(polls, count, static_cast<int>(std::clamp<std::int64_t>(wait_ms, 0, 60'000)));
    if (ready < 0 && errno != EINTR) {
      notes_.push_back(fmt::format("output capture stopped: poll failed: {}", strerror(errno)));
      break;
    }
    for (int p = 0; p < count && ready > 0; ++p) {
      if (!polls[p].revents) continue;
      int i = which[p];
      if (i == 3) {
        drain_until = Clock::now() + kDrainGrace;
        continue;
      }
      if (i == 4) {
        watch_cancel = false;
        if (!state_.timed_out && !drain_until) {
          state_.cancelled = true;
          state_.signal_all(SIGTERM);
          kill_at = Clock::now() + spec_.kill_grace;
        }
        continue;
      }
      ssize_t n = read(fds_[i], buffer.get(), kBufferSize);
      if (n > 0) {
        if (i == 0) stdout_.append(buffer.get(), static_cast<std::size_t>(n));
        else if (i == 1) stderr_.append(buffer.get(), static_cast<std::size_t>(n));
        else read_events(buffer.get(), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds_[i]);
        fds_[i] = -1;
      }
    }
  }
  if (!partial_event_.empty()) read_events("\n", 1);
  for (int i = 0; i < 3; ++i)
    if (fds_[i] >= 0) {
      notes_.push_back("a descendant still held the command's output open when it ended; stopped reading");
      break;
    }
}

}  // namespace crashgate
