// ELF core files: notes read with libelf (the layouts are the kernel's
// elf_prstatus, elf_prpsinfo, siginfo_t and the NT_FILE table, as
// <sys/procfs.h> and elf(5) describe them), threads unwound with libdwfl.
#include "crashgate/core_file.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "crashgate/triage.h"
#include "observe/stack_unwind.h"

namespace crashgate {
namespace {

#if defined(__x86_64__)
constexpr int kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kHostMachine = EM_AARCH64;
#else
constexpr int kHostMachine = EM_NONE;
#endif

struct CoreFd {
  int fd;
  ~CoreFd() {
    if (fd >= 0) close(fd);
  }
};
struct CoreElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};
struct CoreDwflDeleter {
  void operator()(Dwfl* dwfl) const { dwfl_end(dwfl); }
};

std::string machine_name(int machine) {
  switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "AArch64";
    case EM_386: return "i386";
    case EM_ARM: return "ARM";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC 64";
    case EM_S390: return "s390";
    default: return fmt::format("machine {}", machine);
  }
}

// A NUL-terminated field of fixed size, which the kernel does not always terminate.
std::string fixed_string(const char* data, std::size_t size) { return std::string(data, strnlen(data, size)); }

std::string perms_of(GElf_Word flags) {
  std::string perms = "---?";  // a core does not say whether a mapping was shared or private
  if (flags & PF_R) perms[0] = 'r';
  if (flags & PF_W) perms[1] = 'w';
  if (flags & PF_X) perms[2] = 'x';
  return perms;
}

struct CoreRegisters {
  std::uint64_t pc = 0, sp = 0;
};
CoreRegisters registers_of(const elf_prstatus& status) {
  CoreRegisters r;
#if defined(__x86_64__)
  const auto* regs = reinterpret_cast<const user_regs_struct*>(&status.pr_reg);
  r.pc = regs->rip;
  r.sp = regs->rsp;
#elif defined(__aarch64__)
  r.pc = status.pr_reg[32];
  r.sp = status.pr_reg[31];
#endif
  return r;
}

// NT_FILE: count and page size, then count (start, end, offset in pages) triples, then count paths.
Checked<std::vector<MapEntry>> parse_file_note(const char* desc, std::size_t size, const std::string& path) {
  auto bad = [&](std::string_view what) {
    return failure(fmt::format("{}: its NT_FILE note is malformed: {}", path, what));
  };
  if (size < 16) return bad("shorter than its header");
  std::uint64_t count = 0, page_size = 0;
  std::memcpy(&count, desc, 8);
  std::memcpy(&page_size, desc + 8, 8);
  if (count > (size - 16) / 24) return bad(fmt::format("{} entries do not fit in {} bytes", count, size));
  std::vector<MapEntry> files;
  const char* names = desc + 16 + count * 24;
  const char* end = desc + size;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t triple[3];
    std::memcpy(triple, desc + 16 + i * 24, sizeof triple);
    const char* nul = static_cast<const char*>(std::memchr(names, 0, static_cast<std::size_t>(end - names)));
    if (!nul) return bad(fmt::format("the path of entry {} runs past the note", i + 1));
    MapEntry m;
    m.start = triple[0];
    m.end = triple[1];
    m.offset = triple[2] * page_size;
    m.path.assign(names, nul);
    m.named_file = true;
    files.push_back(std::move(m));
    names = nul + 1;
  }
  return files;
}

std::string map_line(const MapEntry& m) {
  return fmt::format("{:x}-{:x} {} {:08x} {}", m.start, m.end, m.perms, m.offset, m.path);
}

// The mappings as /proc/PID/maps would have listed them: every PT_LOAD is a
// mapping (the kernel writes one per VMA, with no file bytes for those it
// does not dump); NT_FILE adds the path and file offset of file-backed ones.
std::vector<MapEntry> merge_maps(std::vector<MapEntry> loads, const std::vector<MapEntry>& files) {
  for (auto& m : loads)
    for (const auto& f : files)
      if (f.start == m.start) {
        m.path = f.path;
        m.offset = f.offset;
        m.named_file = true;
        break;
      }
  for (auto& m : loads) m.line = map_line(m);
  return loads;
}

