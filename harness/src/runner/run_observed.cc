// run_observed: one run from fork to Outcome. The tracer (this thread) and
// the output pump (a second thread) share a RunState; see runner.h for the contract.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/observation.h"
#include "crashgate/runner.h"
#include "crashgate/triage.h"
#include "runner/child_launch.h"
#include "runner/output_pump.h"
#include "runner/process_tracer.h"

namespace crashgate {
namespace {

using Clock = std::chrono::steady_clock;

// Owns file descriptors so every early return closes them.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd = std::exchange(o.fd, -1);
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  int release() { return std::exchange(fd, -1); }
};

// Moves fd to a number >= 10, close-on-exec, so the child's dup3 onto 0..3 cannot clobber it.
Fd high_fd(int fd) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return Fd(moved);
}

struct Pipe {
  Fd read, write;
};

bool make_pipe(Pipe& p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read = high_fd(fds[0]);
  p.write = high_fd(fds[1]);
  return p.read.fd >= 0 && p.write.fd >= 0;
}

// The kernel's count of OOM kills; moving during a run is evidence for a SIGKILL's sender.
// Read on every run, so with one read() and a search rather than a stream parse of ~180 lines.
std::optional<std::uint64_t> oom_kill_count() {
  int fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text(16 * 1024, '\0');
  text[0] = '\n';  // so that every key, the first too, follows a newline
  std::size_t size = 1;
  while (size < text.size()) {
    ssize_t n = read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
  }
  close(fd);
  text.resize(size);
  constexpr std::string_view kKey = "\noom_kill ";
  std::size_t at = text.find(kKey);
  if (at == std::string::npos) return std::nullopt;
  const char* first = text.data() + at + kKey.size();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec != std::errc{} || end == first) return std::nullopt;
  return value;
}

std::vector<int> ignored_signals() {
  std::vector<int> out;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction current {};
    if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) out.push_back(sig);
  }
  return out;
}

void add_rlimit(LaunchPlan& plan, int resource, std::optional<std::uint64_t> value) {
  if (!value) return;
  rlim_t v = *value == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(*value);
  plan.rlimits.push_back({resource, rlimit{v, v}});
}

Outcome harness_failure(const RunSpec& spec, std::string why) {
  Observation obs;
  obs.argv = spec.argv;
  obs.harness_error = std::move(why);
  Outcome outcome = classify(obs);
  outcome.repro = repro_command(spec);
  return outcome;
}

}  // namespace

Outcome run_observed(const RunSpec& spec, const RunContext& context) {
  if (spec.argv.empty()) return harness_failure(spec, "no command to run");
  if (context.cancellation && context.cancellation->cancelled())
    return harness_failure(spec, "not run: crashgate was interrupted");

  LaunchPlan plan;
  plan.env_text = child_environment(spec);
  std::string path_env;
  for (const auto& entry : plan.env_text)
    if (entry.rfind("PATH=", 0) == 0) path_env = entry.substr(5);
  auto executable = find_executable(spec.argv[0], path_env);
  if (!executable) return harness_failure(spec, executable.error());
  plan.executable = *executable;
  plan.argv_text = spec.argv;
  for (auto& a : plan.argv_text) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env_text) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.work_dir = spec.work_dir;
  const Limits& limits = spec.limits;
  add_rlimit(plan, RLIMIT_STACK, limits.stack);
  add_rlimit(plan, RLIMIT_AS, limits.address_space);
  add_rlimit(plan, RLIMIT_NOFILE, limits.open_files);
  if (limits.cpu) add_rlimit(plan, RLIMIT_CPU, static_cast<std::uint64_t>((limits.cpu->count() + 999) / 1000));
  add_rlimit(plan, RLIMIT_CORE, limits.core);
  plan.signals_to_default = ignored_signals();
  plan.trap_ptracer_prctl = spec.trace;

  Pipe out, err, events, go, exec_error;
  Fd dev_null = high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!make_pipe(out) || !make_pipe(err) || !make_pipe(go) || !make_pipe(exec_error) ||
      (spec.driver_protocol && !make_pipe(events)) || dev_null.fd < 0)
    return harness_failure(spec, fmt::format("cannot create pipes: {}", strerror(errno)));
  fcntl(out.read.fd, F_SETPIPE_SZ, 1024 * 1024);  // fewer wakeups for chatty children; best effort
  plan.stdin_fd = dev_null.fd;
  plan.stdout_fd = out.write.fd;
  plan.stderr_fd = err.write.fd;
  plan.events_fd = spec.driver_protocol ? events.write.fd : -1;
  plan.go_fd = go.read.fd;
  plan.exec_error_fd = exec_error.write.fd;

  auto oom_kills_before = oom_kill_count();
  auto started = Clock::now();
  pid_t child = fork_child(plan);
  if (child < 0) return harness_failure(spec, fmt::format("fork failed: {}", strerror(errno)));
  setpgid(child, child);  // also in the child: whichever runs first, the group exists before any kill

  RunState state;
  state.main_pid = child;
  state.add_process(child);
  Observation obs;
  obs.argv = spec.argv;
  obs.main_pid = child;
  ProcessTracer tracer(state, obs, spec.trace);
  if (spec.trace && !tracer.seize(child))
    obs.notes.push_back(fmt::format("not traced (ptrace refused: {}): no stacks or fault attribution",
                                    strerror(errno)));
  dev_null.reset();
  out.write.reset();
  err.write.reset();
  events.write.reset();
  go.read.reset();
  exec_error.write.reset();
  char byte = 1;
  if (write(go.write.fd, &byte, 1) != 1) obs.notes.push_back("could not release the child");
  go.write.reset();


  OutputPump pump(state, spec, context.cancellation, started, out.read.release(), err.read.release(),
                  spec.driver_protocol ? events.read.release() : -1);
  pump.start();
  tracer.run_until_main_exits();
  auto ended = Clock::now();
  tracer.kill_leftovers_and_reap();
  pump.finish();

  // Read only now: the child may stop (a signal, under ptrace) before it execs,
  // and only the tracer loop above can let it go. Once the process is gone the
  // pipe holds the errno of a failed execve, or nothing (EOF: exec succeeded).
  int exec_errno = 0;
  pollfd exec_poll{exec_error.read.fd, POLLIN, 0};
  if (poll(&exec_poll, 1, 0) == 1 && read(exec_error.read.fd, &exec_errno, sizeof exec_errno) != sizeof exec_errno)
    exec_errno = 0;

  if (exec_errno != 0)
    obs.harness_error = fmt::format("cannot execute '{}': {}", plan.executable, strerror(exec_errno));
  obs.timed_out = state.timed_out;
  obs.cancelled = state.cancelled;
  obs.killed_by_harness = state.killed;
  // Only a SIGKILL that crashgate did not send is judged by it (classify), so only then is it read again.
  if (obs.term_signal == SIGKILL && oom_kills_before) {
    auto oom_kills_after = oom_kill_count();
    obs.oom_kill_seen = oom_kills_after && *oom_kills_after > *oom_kills_before;
  }
  obs.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended - started).count();
  obs.stdout_excerpt = pump.stdout_excerpt();
  obs.stderr_excerpt = pump.stderr_excerpt();
  for (auto& note : pump.notes()) obs.notes.push_back(note);
  obs.driver_run = spec.driver_protocol;
  if (spec.driver_protocol) read_step_events(pump.event_lines(), obs, spec.step_expects);

  Outcome outcome = classify(obs);
  triage(outcome, context.known_issues, spec.cell_id);
  outcome.repro = repro_command(spec);
  return outcome;
}

}  // namespace crashgate
