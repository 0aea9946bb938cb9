// The kernel's line about a user process killed by a fault (x86:
// arch/x86/mm/fault.c show_signal_msg, arch/x86/kernel/traps.c, mm print_vma_addr;
// kernel/signal.c print_fatal_signal), as dmesg or the journal show it:
//   python3[12345]: segfault at 7f3a2b000000 ip 00007f3a2c1d2e3f sp 00007ffd1234abcd error 4 in libfoo.so[7f3a2c100000+200000] likely on CPU 3 (core 3, socket 0)
//   traps: prog[123] trap divide error ip:401136 sp:7ffc2b1e0a40 error:0 in prog[401000+1000]
//   traps: prog[123] general protection fault ip:7f... sp:7f... error:0 in libc.so.6[7f...+155000]
//   /usr/bin/prog: prog: potentially unexpected fatal signal 7.   (print-fatal-signals=1)
// The name is the faulting thread's comm (15 characters at most) and the
// number its kernel thread id. Numbers are hex without 0x; "error" too.
#include <signal.h>

#include <array>

#include <fmt/format.h>

#include "crashgate/fault_attribution.h"
#include "field/formats.h"

namespace crashgate::field {
namespace {

// x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h).
constexpr std::uint64_t kProtection = 1 << 0;  // 0: the page was not present
constexpr std::uint64_t kWrite = 1 << 1;
constexpr std::uint64_t kUser = 1 << 2;
constexpr std::uint64_t kReserved = 1 << 3;
constexpr std::uint64_t kInstruction = 1 << 4;
constexpr std::uint64_t kProtectionKey = 1 << 5;

// How close to the stack pointer a fault counts as a stack overflow: a
// function's frame (alloca, a large array) may reach that far past the guard.
constexpr std::uint64_t kNearStackPointer = 64 * 1024;

struct TrapKind {
  std::string_view words;  // as traps.c names them
  int signo;
  int si_code;             // 0 when the kernel sends the signal without one (SI_KERNEL for GP)
};

constexpr std::array kTraps = {
    TrapKind{"divide error", SIGFPE, FPE_INTDIV},
    TrapKind{"int3", SIGTRAP, SI_KERNEL},
    TrapKind{"invalid opcode", SIGILL, ILL_ILLOPN},
    TrapKind{"general protection fault", SIGSEGV, SI_KERNEL},
    TrapKind{"general protection", SIGSEGV, SI_KERNEL},
    TrapKind{"control protection", SIGSEGV, 10 /* SEGV_CPERR */},
    TrapKind{"overflow", SIGSEGV, SI_KERNEL},
    TrapKind{"bounds", SIGSEGV, SI_KERNEL},
    TrapKind{"stack segment", SIGBUS, SI_KERNEL},
    TrapKind{"segment not present", SIGBUS, SI_KERNEL},
    TrapKind{"alignment check", SIGBUS, BUS_ADRALN},
    TrapKind{"coprocessor segment overrun", SIGFPE, SI_KERNEL},
    TrapKind{"invalid TSS", SIGSEGV, SI_KERNEL},
};

// "comm[pid]" ending right before `at` in `line`: the comm and the id.
bool comm_and_pid(std::string_view line, std::size_t at, Thread& t) {
  auto head = line.substr(0, at);
  if (!ends_with(head, "]")) return false;
  auto open = head.rfind('[');
  if (open == std::string_view::npos) return false;
  auto pid = parse_decimal(head.substr(open + 1, head.size() - open - 2));
  if (!pid) return false;
  t.tid = *pid;
  auto comm = head.substr(0, open);
  // The comm may follow other words ("kernel: "); it holds no spaces in practice.
  if (auto space = comm.rfind(' '); space != std::string_view::npos) comm = comm.substr(space + 1);
  t.name = comm;
  return true;
}

// " in libfoo.so[7f3a2c100000+200000]": the mapping holding ip, as print_vma_addr names it.
void mapping_frame(std::string_view line, std::uint64_t ip, Frame& f) {
  auto in = line.find(" in ");
  while (in != std::string_view::npos) {
    auto rest = line.substr(in + 4);
    auto open = rest.find('[');
    auto close = rest.find(']');
    if (open != std::string_view::npos && close != std::string_view::npos && open < close && rest.find(' ') > open) {
      auto inside = rest.substr(open + 1, close - open - 1);
      auto plus = inside.find('+');
      auto base = parse_hex(inside.substr(0, plus));
      if (base) {
        f.module = rest.substr(0, open);
        // The mapping's start, not the object's load address: the offset is
        // within the executable mapping, stable for one build of the object.
        if (ip >= *base) f.module_offset = ip - *base;
        return;
      }
    }
    in = line.find(" in ", in + 4);
  }
}

// "key VALUE" (segfault line) or "key:VALUE" (traps): the hex number after key.
std::optional<std::uint64_t> hex_after(std::string_view line, std::string_view key) {
  auto at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  return leading_hex(line.substr(at + key.size()));
}

std::string describe_page_fault(std::uint64_t error, std::uint64_t address, Attribution& a) {
  a.access = error & kInstruction ? "execute" : error & kWrite ? "write" : "read";
  a.null_page = address < kNullPageLimit;
  std::string what = error & kProtectionKey ? "a protection key forbids it"
                     : error & kReserved    ? "a reserved bit was set in the page tables"
                     : error & kProtection  ? fmt::format("the page is mapped without {} permission", a.access)
                                            : "no page is mapped there";
  std::string who = error & kUser ? "" : " (in kernel mode, on the process's behalf)";
  std::string null = a.null_page ? fmt::format(": a null pointer plus 0x{:x}", address) : "";
  return fmt::format("{} at 0x{:x}{}; {}{}", a.access, address, null, what, who);
}

Outcome segfault(std::string_view line, std::size_t at) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = SIGSEGV;
  Thread t;
  t.role = "crashed";
  comm_and_pid(line, at, t);
  std::string_view rest = line.substr(at + 2);  // "segfault at ..."
  auto address = hex_after(rest, "segfault at ");
  auto ip = hex_after(rest, " ip ");
  auto error = hex_after(rest, " error ");
  Frame f;
  if (ip) f.pc = *ip;
  mapping_frame(rest, f.pc, f);
  if (address) o.fault_address = address;
  if (error) {
    Attribution a;
    a.description = describe_page_fault(*error, address.value_or(0), a);
    o.si_code = *error & kProtectionKey ? 4 /* SEGV_PKUERR */ : *error & kProtection ? SEGV_ACCERR : SEGV_MAPERR;
    o.attribution = a;
  }
  if (ip || !f.module.empty()) t.frames.push_back(f);
  // A fault within a few pages of the stack pointer is the stack running into
  // its guard: the kernel line is all a field report of a stack overflow has
  // (no maps to look the address up in), so the distance has to do.
  auto sp = hex_after(rest, " sp ");
  if (o.attribution && address && sp && !o.attribution->null_page) {
    std::uint64_t distance = *address > *sp ? *address - *sp : *sp - *address;
    if (distance < kNearStackPointer) {
      o.kind = OutcomeKind::stack_overflow;
      o.attribution->stack_guard = true;
      o.attribution->stack_thread = t.tid;
      o.attribution->stack_thread_name = t.name;
      o.attribution->description += fmt::format(", {} bytes from the stack pointer 0x{:x}: a stack overflow", distance, *sp);
    }
  }
  o.detail = fmt::format("SIGSEGV{}{} in {}[{}] (the kernel's segfault line)",
                         o.si_code ? fmt::format(" ({})", si_code_name(SIGSEGV, *o.si_code)) : "",
                         o.attribution ? ": " + o.attribution->description : "", t.name, t.tid);
  o.threads.push_back(std::move(t));
  o.crashing_thread = 0;
  return o;
}

Outcome trap(std::string_view line, std::size_t at, const TrapKind& kind) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = kind.signo;
  o.si_code = kind.si_code;
  Thread t;
  t.role = "crashed";
  comm_and_pid(line, at, t);
  std::string_view rest = line.substr(at);
  Frame f;
  if (auto ip = hex_after(rest, " ip:")) f.pc = *ip;
  mapping_frame(rest, f.pc, f);
  if (f.pc || !f.module.empty()) t.frames.push_back(f);
  if (kind.signo == SIGSEGV && kind.si_code == SI_KERNEL) o.fault_address = 0;  // a GP fault has no address
  o.detail = fmt::format("{} ({}) in {}[{}] (the kernel's trap line)", signal_name(kind.signo), kind.words, t.name, t.tid);
  o.threads.push_back(std::move(t));
  o.crashing_thread = 0;
  return o;
}