Checked<Done> read_notes(Elf* elf, const GElf_Phdr& phdr, CoreDump& core, std::uint64_t& entry) {
  Elf_Data* data = elf_getdata_rawchunk(elf, static_cast<int64_t>(phdr.p_offset), phdr.p_filesz, ELF_T_NHDR);
  if (!data) return failure(fmt::format("{}: its notes cannot be read ({})", core.path, elf_errmsg(-1)));
  std::size_t offset = 0, name_offset = 0, desc_offset = 0;
  GElf_Nhdr note;
  while (offset < data->d_size) {
    std::size_t next = gelf_getnote(data, offset, &note, &name_offset, &desc_offset);
    if (next == 0) break;
    offset = next;
    const char* desc = static_cast<const char*>(data->d_buf) + desc_offset;
    std::size_t size = note.n_descsz;
    const char* name = static_cast<const char*>(data->d_buf) + name_offset;
    bool core_note = note.n_namesz >= 4 && std::memcmp(name, "CORE", 4) == 0;
    bool linux_note = note.n_namesz >= 5 && std::memcmp(name, "LINUX", 5) == 0;
    if (!core_note && !linux_note) continue;
    switch (note.n_type) {
      case NT_PRSTATUS: {
        if (size < sizeof(elf_prstatus)) return failure(fmt::format("{}: an NT_PRSTATUS note is cut short", core.path));
        elf_prstatus status;
        std::memcpy(&status, desc, sizeof status);
        CoreRegisters regs = registers_of(status);
        core.threads.push_back({status.pr_pid, status.pr_cursig, regs.pc, regs.sp});
        break;
      }
      case NT_PRPSINFO: {
        if (size < sizeof(elf_prpsinfo)) return failure(fmt::format("{}: its NT_PRPSINFO note is cut short", core.path));
        elf_prpsinfo info;
        std::memcpy(&info, desc, sizeof info);
        core.pid = info.pr_pid;
        core.command = fixed_string(info.pr_fname, sizeof info.pr_fname);
        core.arguments = fixed_string(info.pr_psargs, sizeof info.pr_psargs);
        while (!core.arguments.empty() && core.arguments.back() == ' ') core.arguments.pop_back();
        break;
      }
      case NT_SIGINFO: {
        if (size < sizeof(siginfo_t)) return failure(fmt::format("{}: its NT_SIGINFO note is cut short", core.path));
        siginfo_t info;
        std::memcpy(&info, desc, sizeof info);
        core.signal = info.si_signo;
        core.si_code = info.si_code;
        if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS || info.si_signo == SIGILL || info.si_signo == SIGFPE)
          core.fault_address = reinterpret_cast<std::uintptr_t>(info.si_addr);
        break;
      }
      case NT_AUXV: {
        for (std::size_t at = 0; at + 16 <= size; at += 16) {
          std::uint64_t pair[2];
          std::memcpy(pair, desc + at, sizeof pair);
          if (pair[0] == AT_ENTRY) entry = pair[1];
        }
        break;
      }
      case NT_FILE: {
        auto files = parse_file_note(desc, size, core.path);
        if (!files) return failure(files.error());
        core.maps = std::move(files.value());  // merged with the PT_LOADs by the caller
        break;
      }
      default: break;
    }
  }
  return done();
}

