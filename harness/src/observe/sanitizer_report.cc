// Parsing sanitizer reports. The formats are compiler-rt's (LLVM 14 and
// later); each opening line is recognised by the tool's fixed words, stacks by
// "#N" lines, and stack headers by the words that name their role.
#include "crashgate/sanitizer_report.h"

#include <array>
#include <cctype>
#include <charconv>

namespace crashgate {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (starts_with(s, "0x")) s.remove_prefix(2);
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || ptr == s.data()) return std::nullopt;
  return v;
}

// "heap-buffer-overflow" style: what a check name looks like (a summary may start with a number instead).
bool looks_like_check(std::string_view word) {
  if (word.empty() || std::isdigit(static_cast<unsigned char>(word.front()))) return false;
  for (char c : word)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

std::string kebab(std::string_view words) {
  std::string out;
  for (char c : trim(words)) out += c == ' ' ? '-' : c;
  return out;
}

// The address after "address 0x..." in a headline.
std::optional<std::uint64_t> address_in(std::string_view line) {
  auto at = line.find("address 0x");
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(at + 8);
  return parse_hex(rest.substr(0, rest.find_first_of(" )")));
}

// "file:12" or "file:12:7"; the file may itself contain ':' only before the numbers.
bool parse_location(std::string_view token, Frame& frame) {
  auto last = token.rfind(':');
  if (last == std::string_view::npos) return false;
  auto tail = token.substr(last + 1);
  if (!all_digits(tail)) return false;
  auto before = token.substr(0, last);
  auto second = before.rfind(':');
  if (second != std::string_view::npos && all_digits(before.substr(second + 1))) {
    frame.file = before.substr(0, second);
    std::from_chars(before.data() + second + 1, before.data() + before.size(), frame.line);
    std::from_chars(tail.data(), tail.data() + tail.size(), frame.column);
  } else {
    frame.file = before;
    std::from_chars(tail.data(), tail.data() + tail.size(), frame.line);
  }
  return !frame.file.empty();
}

// UBSan's message words, for when the SUMMARY does not name the check (report_error_type=0).
struct UbsanMessage {
  std::string_view words;
  std::string_view check;
};
constexpr std::array kUbsanMessages = {
    UbsanMessage{"signed integer overflow", "signed-integer-overflow"},
    UbsanMessage{"unsigned integer overflow", "unsigned-integer-overflow"},
    UbsanMessage{"negation of", "signed-integer-overflow"},
    UbsanMessage{"misaligned address", "misaligned-pointer-use"},
    UbsanMessage{"division by zero", "integer-divide-by-zero"},
    UbsanMessage{"shift exponent", "invalid-shift-exponent"},
    UbsanMessage{"left shift of", "invalid-shift-base"},
    UbsanMessage{"out of bounds for type", "out-of-bounds-index"},
    UbsanMessage{"null pointer", "null-pointer-use"},
    UbsanMessage{"which is not a valid value for type", "invalid-value-load"},
    UbsanMessage{"unreachable program point", "unreachable-call"},
    UbsanMessage{"end of a value-returning function", "missing-return"},
    UbsanMessage{"pointer overflow", "pointer-overflow"},
    UbsanMessage{"applying non-zero offset", "pointer-overflow"},
    UbsanMessage{"applying zero offset to null pointer", "nullptr-with-offset"},
    UbsanMessage{"incorrect function type", "function-type-mismatch"},
    UbsanMessage{"is outside the range of representable values", "float-cast-overflow"},
};

std::string ubsan_check_from_message(std::string_view message) {
  for (const auto& m : kUbsanMessages)
    if (contains(message, m.words)) return std::string(m.check);
  return "undefined-behavior";
}

// The role of the stack a header line introduces, and the thread it names.
struct StackHeader {
  std::string role;
  std::string thread;
  std::string access;  // TSan's "Write of size 4" as "WRITE 4"
};

std::string thread_named_in(std::string_view line) {
  if (contains(line, "main thread")) return "main thread";
  auto at = line.find("thread T");
  if (at == std::string_view::npos) return "";
  auto start = at + 7;
  auto end = start + 1;
  while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
  return std::string(line.substr(start, end - start));
}

std::string tsan_access(std::string_view line) {
  // "Write of size 4 at ...", "Previous atomic read of size 8 at ..."
  std::string out;
  std::string_view l = trim(line);
  if (starts_with(l, "Previous ")) l.remove_prefix(9);
  auto of = l.find(" of size ");
  if (of == std::string_view::npos) return "";
  for (char c : l.substr(0, of)) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto size = l.substr(of + 9);
  return out + " " + std::string(size.substr(0, size.find(' ')));
}

std::optional<StackHeader> stack_header(std::string_view line) {
  std::string_view l = trim(line);
  if (l.empty() || l.back() != ':') return std::nullopt;
  StackHeader h;
  h.thread = thread_named_in(l);
  if (starts_with(l, "freed by")) h.role = "free";
  else if (starts_with(l, "previously allocated by") || starts_with(l, "allocated by")) h.role = "allocation";
  else if (starts_with(l, "Direct leak") || starts_with(l, "Indirect leak")) h.role = "leak";
  else if (starts_with(l, "Location is heap block")) h.role = "allocation";
  else if (starts_with(l, "Previous ")) h.role = "previous-access", h.access = tsan_access(l);
  else if (contains(l, " of size ") && contains(l, " by ")) h.role = "access", h.access = tsan_access(l);
  else if (starts_with(l, "Thread T") && contains(l, "created by")) {
    h.role = "thread-creation";
    auto space = l.find(' ', 7);
    h.thread = std::string(l.substr(7, space - 7));
  } else if (starts_with(l, "Mutex ")) h.role = "mutex";
  else if (contains(l, "created by") || contains(l, "created at")) h.role = "thread-creation";
  else return std::nullopt;
  return h;
}

}  // namespace