constexpr std::string_view kFatalSignal = "potentially unexpected fatal signal ";

// "/usr/bin/prog: prog: potentially unexpected fatal signal 7." or (before 5.x) "prog/123: potentially ...".
Outcome fatal_signal(std::string_view line, std::size_t at, const Log& log, std::size_t index) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  auto number = line.substr(at + kFatalSignal.size());
  if (auto signo = parse_decimal(number.substr(0, number.find('.')))) o.signal = static_cast<int>(*signo);
  Thread t;
  t.role = "crashed";
  auto head = trim(line.substr(0, at));
  if (ends_with(head, ":")) head.remove_suffix(1);
  if (auto slash = head.rfind('/'); slash != std::string_view::npos && all_digits(head.substr(slash + 1))) {
    t.tid = *parse_decimal(head.substr(slash + 1));
    head = head.substr(0, slash);
  }
  if (auto colon = head.rfind(": "); colon != std::string_view::npos) head = head.substr(colon + 2);
  t.name = head;
  // show_regs follows: "CPU: 2 PID: 51120 Comm: python3 ..." names the task when
  // the line did not (some kernels print the bare message); "RIP: 0033:0x..." is the user pc.
  for (std::size_t i = index + 1; i < log.lines.size() && i <= index + 6; ++i) {
    std::string_view l = trim(log.lines[i].text);
    if (auto comm = l.find(" Comm: "); comm != std::string_view::npos && t.name.empty()) {
      auto name = l.substr(comm + 7);
      t.name = name.substr(0, name.find(' '));
      if (auto pid = l.find("PID: "); pid != std::string_view::npos && pid < comm)
        t.tid = parse_decimal(l.substr(pid + 5, l.find(' ', pid + 5) - pid - 5)).value_or(0);
    }
    if (auto rip = l.find("RIP: 0033:"); rip != std::string_view::npos) {
      Frame f;
      f.pc = leading_hex(l.substr(rip + 10)).value_or(0);
      t.frames.push_back(f);
      break;
    }
  }
  o.detail = fmt::format("{} in {} (the kernel's print-fatal-signals line)", o.signal ? signal_name(*o.signal) : "a signal",
                         t.name);
  o.threads.push_back(std::move(t));
  o.crashing_thread = 0;
  if (!o.signal) o.kind = OutcomeKind::signal;
  return o;
}

