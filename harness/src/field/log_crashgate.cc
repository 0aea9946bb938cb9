// `crashgate exec`'s own output brought back: its --json result
// (crashgate.result/1, read by result_json.h) or its text summary
// (summary_text.cc: "crashgate: KIND: DETAIL", then indented fields and stacks).
#include <signal.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/result_json.h"
#include "field/formats.h"

namespace crashgate::field {
namespace {

// The end (one past the closing brace) of the JSON object opening at text[open], or npos.
std::size_t object_end(std::string_view text, std::size_t open) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Where the schema's name occurs: a result object opens shortly before one
// (its keys are sorted; "schema" comes before the long stacks and excerpts).
std::vector<std::size_t> schema_positions(const Log& log) {
  std::vector<std::size_t> at;
  for (auto p = log.text.find("\"crashgate.result/1\""); p != std::string::npos; p = log.text.find("\"crashgate.result/1\"", p + 1))
    at.push_back(p);
  return at;
}

constexpr std::size_t kSchemaWithin = 64 * 1024;

bool opens_result_json(const Log& log, std::size_t index, const std::vector<std::size_t>& schemas) {
  std::string_view line = trim_left(log.lines[index].text);
  if (!starts_with(line, "{")) return false;
  std::size_t open = log.offsets[index] + (log.lines[index].text.size() - line.size());
  auto next = std::lower_bound(schemas.begin(), schemas.end(), open);
  return next != schemas.end() && *next - open < kSchemaWithin;
}

// "crashgate: signal: SIGBUS (BUS_ADRERR): read at ..." -> the kind, or nothing.
std::optional<OutcomeKind> summary_kind(std::string_view line, std::string_view* detail) {
  if (!starts_with(line, "crashgate: ")) return std::nullopt;
  auto rest = line.substr(11);
  auto colon = rest.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  auto kind = parse_outcome_kind(rest.substr(0, colon));
  if (kind && detail) *detail = rest.substr(colon + 2);
  return kind;
}

// What only summary_text writes after its first line, so a usage error that
// happens to start "crashgate: error: " is no summary.
bool summary_field(std::string_view line) {
  for (std::string_view field : {"  ran ", "  check: ", "  fault address: ", "  mapping: ", "  crash state: ", "  note: ",
                                 "  signature: ", "  step "})
    if (starts_with(line, field)) return true;
  return starts_with(line, "  ") && !starts_with(line, "   ") && ends_with(line, ":");
}

Checked<Outcome> parse_json(const Log& log, std::size_t start) {
  std::string_view line = trim_left(log.lines[start].text);
  std::size_t open = log.offsets[start] + (log.lines[start].text.size() - line.size());
  std::size_t end = object_end(log.text, open);
  if (end == std::string_view::npos) return malformed(log, start, "the crashgate.result/1 JSON is cut short (no closing brace)");
  auto json = nlohmann::json::parse(log.text.begin() + static_cast<std::ptrdiff_t>(open),
                                    log.text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
  if (json.is_discarded()) return malformed(log, start, "the crashgate.result/1 JSON does not parse");
  auto outcome = outcome_from_json(json);
  if (!outcome) return malformed(log, start, "not a crashgate.result/1: " + outcome.error());
  Outcome o = std::move(outcome).value();
  // The caller triages again, against its own known issues.
  o.crash_state.clear();
  o.signature.clear();
  o.known_issue.reset();
  return o;
}

// "fn at file:line (module+0xoff)", frame_text's shape; "??" is an unknown function.
Frame parse_frame_text(std::string_view text) {
  Frame f;
  text = trim(text);
  if (ends_with(text, ")")) {
    auto open = text.rfind(" (");
    if (open != std::string_view::npos) {
      auto inside = text.substr(open + 2, text.size() - open - 3);
      auto plus = inside.rfind("+0x");
      if (plus != std::string_view::npos && parse_hex(inside.substr(plus + 1))) {
        f.module = inside.substr(0, plus);
        f.module_offset = *parse_hex(inside.substr(plus + 1));
        text = text.substr(0, open);
      }
    }
  }
  if (auto at = text.rfind(" at "); at != std::string_view::npos) {
    Frame located;
    if (parse_file_line(text.substr(at + 4), located)) {
      f.file = located.file;
      f.line = located.line;
      text = text.substr(0, at);
    }
  }
  if (text != "??") f.function = text;
  return f;
}

// "  crashed (thread 12345 'worker-1'):" -> the stack's role, tid and name.
Thread parse_stack_header(std::string_view line) {
  Thread t;
  std::string_view l = trim(line);
  l.remove_suffix(1);  // ':'
  auto paren = l.find(" (");
  t.role = l.substr(0, paren);
  if (paren == std::string_view::npos || !ends_with(l, ")")) return t;
  auto who = l.substr(paren + 2, l.size() - paren - 3);
  if (starts_with(who, "thread ")) {
    who.remove_prefix(7);
    auto space = who.find(' ');
    if (auto tid = parse_decimal(who.substr(0, space))) t.tid = *tid;
    who = space == std::string_view::npos ? std::string_view{} : who.substr(space + 1);
  }
  if (who.size() >= 2 && who.front() == '\'' && who.back() == '\'') t.name = who.substr(1, who.size() - 2);
  return t;
}

// The si_code a name like "BUS_ADRERR" stands for, for this signal.
std::optional<int> si_code_named(int signo, std::string_view name) {
  for (int code = -8; code <= 0x80; ++code)
    if (si_code_name(signo, code) == name) return code;
  return std::nullopt;
}

void read_detail(Outcome& o, std::string_view detail) {
  o.detail = detail;
  if (starts_with(detail, "exited with status ")) {
    auto rest = detail.substr(19);
    if (auto code = parse_decimal(rest.substr(0, rest.find_first_not_of("0123456789")))) o.exit_code = static_cast<int>(*code);
    return;
  }
  auto word = detail.substr(0, detail.find_first_of(" :"));
  auto signo = parse_signal_name(word);
  if (!signo || !starts_with(word, "SIG")) return;
  o.signal = signo;
  auto rest = detail.substr(word.size());
  if (starts_with(rest, " (")) {
    auto close = rest.find(')');
    if (close != std::string_view::npos) {
      if (auto code = si_code_named(*signo, rest.substr(2, close - 2))) o.si_code = code;
      rest = rest.substr(close + 1);
    }
  }
  if (starts_with(rest, ": ") && (*signo == SIGSEGV || *signo == SIGBUS)) {
    Attribution a;
    a.description = rest.substr(2);
    o.attribution = a;
  }
}

Checked<Outcome> parse_summary(const Log& log, std::size_t start) {
  Outcome o;
  std::string_view detail;
  o.kind = *summary_kind(log.lines[start].text, &detail);
  read_detail(o, detail);
  Thread* stack = nullptr;
  bool in_stderr = false;
  for (std::size_t i = start + 1; i < log.lines.size(); ++i) {
    std::string_view line = log.lines[i].text;
    if (!starts_with(line, "  ")) break;
    if (in_stderr && starts_with(line, "    ")) continue;
    in_stderr = false;
    std::string_view t = trim(line);
    if (starts_with(line, "    #")) {
      auto space = t.find(' ');
      if (stack && space != std::string_view::npos) stack->frames.push_back(parse_frame_text(t.substr(space + 1)));
    } else if (starts_with(t, "... ") && ends_with(t, " more frames")) {
      if (stack) o.notes.push_back(fmt::format("the summary shows part of the {} stack: {}", stack->role, t));
    } else if (starts_with(t, "(unwinding stopped: ") && ends_with(t, ")")) {
      if (stack) stack->error = t.substr(20, t.size() - 21);
    } else if (starts_with(line, "   ")) {
      continue;
    } else if (starts_with(t, "check: ")) {
      o.check = t.substr(7);
    } else if (starts_with(t, "fault address: ")) {
      o.fault_address = parse_hex(t.substr(15));
    } else if (starts_with(t, "mapping: ")) {
      if (!o.attribution) o.attribution = Attribution{};
      o.attribution->mapping = t.substr(9);
    } else if (starts_with(t, "note: ")) {
      o.notes.emplace_back(t.substr(6));
    } else if (starts_with(t, "repro: ")) {
      o.repro = t.substr(7);
    } else if (t == "stderr (last lines):") {
      in_stderr = true;
    } else if (starts_with(t, "step ")) {
      continue;  // the steps' ops and statuses; the detail names the failed one
    } else if (starts_with(t, "... ") || starts_with(t, "crash state: ") || starts_with(t, "signature: ") ||
               starts_with(t, "known issue: ") || starts_with(t, "ran ")) {
      continue;  // triage is the caller's, run again
    } else if (ends_with(t, ":")) {
      o.threads.push_back(parse_stack_header(line));
      stack = &o.threads.back();
    }
  }
  // The summary prints the crashing thread's stack first.
  if (!o.threads.empty()) o.crashing_thread = 0;
  if (o.check.empty() && o.detail.find(": ") != std::string::npos &&
      (o.kind == OutcomeKind::asan || o.kind == OutcomeKind::ubsan || o.kind == OutcomeKind::tsan ||
       o.kind == OutcomeKind::lsan)) {
    // "AddressSanitizer: heap-buffer-overflow READ 4": summary_text leaves out a check the detail holds.
    auto colon = o.detail.find(": ");
    auto check = o.detail.substr(colon + 2);
    o.check = check.substr(0, check.find(", in step "));
  }
  return o;
}

}  // namespace

std::vector<std::size_t> detect_crashgate_exec(const Log& log) {
  std::vector<std::size_t> starts;
  auto schemas = schema_positions(log);
  for (std::size_t i = 0; i < log.lines.size(); ++i) {
    if (opens_result_json(log, i, schemas)) {
      starts.push_back(i);
      // The object's own nested objects are no results: go on after its end.
      std::string_view line = trim_left(log.lines[i].text);
      std::size_t end = object_end(log.text, log.offsets[i] + (log.lines[i].text.size() - line.size()));
      if (end == std::string_view::npos) break;
      i = log.line_at(end - 1);
      continue;
    }
    auto kind = summary_kind(log.lines[i].text, nullptr);
    if (!kind || *kind == OutcomeKind::ok) continue;  // a run that ended well is no crash to explain
    // The first line alone (a log cut after it) counts for the crash kinds
    // only: "crashgate: error: ..." may also be a usage error.
    bool crash_kind = *kind != OutcomeKind::error && *kind != OutcomeKind::exit && *kind != OutcomeKind::harness_error;
    bool alone = i + 1 == log.lines.size() || trim(log.lines[i + 1].text).empty();
    if ((alone && crash_kind) || (i + 1 < log.lines.size() && summary_field(log.lines[i + 1].text))) starts.push_back(i);
  }
  return starts;
}

Checked<Outcome> parse_crashgate_exec(const Log& log, std::size_t start) {
  if (opens_result_json(log, start, schema_positions(log))) return parse_json(log, start);
  return parse_summary(log, start);
}

}  // namespace crashgate::field