std::optional<std::uint64_t> size_now(const MapEntry& m) {
  struct stat st {};
  if (stat(m.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

struct CoreThreadWalk {
  Dwfl* dwfl;
  int max_frames;
  std::vector<Thread>* threads;
};

int on_core_thread(Dwfl_Thread* dwfl_thread, void* arg) {
  auto* walk = static_cast<CoreThreadWalk*>(arg);
  Thread thread;
  thread.tid = dwfl_thread_tid(dwfl_thread);
  thread.role = "thread";
  unwind_frames(walk->dwfl, dwfl_thread, thread, walk->max_frames);
  walk->threads->push_back(std::move(thread));
  return DWARF_CB_OK;
}

}  // namespace

bool looks_like_core(std::string_view head) {
  if (head.size() < EI_NIDENT + 2 || head.substr(0, 4) != ELFMAG) return false;
  std::uint16_t type = 0;
  std::memcpy(&type, head.data() + EI_NIDENT, 2);
  if (head[EI_DATA] == ELFDATA2MSB) type = static_cast<std::uint16_t>((type >> 8) | (type << 8));
  return type == ET_CORE;
}

Checked<CoreDump> read_core(const std::string& path) {
  CoreDump core;
  core.path = path;
  elf_version(EV_CURRENT);
  CoreFd fd{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return failure(fmt::format("{}: cannot be opened: {}", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd.fd, &st) != 0) return failure(fmt::format("{}: cannot be read: {}", path, std::strerror(errno)));
  core.file_size = static_cast<std::uint64_t>(st.st_size);
  std::unique_ptr<Elf, CoreElfDeleter> elf(elf_begin(fd.fd, ELF_C_READ_MMAP, nullptr));
  GElf_Ehdr ehdr;
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF || !gelf_getehdr(elf.get(), &ehdr))
    return failure(fmt::format("{}: not an ELF file", path));
  if (ehdr.e_type != ET_CORE) return failure(fmt::format("{}: an ELF file, but not a core (e_type {})", path, ehdr.e_type));
  if (ehdr.e_machine != kHostMachine || gelf_getclass(elf.get()) != ELFCLASS64)
    return failure(fmt::format("{}: a core of an {} machine; crashgate reads cores of this machine's kind ({})", path,
                               machine_name(ehdr.e_machine), machine_name(kHostMachine)));
  std::size_t count = 0;
  if (elf_getphdrnum(elf.get(), &count) != 0 || count == 0)
    return failure(fmt::format("{}: its program headers cannot be read (the core is cut off before them?)", path));
  std::vector<MapEntry> loads;
  std::uint64_t entry = 0;
  bool notes_seen = false;
  for (std::size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &phdr))
      return failure(fmt::format("{}: program header {} cannot be read (is the core cut off? it is {} bytes)", path, i, core.file_size));
    core.expected_size = std::max<std::uint64_t>(core.expected_size, phdr.p_offset + phdr.p_filesz);
    if (phdr.p_type == PT_LOAD) {
      MapEntry m;
      m.start = phdr.p_vaddr;
      m.end = phdr.p_vaddr + phdr.p_memsz;
      m.perms = perms_of(phdr.p_flags);
      loads.push_back(std::move(m));
    } else if (phdr.p_type == PT_NOTE) {
      if (phdr.p_offset + phdr.p_filesz > core.file_size)
        return failure(fmt::format("{}: the core is cut off inside its notes (it is {} bytes; its notes end at {})", path,
                                   core.file_size, phdr.p_offset + phdr.p_filesz));
      auto read = read_notes(elf.get(), phdr, core, entry);
      if (!read) return failure(read.error());
      notes_seen = true;
    }
  }
  if (!notes_seen || core.threads.empty())
    return failure(fmt::format("{}: the core has no thread status notes (NT_PRSTATUS), so no thread can be unwound", path));
  std::vector<MapEntry> files = std::move(core.maps);
  for (const auto& f : files)
    if (entry && f.start <= entry && entry < f.end) core.executable = f.path;
  core.maps = merge_maps(std::move(loads), files);
  if (!core.signal && core.threads.front().signal) core.signal = core.threads.front().signal;
  return core;
}

