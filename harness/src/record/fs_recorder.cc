// The recorder: runs a command under ptrace with a seccomp filter that stops
// it only on the calls of fs_syscalls.h, decodes each call at its stop,
// lets it run to its exit stop for the result, and keeps those that touch
// the recorded directory (fs_recording.h has the recording's layout).
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>  // RENAME_EXCHANGE
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/fs_recording.h"
#include "crashgate/runner.h"
#include "record/fs_log.h"
#include "record/fs_syscalls.h"
#include "observe/stack_unwind.h"
#include "record/mapped_pages.h"

namespace fs = std::filesystem;

extern char** environ;

namespace crashgate {
namespace {

using record::DirtyPage;
using record::FsKind;
using record::FsSyscall;
using record::kPageSize;
using record::Mapping;
using record::MappedPages;

#if !defined(__x86_64__)
#error "crashgate record decodes x86-64 system calls"
#endif

std::string readlink_text(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::string fd_path(pid_t tid, long fd) { return readlink_text(fmt::format("/proc/{}/fd/{}", tid, fd)); }

// Up to `len` bytes of a tracee's memory at `addr` (fewer where it is not mapped).
std::string read_memory(pid_t pid, std::uint64_t addr, std::size_t len) {
  std::string out(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    iovec local{out.data() + got, len - got};
    iovec remote{reinterpret_cast<void*>(addr + got), len - got};
    ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

std::string read_string(pid_t pid, std::uint64_t addr) {
  std::string out;
  while (addr != 0 && out.size() < 4096) {
    std::uint64_t at = addr + out.size();
    std::string part = read_memory(pid, at, kPageSize - at % kPageSize);
    if (part.empty()) break;
    if (auto nul = part.find('\0'); nul != std::string::npos) return out + part.substr(0, nul);
    out += part;
  }
  return out;
}

std::string normal(const std::string& path) {
  std::string n = fs::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

// A path argument made absolute against its directory fd (AT_FDCWD: the
// cwd), its directory's symlinks resolved as the kernel will (the last
// component is kept: unlink and rename act on a symlink itself).
std::string resolve(pid_t tid, std::int64_t dirfd, const std::string& path) {
  if (path.empty()) return "";
  std::string abs = path;
  if (path[0] != '/') {
    std::string base = static_cast<int>(dirfd) == AT_FDCWD ? readlink_text(fmt::format("/proc/{}/cwd", tid)) : fd_path(tid, dirfd);
    if (base.empty()) return "";
    abs = base + "/" + path;
  }
  fs::path p = fs::path(normal(abs));
  std::error_code ec;
  fs::path parent = fs::weakly_canonical(p.parent_path(), ec);
  return ec ? normal(abs) : normal((parent / p.filename()).string());
}

bool under(const std::string& dir, const std::string& path) {
  return !path.empty() && (path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/'));
}

pid_t parent_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("PPid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  return 0;
}

pid_t tgid_of(pid_t tid) {
  std::ifstream in(fmt::format("/proc/{}/status", tid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Tgid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  return tid;
}

// The file position and open flags (O_APPEND, O_DSYNC, ...) of a tracee's fd (/proc/PID/fdinfo).
std::pair<std::uint64_t, long> fd_position(pid_t tid, long fd) {
  std::ifstream in(fmt::format("/proc/{}/fdinfo/{}", tid, fd));
  std::string key;
  std::uint64_t pos = 0;
  long flags = 0;
  while (in >> key) {
    if (key == "pos:") in >> pos;
    if (key == "flags:") {
      std::string octal;
      in >> octal;
      flags = static_cast<long>(std::stoul(octal, nullptr, 8));
    }
  }
  return {pos, flags};
}

std::optional<std::uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

std::vector<sock_filter> trace_filter() {
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  const auto& calls = record::fs_syscalls();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    // Jump to the TRACE return (after the remaining compares and the ALLOW) when it matches.
    auto to_trace = static_cast<unsigned char>(calls.size() - i);
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(calls[i].nr), to_trace, 0));
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
  return f;
}

// A call between its seccomp stop and its exit stop.
struct Pending {
  const FsSyscall* sc = nullptr;
  std::uint64_t a[6] = {};
  FsCall call;
  std::string data;
  bool relevant = false;
};

class Recorder {
 public:
  Recorder(const RecordOptions& o, std::string dir)
      : o_(o),
        dir_(std::move(dir)),
        pages_([](int pid, std::uint64_t addr) { return read_memory(pid, addr, kPageSize); }, file_size) {}

  Checked<RecordSummary> run();

 private:
  CheckedDone open_outputs();
  void on_seccomp(pid_t tid);
  void on_exit(pid_t tid);
  void emit(FsCall call, const std::string& data);
  void emit_dirty(std::vector<DirtyPage> pages, pid_t tid, const std::string& found_at);
  std::vector<std::string> stack_of(pid_t tid);
  // A new process gets its parent's mappings once, at the parent's fork
  // event or at its own first stop, whichever the tracer sees first: the
  // parent waits in its event stop until then, so its mappings are as they
  // were at the fork.
  void inherit_mappings(pid_t parent, pid_t child) {
    if (!inherited_.insert(child).second) return;
    pages_.forked(tgid(parent), child);
  }
  pid_t tgid(pid_t tid) {
    auto it = tgids_.find(tid);
    if (it != tgids_.end()) return it->second;
    return tgids_[tid] = tgid_of(tid);
  }

  const RecordOptions& o_;
  std::string dir_;
  MappedPages pages_;
  std::ofstream calls_, data_;
  std::uint64_t data_bytes_ = 0;
  std::map<pid_t, Pending> pending_;
  std::map<pid_t, pid_t> tgids_;
  std::set<pid_t> seen_;
  std::set<pid_t> inherited_;  // new processes that have their parent's mappings
  std::map<pid_t, std::unique_ptr<ThreadUnwinder>> unwinders_;  // by process
  RecordSummary summary_;
};

std::vector<std::string> Recorder::stack_of(pid_t tid) {
  std::vector<std::string> out;
  if (o_.stack_frames <= 0) return out;
  pid_t pid = tgid(tid);
  auto& unwinder = unwinders_[pid];
  if (!unwinder) unwinder = std::make_unique<ThreadUnwinder>(pid);
  // Module and offset only: symbolizing every call's frames would cost more than the call;
  // a report symbolizes the few stacks it shows (OfflineSymbolizer).
  Thread t = unwinder->unwind(tid, o_.stack_frames, false);
  for (const auto& f : t.frames)
    out.push_back(f.module.empty() ? fmt::format("{:#x}", f.pc) : fmt::format("{}+{:#x}", f.module, f.module_offset));
  return out;
}

CheckedDone Recorder::open_outputs() {
  calls_.open(o_.out + "/calls.jsonl", std::ios::binary | std::ios::trunc);
  data_.open(o_.out + "/data.bin", std::ios::binary | std::ios::trunc);
  if (!calls_ || !data_) return failure(fmt::format("{}: cannot write calls.jsonl and data.bin there", o_.out));
  return done();
}

void Recorder::emit(FsCall call, const std::string& data) {
  call.seq = ++summary_.calls;
  if (!data.empty()) {
    call.data_at = data_bytes_;
    data_.write(data.data(), static_cast<std::streamsize>(data.size()));
    data_bytes_ += data.size();
  }
  calls_ << record::fs_call_line(call) << '\n';
}

void Recorder::emit_dirty(std::vector<DirtyPage> pages, pid_t tid, const std::string& found_at) {
  std::vector<std::string> stack = pages.empty() ? std::vector<std::string>{} : stack_of(tid);
  for (auto& p : pages) {
    FsCall c;
    c.pid = p.pid;
    c.tid = tid;
    c.call = "mapped-write";
    c.kind = std::string(record::to_string(FsKind::write));
    c.path = p.path;
    c.offset = p.offset;
    c.length = p.bytes.size();
    c.result = static_cast<std::int64_t>(p.bytes.size());
    c.found_at = found_at;
    c.stack = stack;
    ++summary_.mapped_writes;
    emit(std::move(c), p.bytes);
  }
}

void Recorder::on_seccomp(pid_t tid) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    return;
  }
  const FsSyscall* sc = record::fs_syscall(static_cast<long>(regs.orig_rax));
  if (sc == nullptr) {
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    return;
  }
  Pending p;
  p.sc = sc;
  std::uint64_t a[6] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
  std::copy(a, a + 6, p.a);
  FsCall& c = p.call;
  c.pid = tgid(tid);
  c.tid = tid;
  c.call = std::string(sc->name);
  c.kind = std::string(record::to_string(sc->kind));
  if (sc->fd >= 0 && static_cast<int>(a[sc->fd]) >= 0) c.path = fd_path(tid, static_cast<long>(static_cast<int>(a[sc->fd])));
  if (sc->path >= 0) c.path = resolve(tid, sc->dirfd >= 0 ? static_cast<std::int64_t>(a[sc->dirfd]) : AT_FDCWD, read_string(tid, a[sc->path]));
  if (sc->path2 >= 0) c.path2 = resolve(tid, sc->dirfd2 >= 0 ? static_cast<std::int64_t>(a[sc->dirfd2]) : AT_FDCWD, read_string(tid, a[sc->path2]));
  if (sc->flags >= 0) c.flags = static_cast<std::int64_t>(a[sc->flags]);
  if (sc->length >= 0) c.length = a[sc->length];
  if (sc->offset >= 0) c.offset = a[sc->offset];
  switch (sc->kind) {
    case FsKind::map:
    case FsKind::unmap:
    case FsKind::remap:
    case FsKind::map_sync:
      c.addr = a[0];
      break;
    default:
      break;
  }
  bool mapping_call = sc->kind == FsKind::unmap || sc->kind == FsKind::remap || sc->kind == FsKind::map_sync;
  if (mapping_call) c.path = pages_.path_at(c.pid, a[0], a[1]).value_or("");
  p.relevant = under(dir_, c.path) || under(dir_, c.path2) || sc->nr == SYS_sync || sc->nr == SYS_syncfs;
  // Only a shared, writable mapping of a file can write it: a read-only one (LMDB's data.mdb
  // without MDB_WRITEMAP) is kept out, and its pages are never compared.
  if (sc->kind == FsKind::map) p.relevant = p.relevant && (a[3] & MAP_SHARED) && !(a[3] & MAP_ANONYMOUS) && (a[2] & PROT_WRITE);
  if (sc->kind == FsKind::open) p.relevant = true;  // judged at its exit, by the file it opened
  bool event = sc->kind == FsKind::write && o_.events_fd >= 0 && sc->fd >= 0 && static_cast<int>(a[sc->fd]) == o_.events_fd;
  if (event) {
    p.relevant = true;
    c.call = "event";
    c.kind = "event";
    c.path.clear();
  }
  if (sc->kind == FsKind::write && p.relevant && !event) {
    // A write's flags are its fd's: O_DSYNC or O_SYNC makes it durable on return.
    auto [pos, flags] = fd_position(tid, static_cast<long>(a[sc->fd]));
    c.flags = flags;
    if (sc->offset < 0 || static_cast<std::int64_t>(a[sc->offset]) == -1)
      c.offset = (flags & O_APPEND) ? file_size(c.path).value_or(pos) : pos;
    if (sc->vectored) {
      std::uint64_t n = std::min<std::uint64_t>(a[sc->count], 1024);
      std::string iov = read_memory(tid, a[sc->buf], n * sizeof(iovec));
      for (std::size_t i = 0; i + sizeof(iovec) <= iov.size(); i += sizeof(iovec)) {
        iovec v{};
        std::memcpy(&v, iov.data() + i, sizeof v);
        p.data += read_memory(tid, reinterpret_cast<std::uint64_t>(v.iov_base), v.iov_len);
      }
    } else {
      p.data = read_memory(tid, a[sc->buf], a[sc->count]);
    }
  }
  if (event) p.data = read_memory(tid, a[sc->buf], std::min<std::uint64_t>(a[sc->count], 64 * 1024));
  // New code mapped (a dlopen, an exec's loader): the unwinder reads the modules again.
  if (sc->kind == FsKind::map && (a[2] & PROT_EXEC))
    if (auto u = unwinders_.find(c.pid); u != unwinders_.end()) u->second->refresh();
  if (p.relevant && !event && (sc->kind != FsKind::open || under(dir_, c.path))) c.stack = stack_of(tid);
  // Persistence points: the mapped pages they make durable were written before the call.
  pid_t pid = c.pid;
  if (sc->kind == FsKind::map_sync) emit_dirty(pages_.dirty_in(pid, a[0], a[1]), tid, "msync");
  if (sc->kind == FsKind::unmap) emit_dirty(pages_.dirty_in(pid, a[0], a[1]), tid, "munmap");
  if ((sc->nr == SYS_fsync || sc->nr == SYS_fdatasync) && pages_.maps(c.path)) emit_dirty(pages_.dirty_of_file(c.path), tid, c.call);
  // A file about to lose its name (unlinked, or replaced by a rename onto it):
  // what was stored into its mappings so far was written to it under that name.
  std::string losing = sc->kind == FsKind::rename ? c.path2 : sc->kind == FsKind::unlink ? c.path : std::string();
  if (sc->kind == FsKind::rename && (c.flags & RENAME_EXCHANGE)) losing.clear();
  if (!losing.empty() && pages_.maps(losing)) emit_dirty(pages_.dirty_of_file(losing), tid, c.call);
  pending_[tid] = std::move(p);
  ::ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr);
}

void Recorder::on_exit(pid_t tid) {
  auto it = pending_.find(tid);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
  auto result = static_cast<std::int64_t>(regs.rax);
  FsCall& c = p.call;
  c.result = result;
  const FsSyscall* sc = p.sc;
  bool ok = result >= 0;
  if (sc->kind == FsKind::open) {
    if (ok) c.path = fd_path(tid, static_cast<long>(result));
    p.relevant = under(dir_, c.path);
  }
  if (!p.relevant) return;
  switch (sc->kind) {
    case FsKind::write:
      c.length = ok ? static_cast<std::uint64_t>(result) : 0;
      p.data.resize(std::min<std::size_t>(p.data.size(), static_cast<std::size_t>(*c.length)));
      c.length = p.data.size();
      if (c.call == "event") {
        c.offset.reset();
        ++summary_.events;
      } else if (ok && pages_.maps(c.path)) {
        pages_.written(c.path, *c.offset, *c.length);
      }
      break;
    case FsKind::truncate:
      if (ok && c.length) pages_.truncated(c.path, *c.length);
      break;
    case FsKind::rename:
      if (ok && c.path != c.path2) {
        if (c.flags & RENAME_EXCHANGE) {
          pages_.exchanged(c.path, c.path2);  // both keep a name: each other's
        } else {
          pages_.detach(c.path2);  // the file it replaced, if any, has no name now
          pages_.renamed(c.path, c.path2);
        }
      }
      break;
    case FsKind::unlink:
      if (ok) pages_.detach(c.path);
      break;
    case FsKind::map:
      if (ok) {
        c.addr = static_cast<std::uint64_t>(result);
        pages_.mapped({c.pid, static_cast<std::uint64_t>(result), p.a[1], p.a[5], c.path});
      }
      break;
    case FsKind::unmap:
      if (ok) pages_.unmapped(c.pid, p.a[0], p.a[1]);
      break;
    case FsKind::remap:
      if (ok) pages_.remapped(c.pid, p.a[0], static_cast<std::uint64_t>(result), p.a[2]);
      break;
    default:
      break;
  }
  emit(std::move(c), p.data);
}

Checked<RecordSummary> Recorder::run() {
  if (auto opened = open_outputs(); !opened) return failure(opened.error());
  std::vector<sock_filter> filter = trace_filter();
  sock_fprog program{static_cast<unsigned short>(filter.size()), filter.data()};
  std::vector<std::string> args = o_.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment the command runs with (built before fork: the child only execs).
  std::vector<std::string> env_text;
  auto overridden = [&](std::string_view entry) {
    if (entry.rfind("CRASHGATE_EVENT_FD=", 0) == 0) return true;
    for (const auto& [name, value] : o_.env)
      if (entry.size() > name.size() && entry.rfind(name, 0) == 0 && entry[name.size()] == '=') return true;
    return false;
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) env_text.emplace_back(*e);
  for (const auto& [name, value] : o_.env) env_text.push_back(name + "=" + value);
  if (o_.events_fd >= 0) env_text.push_back(fmt::format("CRASHGATE_EVENT_FD={}", o_.events_fd));
  // LeakSanitizer checks at exit by ptrace-attaching to every thread, which a traced
  // process cannot allow: an ASan-built command runs without the leak check.
  bool asan_options = false;
  for (auto& e : env_text)
    if (e.rfind("ASAN_OPTIONS=", 0) == 0) {
      e += ":detect_leaks=0";
      asan_options = true;
    }
  if (!asan_options) env_text.push_back("ASAN_OPTIONS=detect_leaks=0");
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return failure(fmt::format("pipe: {}", std::strerror(errno)));
  auto start = std::chrono::steady_clock::now();
  pid_t child = ::fork();
  if (child < 0) return failure(fmt::format("fork: {}", std::strerror(errno)));
  if (child == 0) {
    ::close(report[0]);
    ::setpgid(0, 0);
    if (o_.events_fd >= 0) {
      int null_fd = ::open("/dev/null", O_WRONLY);
      if (null_fd >= 0 && null_fd != o_.events_fd) {
        ::dup2(null_fd, o_.events_fd);
        ::close(null_fd);
      }
    }
    int stage_err[2] = {0, 0};
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) stage_err[0] = 1;
    if (!stage_err[0]) ::raise(SIGSTOP);
    if (!stage_err[0] && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) stage_err[0] = 2;
    if (!stage_err[0] && ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) stage_err[0] = 3;
    if (!stage_err[0]) {
      ::execvpe(argv[0], argv.data(), envp.data());
      stage_err[0] = 4;
    }
    stage_err[1] = errno;
    (void)!::write(report[1], stage_err, sizeof stage_err);
    ::_exit(127);
  }
  ::close(report[1]);
  int status = 0;
  if (::waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status)) {
    ::close(report[0]);
    return failure("the command stopped before it could be traced (ptrace refused?)");
  }
  long options = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                 PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SETOPTIONS, child, nullptr, reinterpret_cast<void*>(options)) != 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, __WALL);
    ::close(report[0]);
    return failure(fmt::format("ptrace(PTRACE_SETOPTIONS): {}", std::strerror(errno)));
  }
  seen_.insert(child);
  tgids_[child] = child;
  ::ptrace(PTRACE_CONT, child, nullptr, nullptr);

  // Ctrl-C and the wall limit end the traced process group from a thread of their own.
  int stop_fd = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<bool> timed_out{false}, cancelled{false};
  std::thread watcher([&] {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {o_.cancel ? o_.cancel->poll_fd() : -1, POLLIN, 0}};
    int r = ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(o_.wall.count(), INT32_MAX)));
    if (r == 0) timed_out = true;
    if (r > 0 && (fds[1].revents & POLLIN)) cancelled = true;
    if (timed_out || cancelled) {
      ::kill(-child, SIGKILL);
      ::kill(child, SIGKILL);
    }
  });

  std::string start_error;
  for (;;) {
    pid_t tid = ::waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every tracee is gone
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      pending_.erase(tid);
      if (tid == child) {
        if (WIFEXITED(status)) summary_.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) summary_.signal = WTERMSIG(status);
      }
      if (tgid(tid) == tid) {
        pages_.forget_process(tid);
        unwinders_.erase(tid);
      }
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status), event = status >> 16;
    bool first_stop = seen_.insert(tid).second;
    if (sig == (SIGTRAP | 0x80)) {
      on_exit(tid);
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
      ++summary_.stops;
      on_seccomp(tid);
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
      emit_dirty(pages_.dirty_of_process(tgid(tid)), tid, "exit");
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
      pid_t group = tgid(tid);
      emit_dirty(pages_.dirty_of_process(group), tid, "exec");
      pages_.forget_process(group);
      unwinders_.erase(group);
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    } else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK)) {
      unsigned long born = 0;
      if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &born) == 0 && born != 0) {
        tgids_[static_cast<pid_t>(born)] = static_cast<pid_t>(born);
        inherit_mappings(tid, static_cast<pid_t>(born));
      }
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);  // the child stops on its own
    } else if (sig == SIGTRAP && event != 0) {
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);  // clone (a thread): the new tracee stops on its own
    } else if (sig == SIGSTOP && first_stop) {
      // A new thread's or child's first stop; a child seen before its parent's fork event takes the mappings now.
      if (tgid(tid) == tid)
        if (pid_t parent = parent_of(tid); parent > 0 && seen_.count(parent)) inherit_mappings(parent, tid);
      ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    } else {
      ::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));  // the program's own signal
    }
  }
  std::uint64_t one = 1;
  (void)!::write(stop_fd, &one, sizeof one);
  watcher.join();
  ::close(stop_fd);
  int stage_err[2] = {0, 0};
  bool failed_start = ::read(report[0], stage_err, sizeof stage_err) == static_cast<ssize_t>(sizeof stage_err);
  ::close(report[0]);
  if (failed_start) {
    static const char* stages[] = {"", "ptrace(PTRACE_TRACEME)", "prctl(PR_SET_NO_NEW_PRIVS)", "seccomp(SECCOMP_SET_MODE_FILTER)", "exec"};
    int stage = stage_err[0] >= 1 && stage_err[0] <= 4 ? stage_err[0] : 4;
    if (stage == 4) return failure(fmt::format("{}: cannot run it: {}", o_.argv[0], std::strerror(stage_err[1])));
    return failure(fmt::format("cannot trace {}: {} failed: {}", o_.argv[0], stages[stage], std::strerror(stage_err[1])));
  }
  calls_.flush();
  data_.flush();
  if (!calls_ || !data_) return failure(fmt::format("{}: writing the recording failed", o_.out));
  summary_.data_bytes = data_bytes_;
  summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary_.timed_out = timed_out;
  summary_.cancelled = cancelled;
  summary_.dirty_pages_by = "page-compare";
  return summary_;
}

}  // namespace

