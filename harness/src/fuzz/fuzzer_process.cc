#include "fuzz/fuzzer_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace crashgate {

Checked<FuzzerProcess> FuzzerProcess::start(const std::vector<std::string>& argv,
                                            const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) return failure("no command");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return failure(fmt::format("pipe: {}", std::strerror(errno)));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::string why = fmt::format("fork: {}", std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return failure(why);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // crashgate blocks SIGINT/SIGTERM for its signalfd
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execv(args[0], args.data());
    dprintf(2, "crashgate: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here, so stop() works whichever runs first
  ::close(fds[1]);
  return FuzzerProcess(pid, fds[0]);
}

FuzzerProcess::FuzzerProcess(FuzzerProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), fd_(std::exchange(o.fd_, -1)), pending_(std::move(o.pending_)), status_(o.status_) {}

FuzzerProcess::~FuzzerProcess() {
  if (pid_ > 0 && !status_) {
    stop();
    wait();
  }
  if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> FuzzerProcess::read_lines(std::chrono::milliseconds wait_for, bool& ended) {
  std::vector<std::string> lines;
  ended = fd_ < 0;
  if (ended) return lines;
  auto deadline = std::chrono::steady_clock::now() + wait_for;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[16384];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!pending_.empty()) lines.push_back(std::move(pending_));
      pending_.clear();
      ::close(fd_);
      fd_ = -1;
      ended = true;
      break;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0, nl;
    while ((nl = pending_.find('\n', start)) != std::string::npos) {
      if (nl > start) lines.push_back(pending_.substr(start, nl - start));
      start = nl + 1;
    }
    pending_.erase(0, start);
    if (!lines.empty() && std::chrono::steady_clock::now() >= deadline) break;
  }
  return lines;
}

void FuzzerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || status_) return;
  ::kill(-pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      ::kill(-pid_, SIGKILL);  // fork-mode jobs it may have left
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
}

int FuzzerProcess::wait() {
  if (status_) return *status_;
  if (pid_ <= 0) return -1;
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  ::kill(-pid_, SIGKILL);  // nothing of the group outlives it
  return *status_;
}

}  // namespace crashgate
