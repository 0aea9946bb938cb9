// glibc's fatal messages (malloc/malloc.c malloc_printerr, debug/fortify_fail.c,
// assert/assert.c): one line on stderr, then abort(). glibc 2.26 and later print
// the message alone ("free(): double free detected in tcache 2", "*** stack
// smashing detected ***: terminated"); older ones wrapped it:
//   *** Error in `./prog': double free or corruption (fasttop): 0x0000000001c4e010 ***
//   ======= Backtrace: =========
//   /lib/x86_64-linux-gnu/libc.so.6(+0x777e5)[0x7f2b8b0a47e5]
#include <cxxabi.h>
#include <signal.h>

#include <array>
#include <cstdlib>

#include <fmt/format.h>

#include "field/formats.h"

namespace crashgate::field {
namespace {

// How glibc's fatal messages begin: malloc's checks name their function, the
// rest their corruption; "Fatal glibc error: " is 2.37's assert in glibc itself.
constexpr std::array<std::string_view, 15> kMessageStarts = {
    "free(): ",          "malloc(): ",        "realloc(): ",       "calloc(): ",        "munmap_chunk(): ",
    "malloc_consolidate(): ", "_int_free(): ", "_int_malloc(): ", "tcache_thread_shutdown(): ",
    "double free or corruption", "corrupted size vs. prev_size", "corrupted double-linked list",
    "Fatal glibc error: ", "break adjusted to free malloc space", "malloc_check_get_size: ",
};

// "*** Error in `./prog': MSG: 0x... ***" -> MSG.
std::optional<std::string> old_style_message(std::string_view t) {
  if (!starts_with(t, "*** Error in `")) return std::nullopt;
  auto quote = t.find("': ");
  if (quote == std::string_view::npos) return std::nullopt;
  auto rest = t.substr(quote + 3);
  if (ends_with(rest, " ***")) rest.remove_suffix(4);
  if (auto colon = rest.rfind(": 0x"); colon != std::string_view::npos) rest = rest.substr(0, colon);
  return std::string(rest);
}

// backtrace_symbols prints mangled names ("_ZN6vstore5Store5closeEv"); dedup wants what a symbolizer prints.
std::string demangled(std::string_view name) {
  if (!starts_with(name, "_Z")) return std::string(name);
  std::string mangled(name);
  int status = 0;
  char* out = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string result = status == 0 && out ? out : mangled;
  std::free(out);
  return result;
}

// "/lib/x86_64-linux-gnu/libc.so.6(+0x777e5)[0x7f...]", "./prog(main+0x1d)[0x400636]":
// glibc's backtrace_symbols_fd lines.
std::optional<Frame> backtrace_symbols_frame(std::string_view t) {
  if (!ends_with(t, "]")) return std::nullopt;
  auto open_bracket = t.rfind('[');
  auto open_paren = t.rfind('(', open_bracket);
  auto close_paren = t.rfind(')', open_bracket);
  if (open_bracket == std::string_view::npos || open_paren == std::string_view::npos || close_paren == std::string_view::npos ||
      close_paren < open_paren)
    return std::nullopt;
  Frame f;
  auto pc = parse_hex(t.substr(open_bracket + 1, t.size() - open_bracket - 2));
  if (!pc) return std::nullopt;
  f.pc = *pc;
  f.module = t.substr(0, open_paren);
  auto symbol = t.substr(open_paren + 1, close_paren - open_paren - 1);
  auto plus = symbol.rfind("+0x");
  if (plus != std::string_view::npos) {
    if (plus == 0) f.module_offset = parse_hex(symbol.substr(1)).value_or(0);
    else f.function = demangled(symbol.substr(0, plus));
  }
  return f;
}

}  // namespace

std::optional<std::string> glibc_abort_message(std::string_view line) {
  std::string_view t = trim(line);
  if (auto old = old_style_message(t)) return old;
  // "*** stack smashing detected ***: terminated", "*** buffer overflow detected ***: terminated"
  if (starts_with(t, "*** ") && ends_with(t, " ***: terminated") && t.size() > 20)
    return std::string(t.substr(4, t.size() - 4 - 16));
  for (auto start : kMessageStarts)
    if (starts_with(t, start) && t.size() > start.size() && t.size() < 200) return std::string(t);
  return std::nullopt;
}

std::vector<std::size_t> detect_glibc_abort(const Log& log) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.lines.size(); ++i)
    if (glibc_abort_message(log.lines[i].text)) starts.push_back(i);
  return starts;
}

Checked<Outcome> parse_glibc_abort(const Log& log, std::size_t start) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = SIGABRT;
  o.check = *glibc_abort_message(log.lines[start].text);
  o.detail = fmt::format("SIGABRT: glibc found {}", o.check);
  Thread t;
  t.role = "crashed";
  bool in_backtrace = false;
  for (std::size_t i = start + 1; i < log.lines.size() && i <= start + 200; ++i) {
    std::string_view line = trim(log.lines[i].text);
    if (line == "======= Backtrace: =========") {
      in_backtrace = true;
      continue;
    }
    if (in_backtrace) {
      if (auto frame = backtrace_symbols_frame(line)) {
        t.frames.push_back(std::move(*frame));
        continue;
      }
      break;
    }
    if (auto signo = shell_death_signal(line)) {
      if (*signo != SIGABRT) o.notes.push_back(fmt::format("the shell says {}, not SIGABRT", signal_name(*signo)));
      break;
    }
  }
  if (!t.frames.empty()) {
    o.threads.push_back(std::move(t));
    o.crashing_thread = 0;
  } else {
    o.notes.push_back("glibc prints no stack with this message; a core dump or gdb shows where the corruption was found");
  }
  return o;
}

}  // namespace crashgate::field
