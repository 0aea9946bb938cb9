#include "runner/process_tracer.h"

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <charconv>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "crashgate/fault_attribution.h"
#include "observe/stack_unwind.h"

namespace crashgate {
namespace {

constexpr std::size_t kMaxCaptures = 8;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The value after "Key:" in /proc/PID/status, or "" when absent.
std::string status_field(pid_t pid, std::string_view key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
      auto value = line.substr(key.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  return "";
}

pid_t tgid_of(pid_t tid) {
  std::string text = status_field(tid, "Tgid");
  pid_t tgid = 0;
  std::from_chars(text.data(), text.data() + text.size(), tgid);
  return tgid ? tgid : tid;
}

// Whether the process installed a handler for signo (SigCgt): then the signal
// is the program's business (sanitizers report it themselves) and only a light
// snapshot is taken.
bool program_handles(pid_t pid, int signo) {
  std::string mask = status_field(pid, "SigCgt");
  unsigned long long bits = 0;
  std::from_chars(mask.data(), mask.data() + mask.size(), bits, 16);
  return (bits >> (signo - 1)) & 1;
}

std::optional<std::uint64_t> main_stack_limit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max stack size", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    std::string soft;
    fields >> soft;
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(soft.data(), soft.data() + soft.size(), value);
    if (ec == std::errc{}) return value;
  }
  return std::nullopt;
}

std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> tids;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      pid_t tid = 0;
      std::string_view name = entry->d_name;
      if (std::from_chars(name.data(), name.data() + name.size(), tid).ec == std::errc{} && tid > 0)
        tids.push_back(tid);
    }
    closedir(d);
  }
  return tids;
}

bool is_fatal_class(int signo) {
  switch (signo) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGABRT: case SIGTRAP: case SIGSYS:
      return true;
    default:
      return false;
  }
}

bool carries_fault_address(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP;
}

}  // namespace

bool ProcessTracer::seize(pid_t child) {
  long options = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
                 PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(options)) != 0) return false;
  traced_ = true;
  tracees_.insert(child);
  return true;
}

void ProcessTracer::run_until_main_exits() {
  while (!main_exited_) {
    int status = 0;
    struct rusage usage {};
    pid_t tid = wait4(-1, &status, __WALL | __WNOTHREAD, &usage);
    if (tid < 0) {
      if (errno == EINTR) continue;
      observation_.notes.push_back(fmt::format("lost track of the process: wait4 failed: {}", strerror(errno)));
      return;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) on_exit(tid, status, usage);
    else if (WIFSTOPPED(status)) on_stop(tid, status);
  }
}

void ProcessTracer::on_exit(pid_t tid, int status, const ::rusage& usage) {
  tracees_.erase(tid);
  state_.remove_process(tid);
  if (tid != state_.main_pid) return;
  main_exited_ = true;
  observation_.exited = true;
  if (WIFEXITED(status)) observation_.exit_status = WEXITSTATUS(status);
  else observation_.term_signal = WTERMSIG(status);
  observation_.peak_rss_kb = std::max<std::int64_t>(observation_.peak_rss_kb, usage.ru_maxrss);
}

void ProcessTracer::on_stop(pid_t tid, int status) {
  int signo = WSTOPSIG(status);
  int event = static_cast<unsigned>(status) >> 16;
  tracees_.insert(tid);  // a new task can report before its creator's event
  switch (event) {
    case 0:
      on_signal_delivery(tid, signo);
      return;
    case PTRACE_EVENT_STOP:
      // SIGTRAP: an interrupt or a new task's first stop. Anything else is a
      // group-stop (SIGSTOP, SIGTSTP...): keep it stopped, as without a tracer.
      ptrace(signo == SIGTRAP ? PTRACE_CONT : PTRACE_LISTEN, tid, nullptr, nullptr);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      remember_new_task(tid, event);
      break;
    case PTRACE_EVENT_SECCOMP:
      step_aside_for_leak_check(tid);
      return;
    default:
      break;
  }
  ptrace(PTRACE_CONT, tid, nullptr, nullptr);
}

void ProcessTracer::remember_new_task(pid_t tid, int event) {
  unsigned long new_tid = 0;
  if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &new_tid) != 0 || new_tid == 0) return;
  tracees_.insert(static_cast<pid_t>(new_tid));
  if (event != PTRACE_EVENT_CLONE) state_.add_process(static_cast<pid_t>(new_tid));
}

void ProcessTracer::on_signal_delivery(pid_t tid, int signo) {
  if (is_fatal_class(signo)) {
    on_fatal_signal(tid, signo);
    return;
  }
  if (signo == SIGTERM && state_.timed_out && !hang_captured_ && diagnose_ && tgid_of(tid) == state_.main_pid)
    capture_hang(state_.main_pid, tid);
  ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signo)));
}