std::optional<Frame> parse_sanitizer_frame(std::string_view line) {
  std::string_view l = trim(line);
  if (l.size() < 2 || l[0] != '#' || !std::isdigit(static_cast<unsigned char>(l[1]))) return std::nullopt;
  auto space = l.find(' ');
  if (space == std::string_view::npos || !all_digits(l.substr(1, space - 1))) return std::nullopt;
  std::string_view rest = trim(l.substr(space));
  Frame frame;
  if (rest.size() > 2 && rest.back() == ')' && contains(rest, "(BuildId: ")) rest = trim(rest.substr(0, rest.rfind("(BuildId: ")));
  if (!rest.empty() && rest.back() == ')') {  // "(module+0xoffset)"
    auto open = rest.rfind('(');
    auto inside = rest.substr(open + 1, rest.size() - open - 2);
    auto plus = inside.rfind("+0x");
    if (open != std::string_view::npos && plus != std::string_view::npos) {
      frame.module = inside.substr(0, plus);
      frame.module_offset = parse_hex(inside.substr(plus + 1)).value_or(0);
      rest = trim(rest.substr(0, open));
    }
  }
  if (starts_with(rest, "0x")) {
    auto end = rest.find(' ');
    frame.pc = parse_hex(rest.substr(0, end)).value_or(0);
    rest = end == std::string_view::npos ? std::string_view{} : trim(rest.substr(end));
    if (starts_with(rest, "in ")) rest = trim(rest.substr(3));
  }
  auto last_space = rest.rfind(' ');
  if (last_space != std::string_view::npos) {
    auto location = rest.substr(last_space + 1);
    if (location == "<null>" || parse_location(location, frame)) rest = trim(rest.substr(0, last_space));
  }
  if (rest != "<null>") frame.function = rest;
  return frame;
}

