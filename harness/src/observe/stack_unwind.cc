#include "observe/stack_unwind.h"

#include <fmt/format.h>

#include <cxxabi.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string_view>

#include <llvm/Demangle/Demangle.h>

namespace crashgate {
namespace {

char* g_debuginfo_path = nullptr;

const Dwfl_Callbacks kProcCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &g_debuginfo_path,
};

struct DwflDeleter {
  void operator()(Dwfl* d) const { dwfl_end(d); }
};

// elfutils 0.188 finds a CU only through .debug_aranges, which clang does not
// emit unless asked (-gdwarf-aranges); without this fallback no clang-built
// frame would get a file and line.
bool line_from_units(Dwfl_Module* module, Dwarf_Addr address, Frame& frame) {
  Dwarf_Addr bias = 0;
  Dwarf* dwarf = dwfl_module_getdwarf(module, &bias);
  if (!dwarf) return false;
  Dwarf_CU* cu = nullptr;
  Dwarf_Die cudie;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  while (dwarf_get_units(dwarf, cu, &cu, &version, &unit_type, &cudie, nullptr) == 0) {
    if (dwarf_haspc(&cudie, address - bias) != 1) continue;
    Dwarf_Line* line = dwarf_getsrc_die(&cudie, address - bias);
    if (!line) return false;
    const char* file = dwarf_linesrc(line, nullptr, nullptr);
    if (!file) return false;
    frame.file = file;
    dwarf_lineno(line, &frame.line);
    dwarf_linecol(line, &frame.column);
    return true;
  }
  return false;
}

// "__libc_start_main@@GLIBC_2.34" -> "__libc_start_main": versions are linker detail.
std::string without_symbol_version(const char* name) {
  std::string text(name);
  if (auto at = text.find('@'); at != std::string::npos && at > 0) text.resize(at);
  return text;
}

struct ThreadWalk {
  Dwfl* dwfl;
  pid_t pid;
  pid_t crashing_tid;
  int max_frames;
  std::vector<Thread>* threads;
};

int on_thread(Dwfl_Thread* dwfl_thread, void* arg) {
  auto* walk = static_cast<ThreadWalk*>(arg);
  Thread thread;
  thread.tid = dwfl_thread_tid(dwfl_thread);
  thread.name = thread_name(walk->pid, static_cast<pid_t>(thread.tid));
  thread.role = thread.tid == walk->crashing_tid ? "crashed" : "thread";
  // A thread that is not ptrace-stopped (it was cloned, or was ending, while
  // the others were being stopped) is left alone: libdwfl (elfutils 0.188)
  // would fail to read its registers and, never detaching it, abort on an
  // assertion at the next thread (linux-pid-attach.c, tid_attached == 0).
  if (!read_registers(static_cast<pid_t>(thread.tid))) {
    thread.error = "not unwound: the thread was not stopped under ptrace (it started or ended while the others were stopped)";
    walk->threads->push_back(std::move(thread));
    return DWARF_CB_OK;
  }
  unwind_frames(walk->dwfl, dwfl_thread, thread, walk->max_frames);
  walk->threads->push_back(std::move(thread));
  return DWARF_CB_OK;
}

}  // namespace

Frame symbolize(Dwfl* dwfl, std::uint64_t pc, bool activation) {
  Frame frame;
  frame.pc = pc;
  // A return address points after the call; look up the call itself.
  Dwarf_Addr lookup = activation ? pc : pc - 1;
  Dwfl_Module* module = dwfl_addrmodule(dwfl, lookup);
  if (!module) return frame;
  Dwarf_Addr low = 0;
  const char* module_name = dwfl_module_info(module, nullptr, &low, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (module_name) frame.module = module_name;
  frame.module_offset = pc - low;
  GElf_Off offset = 0;
  GElf_Sym sym;
  if (const char* name = dwfl_module_addrinfo(module, lookup, &offset, &sym, nullptr, nullptr, nullptr))
    frame.function = demangle(without_symbol_version(name).c_str());
  if (Dwfl_Line* line = dwfl_module_getsrc(module, lookup)) {
    int lineno = 0, column = 0;
    if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, &column, nullptr, nullptr)) {
      frame.file = file;
      frame.line = lineno;
      frame.column = column;
    }
  }
  if (frame.file.empty()) line_from_units(module, lookup, frame);
  return frame;
}