void ProcessTracer::on_fatal_signal(pid_t tid, int signo) {
  auto deliver = [&] { ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signo))); };
  pid_t tgid = tgid_of(tid);
  bool handled = program_handles(tgid, signo);
  std::size_t already = 0;
  for (const auto& c : observation_.signals)
    if (c.pid == tgid && c.handled_by_program == handled) ++already;
  // Programs that use faults for control flow would flood us; the first of each sort tells the story.
  if (already > 0 || observation_.signals.size() >= kMaxCaptures || diagnosed_.count(tgid)) {
    deliver();
    return;
  }
  auto diagnosis_started = std::chrono::steady_clock::now();
  siginfo_t info{};
  ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info);
  SignalCapture capture;
  capture.pid = tgid;
  capture.tid = tid;
  capture.process_name = thread_name(tgid, tgid);
  capture.signo = signo;
  capture.si_code = info.si_code;
  if (carries_fault_address(signo) && info.si_code > 0)
    capture.address = reinterpret_cast<std::uint64_t>(info.si_addr);
  capture.handled_by_program = handled;

  std::map<pid_t, int> stopped;
  if (diagnose_ && !handled) stopped = stop_other_threads(tgid, tid);
  if (diagnose_ && (signo == SIGSEGV || signo == SIGBUS) && info.si_code > 0) {
    auto maps = parse_maps(read_file("/proc/" + std::to_string(tgid) + "/maps"));
    FaultContext ctx;
    ctx.signo = signo;
    ctx.si_code = info.si_code;
    ctx.address = capture.address;
    if (auto regs = read_registers(tid)) {
      ctx.stack_pointer = regs->sp;
      ctx.pc = regs->pc;
    }
    ctx.tid = tid;
    ctx.thread_name = thread_name(tgid, tid);
    ctx.main_thread = tid == tgid;
    ctx.main_stack_limit = main_stack_limit(tgid);
    ctx.file_size = [tgid](const MapEntry& m) -> std::optional<std::uint64_t> {
      struct stat st {};
      // map_files follows the mapping even when the file was deleted or renamed.
      std::string by_mapping = fmt::format("/proc/{}/map_files/{:x}-{:x}", tgid, m.start, m.end);
      if (stat(by_mapping.c_str(), &st) == 0 || stat(m.path.c_str(), &st) == 0)
        return static_cast<std::uint64_t>(st.st_size);
      return std::nullopt;
    };
    capture.attribution = attribute_fault(ctx, maps);
  }
  if (diagnose_ && !handled) {
    ProcessStacks stacks = unwind_process(tgid, tid);
    if (!stacks.error.empty()) capture.notes.push_back(stacks.error);
    capture.threads = std::move(stacks.threads);
    for (std::size_t i = 0; i < capture.threads.size(); ++i)
      if (capture.threads[i].tid == tid) capture.crashing_thread = static_cast<int>(i);
    diagnosed_.insert(tgid);
  }
  capture.diagnosis_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - diagnosis_started).count();
  observation_.signals.push_back(std::move(capture));
  deliver();
  resume(stopped);
}

void ProcessTracer::capture_hang(pid_t tgid, pid_t tid) {
  hang_captured_ = true;
  auto stopped = stop_other_threads(tgid, tid);
  ProcessStacks stacks = unwind_process(tgid, 0);
  observation_.hang_threads = std::move(stacks.threads);
  if (!stacks.error.empty()) observation_.notes.push_back("stacks at timeout: " + stacks.error);
  resume(stopped);
}

std::map<pid_t, int> ProcessTracer::stop_other_threads(pid_t tgid, pid_t except) {
  std::map<pid_t, int> stopped;
  for (pid_t tid : threads_of(tgid)) {
    if (tid == except || !tracees_.count(tid)) continue;
    if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) continue;
    while (true) {
      int status = 0;
      pid_t got = waitpid(tid, &status, __WALL);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
        tracees_.erase(tid);
        break;
      }
      int event = static_cast<unsigned>(status) >> 16;
      if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE)
        remember_new_task(tid, event);
      // A signal-delivery stop owes its signal; every other stop owes nothing.
      stopped[tid] = event == 0 ? WSTOPSIG(status) : 0;
      break;
    }
  }
  return stopped;
}

void ProcessTracer::resume(const std::map<pid_t, int>& stopped) {
  for (const auto& [tid, signo] : stopped)
    ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signo)));
}

void ProcessTracer::step_aside_for_leak_check(pid_t tid) {
  pid_t tgid = tgid_of(tid);
  auto stopped = stop_other_threads(tgid, tid);
  for (const auto& [other, signo] : stopped) {
    ptrace(PTRACE_DETACH, other, nullptr, reinterpret_cast<void*>(static_cast<long>(signo)));
    tracees_.erase(other);
  }
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  tracees_.erase(tid);
  if (detached_.insert(tgid).second)
    observation_.notes.push_back(fmt::format(
        "stopped tracing process {} so LeakSanitizer could run its leak check (it needs ptrace itself)", tgid));
}

void ProcessTracer::kill_leftovers_and_reap() {
  auto leftovers = state_.processes();
  leftovers.erase(state_.main_pid);
  if (!leftovers.empty()) {
    std::string pids;
    for (pid_t pid : leftovers)
      pids += fmt::format("{}{} ({})", pids.empty() ? "" : ", ", pid, thread_name(pid, pid));
    observation_.notes.push_back(fmt::format("killed {} process{} the command left running: {}", leftovers.size(),
                                             leftovers.size() == 1 ? "" : "es", pids));
  }
  for (pid_t pid : leftovers) kill(pid, SIGKILL);
  kill(-state_.main_pid, SIGKILL);
  while (true) {
    int status = 0;
    pid_t got = waitpid(-1, &status, __WALL | __WNOTHREAD);
    if (got < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing of this run is left
    }
    if (WIFSTOPPED(status)) ptrace(PTRACE_CONT, got, nullptr, nullptr);
    else state_.remove_process(got);
  }
}

}  // namespace crashgate