struct Found {
  enum { none, segfault, trap, fatal } what = none;
  std::size_t at = 0;
  const TrapKind* trap_kind = nullptr;
};

Found find(std::string_view line) {
  Found f;
  if (auto at = line.find("]: segfault at "); at != std::string_view::npos) {
    f.what = Found::segfault;
    f.at = at + 1;
    return f;
  }
  if (contains(line, " ip:") && contains(line, " sp:") && contains(line, " error:")) {
    for (const auto& kind : kTraps) {
      for (std::string_view lead : {"] trap ", "] "}) {
        std::string needle = std::string(lead) + std::string(kind.words) + " ip:";
        if (auto at = line.find(needle); at != std::string_view::npos) {
          f.what = Found::trap;
          f.at = at + 1;
          f.trap_kind = &kind;
          return f;
        }
      }
    }
  }
  if (auto at = line.find(kFatalSignal); at != std::string_view::npos) {
    f.what = Found::fatal;
    f.at = at;
  }
  return f;
}

}  // namespace

std::vector<std::size_t> detect_kernel(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i)
    if (find(log.lines[i].text).what != Found::none) starts.push_back(i);
  return starts;
}

Checked<Outcome> parse_kernel(const Log& log, std::size_t start) {
  std::string_view line = log.lines[start].text;
  Found found = find(line);
  switch (found.what) {
    case Found::segfault: return segfault(line, found.at);
    case Found::trap: return trap(line, found.at, *found.trap_kind);
    case Found::fatal: return fatal_signal(line, found.at, log, start);
    case Found::none: break;
  }
  return malformed(log, start, "no kernel segfault or trap line here");
}

}  // namespace crashgate::field