namespace {

struct FrameWalk {
  Dwfl* dwfl;
  Thread* thread;
  int max_frames;
  bool symbolize = true;  // false: module and offset only (no symbol or line lookups)
};

Frame module_frame(Dwfl* dwfl, std::uint64_t pc, bool activation) {
  Frame frame;
  frame.pc = pc;
  if (Dwfl_Module* module = dwfl_addrmodule(dwfl, activation ? pc : pc - 1)) {
    Dwarf_Addr low = 0;
    if (const char* name = dwfl_module_info(module, nullptr, &low, nullptr, nullptr, nullptr, nullptr, nullptr)) frame.module = name;
    frame.module_offset = pc - low;
  }
  return frame;
}

int on_frame(Dwfl_Frame* state, void* arg) {
  auto* walk = static_cast<FrameWalk*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
  walk->thread->frames.push_back(walk->symbolize ? symbolize(walk->dwfl, pc, activation) : module_frame(walk->dwfl, pc, activation));
  return static_cast<int>(walk->thread->frames.size()) >= walk->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

}  // namespace

void unwind_frames(Dwfl* dwfl, Dwfl_Thread* dwfl_thread, Thread& thread, int max_frames) {
  FrameWalk frames{dwfl, &thread, max_frames};
  // The end of a stack often reads as an error (no CFI for _start); only an empty walk is a failure.
  if (dwfl_thread_getframes(dwfl_thread, on_frame, &frames) != 0 && thread.frames.empty())
    thread.error = dwfl_errmsg(-1);
}

std::string demangle(const char* symbol) {
  std::string_view mangled = symbol;
  int status = 0;
  // Rust's v0 scheme (_R...): LLVM's demangler; Itanium (_Z..., C++ and Rust's legacy scheme): the C++ runtime's.
  std::unique_ptr<char, decltype(&std::free)> out(
      mangled.starts_with("_R") ? llvm::rustDemangle(symbol, nullptr, nullptr, &status)
                                : abi::__cxa_demangle(symbol, nullptr, nullptr, &status),
      &std::free);
  if (status != 0 || !out) return std::string(symbol);
  std::string name(out.get());
  // Rust's legacy scheme ends each path in a hash, "::h" and 16 hex digits,
  // which changes with every build: a function's name is the path before it.
  if (mangled.starts_with("_ZN") && name.size() > 19 && name.compare(name.size() - 19, 3, "::h") == 0 &&
      std::all_of(name.end() - 16, name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    name.resize(name.size() - 19);
  return name;
}

std::string thread_name(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::optional<Registers> read_registers(pid_t tid) {
  user_regs_struct regs{};
  iovec io{&regs, sizeof regs};
  if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &io) != 0) return std::nullopt;
#if defined(__x86_64__)
  return Registers{regs.rip, regs.rsp};
#elif defined(__aarch64__)
  return Registers{regs.pc, regs.sp};
#else
  return std::nullopt;
#endif
}

ThreadUnwinder::~ThreadUnwinder() { refresh(); }

namespace {
char* g_offline_debuginfo_path = nullptr;
const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &g_offline_debuginfo_path,
};
}  // namespace

OfflineSymbolizer::~OfflineSymbolizer() {
  for (auto& [path, dwfl] : modules_)
    if (dwfl) dwfl_end(dwfl);
}

std::string OfflineSymbolizer::describe(const std::string& text, bool innermost) {
  std::string key = text + (innermost ? "!" : "");
  if (auto it = described_.find(key); it != described_.end()) return it->second;
  std::string& out = described_[key] = text;
  auto plus = text.rfind("+0x");
  if (plus == std::string::npos || plus == 0) return out;
  std::string path = text.substr(0, plus);
  std::uint64_t offset = std::strtoull(text.c_str() + plus + 3, nullptr, 16);
  auto [it, added] = modules_.try_emplace(path, nullptr);
  if (added) {
    Dwfl* dwfl = dwfl_begin(&kOfflineCallbacks);
    if (dwfl) {
      dwfl_report_begin(dwfl);
      bool reported = dwfl_report_offline(dwfl, path.c_str(), path.c_str(), -1) != nullptr;
      dwfl_report_end(dwfl, nullptr, nullptr);
      if (!reported) {
        dwfl_end(dwfl);
        dwfl = nullptr;
      }
    }
    it->second = dwfl;
  }
  Dwfl* dwfl = it->second;
  if (!dwfl) return out;
  Dwfl_Module* module = nullptr;
  auto first = [](Dwfl_Module* m, void**, const char*, Dwarf_Addr, void* arg) -> int {
    *static_cast<Dwfl_Module**>(arg) = m;
    return DWARF_CB_ABORT;
  };
  dwfl_getmodules(dwfl, first, &module, 0);
  if (!module) return out;
  Dwarf_Addr low = 0;
  dwfl_module_info(module, nullptr, &low, nullptr, nullptr, nullptr, nullptr, nullptr);
  Frame f = symbolize(dwfl, low + offset, innermost);
  if (f.function.empty()) return out;
  out = f.file.empty() ? fmt::format("{} ({})", f.function, text) : fmt::format("{} {}:{}", f.function, f.file, f.line);
  return out;
}

void ThreadUnwinder::refresh() {
  if (dwfl_) dwfl_end(dwfl_);
  dwfl_ = nullptr;
}

Thread ThreadUnwinder::unwind(pid_t tid, int max_frames, bool symbolize_frames) {
  Thread thread;
  thread.tid = tid;
  if (!dwfl_) {
    dwfl_ = dwfl_begin(&kProcCallbacks);
    if (!dwfl_) {
      thread.error = std::string("libdwfl: ") + dwfl_errmsg(-1);
      return thread;
    }
    dwfl_report_begin(dwfl_);
    int report = dwfl_linux_proc_report(dwfl_, pid_);
    dwfl_report_end(dwfl_, nullptr, nullptr);
    // The caller has the thread ptrace-stopped; libdwfl must not attach itself.
    if (report != 0 || dwfl_linux_proc_attach(dwfl_, pid_, true) != 0) {
      thread.error = "libdwfl could not read or attach to process " + std::to_string(pid_);
      refresh();
      return thread;
    }
  }
  FrameWalk frames{dwfl_, &thread, max_frames, symbolize_frames};
  if (dwfl_getthread_frames(dwfl_, tid, on_frame, &frames) != 0 && thread.frames.empty()) thread.error = dwfl_errmsg(-1);
  return thread;
}

ProcessStacks unwind_process(pid_t pid, pid_t crashing_tid, int max_frames) {
  ProcessStacks result;
  std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&kProcCallbacks));
  if (!dwfl) {
    result.error = std::string("libdwfl: ") + dwfl_errmsg(-1);
    return result;
  }
  dwfl_report_begin(dwfl.get());
  int report = dwfl_linux_proc_report(dwfl.get(), pid);
  dwfl_report_end(dwfl.get(), nullptr, nullptr);
  if (report != 0) {
    result.error = "libdwfl could not read the modules of process " + std::to_string(pid);
    return result;
  }
  // The caller has every thread ptrace-stopped; libdwfl must not attach itself.
  if (int rc = dwfl_linux_proc_attach(dwfl.get(), pid, true); rc != 0) {
    result.error = "libdwfl could not attach to process " + std::to_string(pid) + ": " +
                   (rc > 0 ? std::string(strerror(rc)) : std::string(dwfl_errmsg(-1)));
    return result;
  }
  ThreadWalk walk{dwfl.get(), pid, crashing_tid, max_frames, &result.threads};
  if (dwfl_getthreads(dwfl.get(), on_thread, &walk) != 0 && result.threads.empty())
    result.error = std::string("libdwfl could not list threads: ") + dwfl_errmsg(-1);
  std::stable_partition(result.threads.begin(), result.threads.end(),
                        [&](const Thread& t) { return t.tid == crashing_tid; });
  return result;
}

}  // namespace crashgate