std::vector<SanitizerReport> parse_sanitizer_reports(std::string_view text) {
  std::vector<SanitizerReport> reports;
  SanitizerReport* current = nullptr;
  Thread* stack = nullptr;
  bool closed = true;  // after SUMMARY, frames belong to nobody until the next report
  std::optional<StackHeader> pending;

  auto open_report = [&](std::string tool, std::string check, std::string_view headline) {
    reports.push_back({});
    current = &reports.back();
    current->tool = std::move(tool);
    current->check = std::move(check);
    current->headline = trim(headline);
    current->address = address_in(headline);
    stack = nullptr;
    pending.reset();
    closed = false;
  };

  while (!text.empty()) {
    auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (auto at = line.find("ERROR: AddressSanitizer: "); at != std::string_view::npos) {
      auto rest = line.substr(at + 25);
      if (starts_with(rest, "attempting ")) rest.remove_prefix(11);
      open_report("AddressSanitizer", std::string(rest.substr(0, rest.find(' '))), line);
      continue;
    }
    if (contains(line, "ERROR: AddressSanitizer failed to allocate")) {
      open_report("AddressSanitizer", "failed-to-allocate", line);
      continue;
    }
    if (auto at = line.find("ERROR: LeakSanitizer: "); at != std::string_view::npos) {
      open_report("LeakSanitizer", "memory-leak", line);
      continue;
    }
    if (auto at = line.find("ThreadSanitizer: "); at != std::string_view::npos &&
        (contains(line, "WARNING: ThreadSanitizer: ") || contains(line, "ERROR: ThreadSanitizer: "))) {
      auto rest = line.substr(at + 17);
      auto end = rest.find(" (");
      auto words = rest.substr(0, end);
      if (contains(words, " on ")) words = words.substr(0, words.find(" on "));
      open_report("ThreadSanitizer", kebab(words), line);
      continue;
    }
    if (auto at = line.find("ERROR: libFuzzer: "); at != std::string_view::npos) {
      auto rest = line.substr(at + 18);
      auto words = rest.substr(0, std::min(rest.find(" ("), rest.find(" after")));
      open_report("libFuzzer", kebab(words), line);
      continue;
    }
    if (auto at = line.find(": runtime error: "); at != std::string_view::npos) {
      auto message = line.substr(at + 17);
      open_report("UndefinedBehaviorSanitizer", ubsan_check_from_message(message), line);
      Frame where;
      if (parse_location(trim(line.substr(0, at)), where)) {
        // The stack (print_stacktrace=1) replaces this frame when it follows.
        current->stacks.push_back({0, "", "access", {where}, ""});
      }
      continue;
    }
    if (!current) continue;
    if (auto at = line.find("SUMMARY: "); at != std::string_view::npos && !closed) {
      current->summary = trim(line.substr(at + 9));
      auto rest = std::string_view(current->summary);
      auto colon = rest.find(": ");
      if (colon != std::string_view::npos) {
        auto word = rest.substr(colon + 2);
        word = word.substr(0, word.find(' '));
        if (looks_like_check(word) && word != "undefined-behavior" && current->tool != "ThreadSanitizer" &&
            current->tool != "libFuzzer")
          current->check = word;
      }
      closed = true;
      stack = nullptr;
      continue;
    }
    if (closed) continue;
    std::string_view trimmed = trim(line);
    if (current->access.empty() && (starts_with(trimmed, "READ of size ") || starts_with(trimmed, "WRITE of size "))) {
      auto size = trimmed.substr(trimmed.find("of size ") + 8);
      current->access = std::string(trimmed.substr(0, trimmed.find(' '))) + " " +
                        std::string(size.substr(0, size.find(' ')));
      pending = StackHeader{"access", thread_named_in(trimmed), ""};
      continue;
    }
    if (current->access.empty() && contains(trimmed, "The signal is caused by a ")) {
      auto rest = trimmed.substr(trimmed.find("caused by a ") + 12);
      auto word = rest.substr(0, rest.find(' '));
      if (word == "READ" || word == "WRITE") current->access = word;
      continue;
    }
    if (starts_with(trimmed, "Address ") && contains(trimmed, " is located in stack of ")) {
      pending = StackHeader{"stack-frame", thread_named_in(trimmed), ""};
      stack = nullptr;
      continue;
    }
    if (auto header = stack_header(trimmed)) {
      pending = header;
      stack = nullptr;
      if (current->tool == "ThreadSanitizer" && header->role == "access" && current->access.empty())
        current->access = header->access;
      if (current->tool == "LeakSanitizer" && header->role == "leak" && current->check == "memory-leak")
        current->check = starts_with(trimmed, "Direct") ? "direct-leak" : "indirect-leak";
      continue;
    }
    if (auto frame = parse_sanitizer_frame(trimmed)) {
      if (!stack) {
        bool replaces_location = current->tool == "UndefinedBehaviorSanitizer" && current->stacks.size() == 1 &&
                                 current->stacks[0].frames.size() == 1 && !pending;
        if (replaces_location) current->stacks.clear();
        Thread t;
        t.role = pending ? pending->role : (current->stacks.empty() ? "access" : "stack");
        t.name = pending ? pending->thread : "";
        current->stacks.push_back(std::move(t));
        stack = &current->stacks.back();
        pending.reset();
      }
      stack->frames.push_back(std::move(*frame));
      continue;
    }
    if (trimmed.empty()) stack = nullptr;
  }
  for (auto& r : reports) {
    r.kind = kind_for_check(r.tool, r.check);
    if (r.kind == OutcomeKind::signal) r.signal = parse_signal_name(r.check);
  }
  return reports;
}

const SanitizerReport* primary_sanitizer_report(std::span<const SanitizerReport> reports) {
  const SanitizerReport* first = nullptr;
  for (const auto& r : reports) {
    if (r.tool == "libFuzzer" && reports.size() > 1) continue;
    if (!first) first = &r;
    if (r.kind == OutcomeKind::signal || r.kind == OutcomeKind::stack_overflow || r.kind == OutcomeKind::oom)
      return &r;
  }
  return first ? first : (reports.empty() ? nullptr : &reports.front());
}

}  // namespace crashgate