Checked<RecordSummary> record_fs_calls(const RecordOptions& o) {
  if (o.argv.empty()) return failure("no command to record");
  std::error_code ec;
  if (!fs::is_directory(o.dir, ec)) return failure(fmt::format("{}: not a directory (the directory to record)", o.dir));
  std::string dir = fs::canonical(o.dir, ec).string();
  if (ec) return failure(fmt::format("{}: {}", o.dir, ec.message()));
  if (fs::exists(o.out, ec) && !(fs::is_directory(o.out, ec) && fs::is_empty(o.out, ec)))
    return failure(fmt::format("{}: exists and is not an empty directory (a recording is written into a new one)", o.out));
  fs::create_directories(o.out, ec);
  if (ec) return failure(fmt::format("{}: cannot be created: {}", o.out, ec.message()));
  std::string out = fs::canonical(o.out, ec).string();
  if (under(dir, out)) return failure(fmt::format("{}: the recording cannot be inside the directory it records ({})", o.out, o.dir));
  // The directory as it was before the program ran: any prefix of the log applies to it.
  fs::copy(dir, out + "/initial", fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return failure(fmt::format("{}: cannot snapshot it into {}/initial: {}", o.dir, o.out, ec.message()));
  Recorder recorder(o, dir);
  Checked<RecordSummary> summary = recorder.run();
  if (!summary) return summary;
  nlohmann::json j{{"schema", "crashgate.recording/1"},
                   {"command", o.argv},
                   {"dir", dir},
                   {"calls", summary->calls},
                   {"mapped_writes", summary->mapped_writes},
                   {"events", summary->events},
                   {"data_bytes", summary->data_bytes},
                   {"stops", summary->stops},
                   {"seconds", summary->seconds},
                   {"dirty_pages_by", summary->dirty_pages_by},
                   {"timed_out", summary->timed_out},
                   {"cancelled", summary->cancelled}};
  if (summary->exit_code) j["exit_code"] = *summary->exit_code;
  if (summary->signal) j["signal"] = *summary->signal;
  std::ofstream meta(o.out + "/record.json");
  meta << j.dump(2) << '\n';
  if (!meta) return failure(fmt::format("{}/record.json: cannot be written", o.out));
  return summary;
}

}  // namespace crashgate
