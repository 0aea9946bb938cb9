// Cleaning a field log: what terminals, syslog, journald, dmesg and CI
// runners add to every line, removed so that the parsers see what the crashing
// program wrote. Indentation after a prefix is kept: it is part of Python's
// and Go's formats.
#include "field/log_text.h"

#include <signal.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace crashgate::field {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \) and two-byte escapes.
std::string strip_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\x1b') {
      out += s[i];
      continue;
    }
    if (i + 1 >= s.size()) break;
    char kind = s[i + 1];
    if (kind == '[') {
      std::size_t j = i + 2;
      while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7e)) ++j;
      i = j;  // the final byte, or the end
    } else if (kind == ']') {
      std::size_t j = i + 2;
      while (j < s.size() && s[j] != '\a' && !(s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\')) ++j;
      i = j < s.size() && s[j] == '\x1b' ? j + 1 : j;
    } else {
      i += 1;
    }
  }
  return out;
}

// "[12345.678901] " (dmesg), "[Tue Dec  2 03:14:07 2026] " (dmesg -T), "<6>" (kmsg priority).
std::size_t dmesg_prefix(std::string_view s) {
  std::size_t i = 0;
  if (s.size() >= 3 && s[0] == '<' && is_digit(s[1])) {
    auto close = s.find('>');
    if (close != std::string_view::npos && close <= 4 && all_digits(s.substr(1, close - 1))) i = close + 1;
  }
  if (i < s.size() && s[i] == '[') {
    auto close = s.find(']', i);
    if (close == std::string_view::npos || close - i > 32) return i;
    auto inside = trim(s.substr(i + 1, close - i - 1));
    bool seconds = !inside.empty() && std::all_of(inside.begin(), inside.end(), [](char c) { return is_digit(c) || c == '.'; }) &&
                   inside.find('.') != std::string_view::npos;
    bool wall = inside.size() >= 20 && inside[inside.size() - 5] == ' ' && all_digits(inside.substr(inside.size() - 4)) &&
                inside.find(':') != std::string_view::npos;
    if (seconds || wall) {
      i = close + 1;
      if (i < s.size() && s[i] == ' ') ++i;
    }
  }
  return i;
}

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "hh:mm:ss" at `s`, optionally with a fraction; returns its length or 0.
std::size_t clock_time(std::string_view s) {
  if (s.size() < 8 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) || !is_digit(s[4]) ||
      s[5] != ':' || !is_digit(s[6]) || !is_digit(s[7]))
    return 0;
  std::size_t i = 8;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i;
}

bool hostname_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }

// "host ident[pid]: " or "host ident: " after a syslog/journal timestamp: its
// length, or 0. Both words are strict (a host name; a program name and an
// optional [pid]), so a message's own "==1==ERROR: AddressSanitizer: " is no prefix.
std::size_t host_and_ident(std::string_view s) {
  auto host_end = s.find(' ');
  if (host_end == std::string_view::npos || host_end == 0) return 0;
  if (!std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(host_end), hostname_char)) return 0;
  auto rest = s.substr(host_end + 1);
  auto colon = rest.find(": ");
  if (colon == std::string_view::npos || colon == 0) return 0;
  auto ident = rest.substr(0, colon);
  if (ends_with(ident, "]")) {
    auto open = ident.rfind('[');
    if (open == std::string_view::npos || open == 0 || !all_digits(ident.substr(open + 1, ident.size() - open - 2))) return 0;
    ident = ident.substr(0, open);
  }
  if (!std::isalpha(static_cast<unsigned char>(ident[0])) && ident[0] != '_' && ident[0] != '(') return 0;
  for (char c : ident)
    if (!(hostname_char(c) || c == '/' || c == '@' || c == '(' || c == ')')) return 0;
  return host_end + 1 + colon + 2;
}

// "Dec 02 03:14:07 host app[123]: " (syslog, journalctl): its length, or 0.
std::size_t syslog_prefix(std::string_view s) {
  if (s.size() < 16 || std::find(kMonths.begin(), kMonths.end(), s.substr(0, 3)) == kMonths.end() || s[3] != ' ') return 0;
  std::size_t i = 4;
  if (s[i] == ' ') ++i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i >= s.size() || s[i] != ' ') return 0;
  std::size_t t = clock_time(s.substr(i + 1));
  if (t == 0) return 0;
  i += 1 + t;
  if (i >= s.size() || s[i] != ' ') return 0;
  std::size_t rest = host_and_ident(s.substr(i + 1));
  return rest == 0 ? 0 : i + 1 + rest;
}

// "2026-12-02T03:14:07.123Z " (CI runners, docker --timestamps) or
// "2026-12-02 03:14:07,123 ", optionally followed by a journal's "host ident[pid]: ".
std::size_t iso_prefix(std::string_view s) {
  if (s.size() < 20 || !all_digits(s.substr(0, 4)) || s[4] != '-' || !all_digits(s.substr(5, 2)) || s[7] != '-' ||
      !all_digits(s.substr(8, 2)) || (s[10] != 'T' && s[10] != ' '))
    return 0;
  std::size_t t = clock_time(s.substr(11));
  if (t == 0) return 0;
  std::size_t i = 11 + t;
  if (i < s.size() && s[i] == 'Z') ++i;
  else if (i + 5 <= s.size() && (s[i] == '+' || s[i] == '-') && is_digit(s[i + 1])) {
    i += 3;
    if (i < s.size() && s[i] == ':') ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i >= s.size() || s[i] != ' ') return 0;
  ++i;
  // journalctl -o short-iso: a host and an ident follow; docker and CI put the message right after.
  i += host_and_ident(s.substr(i));
  return i;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool all_digits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

std::optional<std::uint64_t> leading_hex(std::string_view s, std::size_t* used) {
  std::size_t skip = starts_with(s, "0x") || starts_with(s, "0X") ? 2 : 0;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + skip, s.data() + s.size(), v, 16);
  if (ec != std::errc{} || ptr == s.data() + skip) return std::nullopt;
  if (used) *used = static_cast<std::size_t>(ptr - s.data());
  return v;
}

