#include "runner/child_launch.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fmt/format.h>

#include "runner/sanitizer_env.h"

extern char** environ;

namespace crashgate {
namespace {

#ifndef PR_SET_PTRACER
#define PR_SET_PTRACER 0x59616d61
#endif

#if defined(__x86_64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_AARCH64;
#endif

// LeakSanitizer stops the world by ptrace-attaching to every thread, which
// fails while crashgate traces them. Right before it attaches it announces its
// tracer with prctl(PR_SET_PTRACER); this filter turns that call into a ptrace
// stop, where crashgate detaches so the leak check can run (process_tracer.cc).
sock_filter kLsanTrap[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_PTRACER, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

void install_lsan_trap() {
  sock_fprog program{static_cast<unsigned short>(sizeof kLsanTrap / sizeof kLsanTrap[0]), kLsanTrap};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0) return;
  // Without CAP_SYS_ADMIN a filter needs no_new_privs; without the filter only leak checks suffer.
  syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

[[noreturn]] void child_fail(int fd, int error) {
  ssize_t ignored = syscall(SYS_write, fd, &error, sizeof error);
  (void)ignored;
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

void move_fd(int from, int to) {
  if (from < 0) return;
  syscall(SYS_dup3, from, to, 0);
}

// Runs in the forked child. Only raw system calls: the parent may have other
// threads holding locks (malloc's, a sanitizer's) that will never be released here.
[[noreturn]] void run_child(const LaunchPlan& plan) {
  int err = plan.exec_error_fd;
  if (syscall(SYS_setpgid, 0, 0) != 0) child_fail(err, errno);
  char go = 0;
  while (syscall(SYS_read, plan.go_fd, &go, 1) < 0 && errno == EINTR) {
  }
  move_fd(plan.stdin_fd, 0);
  move_fd(plan.stdout_fd, 1);
  move_fd(plan.stderr_fd, 2);
  move_fd(plan.events_fd, 3);
  // Everything else must not leak into the target: a stray pipe end would keep another run's capture open.
  syscall(SYS_close_range, plan.events_fd >= 0 ? 4u : 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  for (int sig : plan.signals_to_default) {
    KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(unsigned long));
  }
  unsigned long empty_mask = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, nullptr, sizeof empty_mask);
  for (const auto& limit : plan.rlimits)
    if (syscall(SYS_prlimit64, 0, limit.resource, &limit.value, nullptr) != 0) child_fail(err, errno);
  if (!plan.work_dir.empty() && syscall(SYS_chdir, plan.work_dir.c_str()) != 0) child_fail(err, errno);
  if (plan.trap_ptracer_prctl) install_lsan_trap();
  syscall(SYS_execve, plan.executable.c_str(), plan.argv.data(), plan.envp.data());
  child_fail(err, errno);
}

}  // namespace

Checked<std::string> find_executable(const std::string& name, const std::string& path_env) {
  auto usable = [](const std::string& candidate) {
    struct stat st {};
    return stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0;
  };
  if (name.empty()) return failure("empty command");
  if (name.find('/') != std::string::npos) {
    if (usable(name)) return name;
    return failure(fmt::format("cannot execute '{}': {}", name,
                               access(name.c_str(), F_OK) == 0 ? "not an executable file" : "no such file"));
  }
  std::string_view rest = path_env.empty() ? std::string_view("/usr/local/bin:/usr/bin:/bin") : std::string_view(path_env);
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (usable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return failure(fmt::format("command not found: '{}' is in no directory of PATH", name));
}

std::vector<std::string> child_environment(const RunSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  auto set = [&env](const std::string& key, const std::string& value) {
    for (auto& entry : env)
      if (entry.compare(0, key.size() + 1, key + "=") == 0) {
        entry = key + "=" + value;
        return;
      }
    env.push_back(key + "=" + value);
  };
  auto get = [&env](const std::string& key) -> std::optional<std::string> {
    for (auto& entry : env)
      if (entry.compare(0, key.size() + 1, key + "=") == 0) return entry.substr(key.size() + 1);
    return std::nullopt;
  };
  for (const auto& [key, value] : spec.env) set(key, value);
  if (spec.sanitizer_options)
    for (const auto& tool : sanitizer_option_defaults())
      set(std::string(tool.variable), merge_sanitizer_options(get(std::string(tool.variable)).value_or(""), tool));
  if (spec.limits.worker_stack) {
    set("CRASHGATE_WORKER_STACK", std::to_string(*spec.limits.worker_stack));
    set("RUST_MIN_STACK", std::to_string(*spec.limits.worker_stack));
  }
  if (spec.driver_protocol) set("CRASHGATE_EVENT_FD", "3");
  return env;
}

pid_t fork_child(const LaunchPlan& plan) {
  pid_t pid = fork();
  if (pid == 0) run_child(plan);
  return pid;
}

}  // namespace crashgate
