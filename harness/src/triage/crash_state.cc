// Crash state and signature: what makes two crashes "the same bug".
#include <xxhash.h>

#include <cctype>
#include <span>

#include <fmt/format.h>

#include "crashgate/triage.h"

namespace crashgate {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// Removes every "[clone .cold]", "[abi:cxx11]"-style bracketed tag.
std::string drop_tags(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '[' && (s.substr(i, 7) == "[clone " || s.substr(i, 5) == "[abi:")) {
      auto close = s.find(']', i);
      if (close != std::string_view::npos) {
        if (!out.empty() && out.back() == ' ') out.pop_back();
        i = close;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The index of the '(' matching the ')' at `close`, or npos.
std::size_t matching_open(const std::string& s, std::size_t close) {
  int depth = 0;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (s[i] == ')') ++depth;
    else if (s[i] == '(' && --depth == 0) return i;
  }
  return std::string::npos;
}

std::string strip_arguments(std::string s) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view q : {" const", " volatile", " &&", " &", " noexcept"})
      if (ends_with(s, q)) {
        s.resize(s.size() - q.size());
        changed = true;
      }
  }
  if (!s.empty() && s.back() == ')') {
    auto open = matching_open(s, s.size() - 1);
    // "operator()" with no argument list left: the parentheses are the operator's name.
    if (open != std::string::npos && open > 0 && !ends_with(std::string_view(s).substr(0, open), "operator"))
      s.resize(open);
  }
  return s;
}

// "void ns::f<int>" -> "ns::f<int>": the return type of a template instance is noise.
std::string strip_return_type(const std::string& s) {
  int depth = 0;
  std::size_t last_space = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '(' || c == '<' || c == '{') ++depth;
    else if ((c == ')' || c == '>' || c == '}') && depth > 0) --depth;
    else if (c == ' ' && depth == 0) last_space = i;
  }
  if (last_space == std::string::npos) return s;
  if (ends_with(std::string_view(s).substr(0, last_space), "operator")) return s;
  return s.substr(last_space + 1);
}

std::string normalize_numbers(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "0x") == 0 && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += "0xN";
      i += 2;
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      continue;
    }
    bool starts_number = std::isdigit(static_cast<unsigned char>(s[i])) &&
                         (i == 0 || !identifier_char(s[i - 1]) || (i >= 2 && s.compare(i - 2, 2, "$_") == 0));
    if (starts_number) {
      out += 'N';
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      continue;
    }
    out += s[i++];
  }
  return out;
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A shared library's name without its version ("liblmdb.so.0.0.0" and
// "liblmdb.so.0" -> "liblmdb.so"): the unwinder names the file the loader
// mapped, a sanitizer the soname it was asked for, and one crash must have one state.
std::string module_name(const std::string& path) {
  std::string name = base_name(path);
  if (auto so = name.find(".so."); so != std::string::npos) name.resize(so + 3);
  return name;
}

// The words after the kind: which signal or check. Sizes are left out (the
// same overflow reads 4 or 8 bytes depending on the type), READ/WRITE kept.
std::string crash_type(const Outcome& o) {
  switch (o.kind) {
    case OutcomeKind::signal:
      return o.signal ? signal_name(*o.signal) : "";
    case OutcomeKind::asan:
    case OutcomeKind::ubsan:
    case OutcomeKind::tsan:
    case OutcomeKind::lsan: {
      std::string check = o.check;
      auto space = check.rfind(' ');
      if (space != std::string::npos &&
          check.find_first_not_of("0123456789", space + 1) == std::string::npos)
        check.resize(space);
      return check;
    }
    case OutcomeKind::exit:
      return o.exit_code ? std::to_string(*o.exit_code) : "";
    case OutcomeKind::error: {
      std::string type;
      if (o.failed_step)
        for (const auto& step : o.steps)
          if (step.index == *o.failed_step) type = step.code + " in " + step.op;
      return type;
    }
    default:
      return "";
  }
}

}  // namespace

std::string normalize_function(std::string_view function) {
  std::string s = drop_tags(function);
  for (std::string_view suffix : {".cold", ".isra.", ".part.", ".constprop.", ".llvm."}) {
    auto at = s.find(suffix);
    if (at != std::string::npos && at > 0) s.resize(at);
  }
  s = strip_return_type(strip_arguments(s));
  s = normalize_numbers(s);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string crash_state(const Outcome& o) {
  if (o.kind == OutcomeKind::ok || o.kind == OutcomeKind::harness_error) return "";
  std::string state(to_string(o.kind));
  if (auto type = crash_type(o); !type.empty()) state += " " + type;
  const Thread* stack = nullptr;
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size()))
    stack = &o.threads[o.crashing_thread];
  else if (!o.threads.empty())
    stack = &o.threads.front();
  int taken = 0;
  // A handler that caught the fault and then aborted: the crash is below it.
  std::size_t skip = stack ? handler_frames(o, *stack).value_or(0) : 0;
  if (stack)
    for (const auto& frame : std::span(stack->frames).subspan(skip)) {
      if (taken == kCrashStateFrames) break;
      if (frame_ignore_rule(frame)) continue;
      // A frame with no symbol (a stripped engine library's static function) is
      // its module and offset there: three frames of one stripped library would
      // otherwise be one name three times, the same for every crash in it. A
      // frame that is only a source location (a Rust panic's, printed without
      // a backtrace) is that file and line, so two panics stay two crashes.
      std::string name = !frame.function.empty() ? normalize_function(frame.function)
                         : !frame.module.empty()
                             ? fmt::format("{}+0x{:x}", module_name(frame.module), frame.module_offset)
                         : !frame.file.empty() ? fmt::format("{}:{}", frame.file, frame.line)
                                               : "";
      if (name.empty()) continue;
      state += "\n" + name;
      ++taken;
    }
  return state;
}

std::string crash_signature(std::string_view state) {
  return fmt::format("{:016x}", XXH3_64bits(state.data(), state.size()));
}

void triage(Outcome& outcome, const KnownIssues* known, std::string_view cell_id) {
  outcome.crash_state = crash_state(outcome);
  outcome.signature = outcome.crash_state.empty() ? "" : crash_signature(outcome.crash_state);
  outcome.known_issue.reset();
  if (known && !outcome.crash_state.empty()) outcome.known_issue = known->match(outcome, cell_id);
}

}  // namespace crashgate