std::optional<std::uint64_t> parse_hex(std::string_view s) {
  std::size_t used = 0;
  auto v = leading_hex(s, &used);
  if (!v || used != s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_decimal(std::string_view s) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<int> signal_from_description(std::string_view words) {
  struct Words {
    std::string_view words;
    int signo;
  };
  static constexpr std::array kWords = {
      Words{"Segmentation fault", SIGSEGV}, Words{"Bus error", SIGBUS},    Words{"Aborted", SIGABRT},
      Words{"Floating point exception", SIGFPE}, Words{"Floating-point exception", SIGFPE},
      Words{"Illegal instruction", SIGILL}, Words{"Trace/breakpoint trap", SIGTRAP}, Words{"Killed", SIGKILL},
      Words{"Arithmetic exception", SIGFPE},
  };
  words = trim(words);
  for (const auto& w : kWords)
    if (starts_with(words, w.words)) return w.signo;
  return std::nullopt;
}

std::optional<int> shell_death_signal(std::string_view line) {
  std::string_view l = trim(line);
  // zsh: "zsh: bus error  python3 x.py"
  if (starts_with(l, "zsh: ")) {
    auto rest = l.substr(5);
    if (starts_with(rest, "segmentation fault")) return SIGSEGV;
    if (starts_with(rest, "bus error")) return SIGBUS;
    if (starts_with(rest, "abort")) return SIGABRT;
    if (starts_with(rest, "floating point exception")) return SIGFPE;
    if (starts_with(rest, "illegal hardware instruction")) return SIGILL;
    return std::nullopt;
  }
  // bash: "bash: line 1:  7113 Bus error               python3 x.py"
  if (auto colon = l.rfind(": "); starts_with(l, "bash: ") || starts_with(l, "sh: ")) {
    if (colon == std::string_view::npos) return std::nullopt;
    auto rest = trim(l.substr(colon + 2));
    auto space = rest.find(' ');
    if (space != std::string_view::npos && all_digits(rest.substr(0, space))) rest = trim(rest.substr(space));
    return signal_from_description(rest);
  }
  // The shell's own line: "Bus error (core dumped)", "Segmentation fault", "Aborted".
  auto words = l;
  if (ends_with(words, " (core dumped)")) words.remove_suffix(14);
  if (auto signo = signal_from_description(words); signo && words.size() <= 26) return signo;
  return std::nullopt;
}

Failure malformed(const Log& log, std::size_t index, std::string_view what) {
  int number = index < log.lines.size() ? log.lines[index].number : 0;
  return failure(fmt::format("{}:{}: {}", log.source, number, what));
}

bool parse_file_line(std::string_view token, Frame& frame) {
  auto last = token.rfind(':');
  if (last == std::string_view::npos) return false;
  auto tail = token.substr(last + 1);
  if (!all_digits(tail) || tail.size() > 9) return false;
  auto before = token.substr(0, last);
  auto second = before.rfind(':');
  if (second != std::string_view::npos && all_digits(before.substr(second + 1)) && second + 1 < before.size() &&
      before.size() - second - 1 <= 9) {
    frame.file = before.substr(0, second);
    frame.line = static_cast<int>(*parse_decimal(before.substr(second + 1)));
    frame.column = static_cast<int>(*parse_decimal(tail));
  } else {
    frame.file = before;
    frame.line = static_cast<int>(*parse_decimal(tail));
  }
  return !frame.file.empty();
}

std::string clean_line(std::string_view raw) {
  // A terminal's carriage return overwrote what came before it on the screen.
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  if (auto cr = raw.rfind('\r'); cr != std::string_view::npos && cr + 1 < raw.size()) raw = raw.substr(cr + 1);
  std::string line = strip_escapes(raw);
  std::string_view s = line;
  for (int round = 0; round < 3; ++round) {  // "Dec 02 ... kernel: [123.4] ..." has two prefixes
    std::size_t cut = syslog_prefix(s);
    if (cut == 0) cut = iso_prefix(s);
    if (cut == 0) cut = dmesg_prefix(s);
    if (cut == 0) break;
    s.remove_prefix(cut);
  }
  return std::string(s);
}

Log clean_log(std::string_view raw, std::string_view source) {
  Log log;
  log.source = source;
  int number = 0;
  while (!raw.empty()) {
    auto newline = raw.find('\n');
    std::string_view line = raw.substr(0, newline);
    raw = newline == std::string_view::npos ? std::string_view{} : raw.substr(newline + 1);
    LogLine cleaned{++number, clean_line(line)};
    log.offsets.push_back(log.text.size());
    log.text += cleaned.text;
    log.text += '\n';
    log.lines.push_back(std::move(cleaned));
  }
  return log;
}

std::size_t Log::line_at(std::size_t offset) const {
  auto it = std::upper_bound(offsets.begin(), offsets.end(), offset);
  return it == offsets.begin() ? 0 : static_cast<std::size_t>(it - offsets.begin() - 1);
}

}  // namespace crashgate::field