Checked<Outcome> outcome_from_core(const std::string& path, const CoreTriageOptions& options) {
  auto read = read_core(path);
  if (!read) return failure(read.error());
  CoreDump& core = read.value();
  Outcome o;
  o.crashed_pid = core.pid;
  if (!core.arguments.empty()) o.command = {core.arguments};
  o.signal = core.signal;
  o.si_code = core.si_code;
  o.fault_address = core.fault_address;
  if (core.truncated())
    o.notes.push_back(fmt::format("the core is cut short: {} of the {} bytes its headers describe; memory past that is "
                                  "missing, so stacks may end early",
                                  core.file_size, core.expected_size));

  // The main thread's stack is an anonymous mapping to a core; name it as /proc would.
  for (const auto& t : core.threads)
    if (t.tid == core.pid)
      for (auto& m : core.maps)
        if (m.contains(t.sp) && m.path.empty()) {
          m.path = "[stack]";
          m.line = map_line(m);
        }

  const CoreDump::ThreadStatus& crashed = core.threads.front();
  if (o.signal && o.fault_address && (*o.signal == SIGSEGV || *o.signal == SIGBUS)) {
    FaultContext ctx;
    ctx.signo = *o.signal;
    ctx.si_code = o.si_code.value_or(0);
    ctx.address = *o.fault_address;
    ctx.stack_pointer = crashed.sp;
    ctx.pc = crashed.pc;
    ctx.tid = crashed.tid;
    ctx.main_thread = crashed.tid == core.pid;
    ctx.file_size = size_now;
    ctx.file_size_later = true;
    o.attribution = attribute_fault(ctx, core.maps);
  }

  // Unwind every thread from the core's memory and the modules it mapped.
  char* debuginfo_path = options.debuginfo_path.empty() ? nullptr : const_cast<char*>(options.debuginfo_path.c_str());
  const Dwfl_Callbacks callbacks = {
      .find_elf = dwfl_build_id_find_elf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .section_address = nullptr,
      .debuginfo_path = &debuginfo_path,
  };
  CoreFd fd{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  std::unique_ptr<Elf, CoreElfDeleter> elf(fd.fd >= 0 ? elf_begin(fd.fd, ELF_C_READ_MMAP, nullptr) : nullptr);
  std::unique_ptr<Dwfl, CoreDwflDeleter> dwfl(dwfl_begin(&callbacks));
  std::string unwind_error;
  if (!elf || !dwfl) {
    unwind_error = fmt::format("libdwfl could not open the core: {}", dwfl_errmsg(-1));
  } else {
    dwfl_report_begin(dwfl.get());
    const char* executable = options.executable.empty() ? nullptr : options.executable.c_str();
    int modules = dwfl_core_file_report(dwfl.get(), elf.get(), executable);
    dwfl_report_end(dwfl.get(), nullptr, nullptr);
    if (modules < 0) {
      unwind_error = fmt::format("libdwfl could not read the core's modules: {}", dwfl_errmsg(-1));
    } else if (dwfl_core_file_attach(dwfl.get(), elf.get()) < 0) {
      unwind_error = fmt::format("libdwfl could not read the core's threads: {}", dwfl_errmsg(-1));
    } else {
      CoreThreadWalk walk{dwfl.get(), options.max_frames, &o.threads};
      if (dwfl_getthreads(dwfl.get(), on_core_thread, &walk) != 0 && o.threads.empty())
        unwind_error = fmt::format("libdwfl could not list the core's threads: {}", dwfl_errmsg(-1));
    }
  }
  if (!unwind_error.empty()) o.notes.push_back(unwind_error);
  if (o.threads.empty())  // no stacks, but the notes still say which threads there were
    for (const auto& t : core.threads) o.threads.push_back(Thread{.tid = t.tid, .role = "thread", .frames = {}, .error = unwind_error});
  for (auto& t : o.threads)
    if (t.tid == crashed.tid) t.role = "crashed";
  std::stable_partition(o.threads.begin(), o.threads.end(), [&](const Thread& t) { return t.tid == crashed.tid; });
  if (!o.threads.empty() && o.threads.front().tid == crashed.tid) o.crashing_thread = 0;

  bool overflow = o.attribution && o.attribution->stack_guard;
  o.kind = overflow ? OutcomeKind::stack_overflow : OutcomeKind::signal;
  if (o.crashing_thread == 0 && handled_as_stack_overflow(o, o.threads.front()))
    mark_handled_stack_overflow(o, o.threads.front());
  std::string program = core.command.empty() ? std::string("the process") : core.command;
  o.detail = o.signal ? fmt::format("{}, in process {} ({}), from its core", signal_detail(o), core.pid, program)
                      : fmt::format("process {} ({}) dumped core without saying which signal", core.pid, program);
  if (!options.executable.empty()) o.notes.push_back("executable: " + options.executable + " (--exe)");
  else if (!core.executable.empty()) o.notes.push_back("executable: " + core.executable + " (the core's record of it)");
  return o;
}

}  // namespace crashgate
