// Out-of-process unwinding and symbolization with elfutils' libdwfl.
// Contract: every thread to unwind is ptrace-stopped by the calling thread
// (ptrace requests only work from the tracer thread).
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crashgate/outcome.h"

namespace crashgate {

struct ProcessStacks {
  std::vector<Thread> threads;   // the crashing thread (if any) first
  std::string error;             // set when the process could not be attached at all
};

// Unwinds every thread of `pid`; `crashing_tid` gets role "crashed" and comes first.
ProcessStacks unwind_process(pid_t pid, pid_t crashing_tid, int max_frames = 256);

struct Registers {
  std::uint64_t pc = 0;
  std::uint64_t sp = 0;
};
// The registers of a ptrace-stopped thread.
std::optional<Registers> read_registers(pid_t tid);

// Shared with the core-file reader (field/core_file.cc), which unwinds a dead
// process's threads through the same libdwfl calls.
// `pc`'s module, function, file and line; `activation`: pc is where the
// thread was stopped, not a return address (which is looked up at pc - 1).
Frame symbolize(Dwfl* dwfl, std::uint64_t pc, bool activation);
// Walks one thread's frames into thread.frames (at most max_frames); sets
// thread.error only when the walk found no frame at all.
void unwind_frames(Dwfl* dwfl, Dwfl_Thread* dwfl_thread, Thread& thread, int max_frames);

std::string thread_name(pid_t pid, pid_t tid);  // /proc/PID/task/TID/comm

// Unwinds single ptrace-stopped threads of one process, many times: the
// process's modules are read once, and again after refresh() (an exec, or
// new code mapped). For the recorder, which takes a stack at each kept call.
class ThreadUnwinder {
 public:
  explicit ThreadUnwinder(pid_t pid) : pid_(pid) {}
  ~ThreadUnwinder();
  ThreadUnwinder(const ThreadUnwinder&) = delete;
  ThreadUnwinder& operator=(const ThreadUnwinder&) = delete;
  // The thread's frames, innermost first (at most max_frames); error set when none.
  // symbolize_frames false: each frame's module and offset only, which is far cheaper.
  Thread unwind(pid_t tid, int max_frames, bool symbolize_frames = true);
  void refresh();

 private:
  pid_t pid_;
  Dwfl* dwfl_ = nullptr;
};
std::string demangle(const char* symbol);

// Symbolizes frames recorded as "MODULE+0xOFFSET" (ThreadUnwinder without
// symbols) after the process is gone, from the module files on disk.
class OfflineSymbolizer {
 public:
  OfflineSymbolizer() = default;
  ~OfflineSymbolizer();
  OfflineSymbolizer(const OfflineSymbolizer&) = delete;
  OfflineSymbolizer& operator=(const OfflineSymbolizer&) = delete;
  // "function file:line" as far as the module's symbols and debug information
  // say; the frame text itself when they say nothing. `innermost`: the frame's
  // address is where the thread was stopped, not a return address.
  std::string describe(const std::string& frame, bool innermost);

 private:
  std::map<std::string, Dwfl*> modules_;
  std::map<std::string, std::string> described_;
};

}  // namespace crashgate
