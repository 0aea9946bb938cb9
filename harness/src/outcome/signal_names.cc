// Signal and si_code names: the words a crash report uses instead of numbers.
#include <signal.h>

#include <array>
#include <string>

#include <fmt/format.h>

#include "crashgate/outcome.h"

namespace crashgate {
namespace {

struct SignalName {
  int signo;
  const char* name;
};

constexpr std::array kSignals = {
    SignalName{SIGHUP, "SIGHUP"},   SignalName{SIGINT, "SIGINT"},       SignalName{SIGQUIT, "SIGQUIT"},
    SignalName{SIGILL, "SIGILL"},   SignalName{SIGTRAP, "SIGTRAP"},     SignalName{SIGABRT, "SIGABRT"},
    SignalName{SIGBUS, "SIGBUS"},   SignalName{SIGFPE, "SIGFPE"},       SignalName{SIGKILL, "SIGKILL"},
    SignalName{SIGUSR1, "SIGUSR1"}, SignalName{SIGSEGV, "SIGSEGV"},     SignalName{SIGUSR2, "SIGUSR2"},
    SignalName{SIGPIPE, "SIGPIPE"}, SignalName{SIGALRM, "SIGALRM"},     SignalName{SIGTERM, "SIGTERM"},
    SignalName{SIGSTKFLT, "SIGSTKFLT"}, SignalName{SIGCHLD, "SIGCHLD"}, SignalName{SIGCONT, "SIGCONT"},
    SignalName{SIGSTOP, "SIGSTOP"}, SignalName{SIGTSTP, "SIGTSTP"},     SignalName{SIGTTIN, "SIGTTIN"},
    SignalName{SIGTTOU, "SIGTTOU"}, SignalName{SIGURG, "SIGURG"},       SignalName{SIGXCPU, "SIGXCPU"},
    SignalName{SIGXFSZ, "SIGXFSZ"}, SignalName{SIGVTALRM, "SIGVTALRM"}, SignalName{SIGPROF, "SIGPROF"},
    SignalName{SIGWINCH, "SIGWINCH"}, SignalName{SIGIO, "SIGIO"},       SignalName{SIGPWR, "SIGPWR"},
    SignalName{SIGSYS, "SIGSYS"},
};

struct CodeName {
  int signo;  // 0: any signal (the SI_* codes a sender sets)
  int code;
  const char* name;
};

constexpr std::array kCodes = {
    CodeName{0, SI_USER, "SI_USER"},         CodeName{0, SI_KERNEL, "SI_KERNEL"},
    CodeName{0, SI_QUEUE, "SI_QUEUE"},       CodeName{0, SI_TIMER, "SI_TIMER"},
    CodeName{0, SI_TKILL, "SI_TKILL"},       CodeName{SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR"},
    CodeName{SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR"}, CodeName{SIGSEGV, 3, "SEGV_BNDERR"},
    CodeName{SIGSEGV, 4, "SEGV_PKUERR"},     CodeName{SIGBUS, BUS_ADRALN, "BUS_ADRALN"},
    CodeName{SIGBUS, BUS_ADRERR, "BUS_ADRERR"}, CodeName{SIGBUS, BUS_OBJERR, "BUS_OBJERR"},
    CodeName{SIGBUS, 4, "BUS_MCEERR_AR"},    CodeName{SIGBUS, 5, "BUS_MCEERR_AO"},
    CodeName{SIGILL, ILL_ILLOPC, "ILL_ILLOPC"}, CodeName{SIGILL, ILL_ILLOPN, "ILL_ILLOPN"},
    CodeName{SIGILL, ILL_ILLADR, "ILL_ILLADR"}, CodeName{SIGILL, ILL_ILLTRP, "ILL_ILLTRP"},
    CodeName{SIGILL, ILL_PRVOPC, "ILL_PRVOPC"}, CodeName{SIGILL, ILL_PRVREG, "ILL_PRVREG"},
    CodeName{SIGILL, ILL_COPROC, "ILL_COPROC"}, CodeName{SIGILL, ILL_BADSTK, "ILL_BADSTK"},
    CodeName{SIGFPE, FPE_INTDIV, "FPE_INTDIV"}, CodeName{SIGFPE, FPE_INTOVF, "FPE_INTOVF"},
    CodeName{SIGFPE, FPE_FLTDIV, "FPE_FLTDIV"}, CodeName{SIGFPE, FPE_FLTOVF, "FPE_FLTOVF"},
    CodeName{SIGFPE, FPE_FLTUND, "FPE_FLTUND"}, CodeName{SIGFPE, FPE_FLTRES, "FPE_FLTRES"},
    CodeName{SIGFPE, FPE_FLTINV, "FPE_FLTINV"}, CodeName{SIGFPE, FPE_FLTSUB, "FPE_FLTSUB"},
    CodeName{SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT"}, CodeName{SIGTRAP, TRAP_TRACE, "TRAP_TRACE"},
    CodeName{SIGSYS, 1, "SYS_SECCOMP"},
};

}  // namespace

std::string signal_name(int signo) {
  for (const auto& s : kSignals)
    if (s.signo == signo) return s.name;
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
  return "signal " + std::to_string(signo);
}

std::optional<int> parse_signal_name(std::string_view name) {
  for (const auto& s : kSignals) {
    std::string_view full = s.name;
    if (name == full || name == full.substr(3)) return s.signo;
  }
  return std::nullopt;
}

std::string si_code_name(int signo, int si_code) {
  // Codes <= 0 are set by whoever sent the signal, whatever its number.
  for (const auto& c : kCodes)
    if (c.code == si_code && (c.signo == signo || (c.signo == 0 && si_code <= 0) ||
                              (c.signo == 0 && si_code == SI_KERNEL)))
      return c.name;
  return std::to_string(si_code);
}

std::string signal_detail(const Outcome& o) {
  if (!o.signal) return "";
  std::string text = signal_name(*o.signal);
  if (o.si_code) text += fmt::format(" ({})", si_code_name(*o.signal, *o.si_code));
  if (o.attribution && !o.attribution->description.empty()) text += ": " + o.attribution->description;
  else if (o.fault_address && (*o.signal == SIGSEGV || *o.signal == SIGBUS))
    text += fmt::format(" at 0x{:x}", *o.fault_address);
  return text;
}

}  // namespace crashgate
