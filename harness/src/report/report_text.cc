#include "report/report_text.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "crashgate/summary_text.h"
#include "crashgate/triage.h"

namespace crashgate::report {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& code) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  code = length == 1 ? lead : length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F : lead & 0x07;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

std::string first_word(const std::string& text) {
  auto space = text.find(' ');
  return space == std::string::npos ? text : text.substr(0, space);
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    std::size_t length = utf8_sequence(text, i, code);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (code == '\t' || code == '\n') {
      out += static_cast<char>(code);
    } else if (code < 0x20 || code == 0x7F) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(code));
    } else if (code >= 0x80 && code <= 0x9F) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(code));
    } else if (code == 0xFFFE || code == 0xFFFF) {
      out += "\xEF\xBF\xBD";  // not characters in XML
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string markup_escape(std::string_view text) {
  std::string clean = printable(text);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const Attempt* first_attempt(const CellResult& cell) { return cell.attempts.empty() ? nullptr : &cell.attempts.front(); }

std::string cell_headline(const CellResult& cell) {
  const Attempt* first = first_attempt(cell);
  if (cell.verdict == Verdict::not_run || !first) return "not run: interrupted (Ctrl-C) before the cell finished";
  const Outcome& o = first->outcome;
  if (cell.verdict == Verdict::harness_error) return "harness-error: " + o.detail;
  std::string got = fmt::format("{}: {}", outcome_text(o), o.detail);
  switch (cell.verdict) {
    case Verdict::pass: return got;
    case Verdict::flaky:
      return fmt::format("flaky: {} (expected {}), then met it on rerun {}", got, expectation_text(cell.cell.expect),
                         cell.attempts.size() - 1);
    default: return fmt::format("{} (expected {})", got, expectation_text(cell.cell.expect));
  }
}

std::string cell_diagnosis(const CellResult& cell) {
  std::string out = fmt::format("cell      {}\nscenario  {}{}\n", cell.cell.id, cell.scenario_file,
                                cell.origin.empty() ? "" : " (replays " + cell.origin + ")");
  out += fmt::format("expected  {}\n", expectation_text(cell.cell.expect));
  const Attempt* first = first_attempt(cell);
  if (!first) return out + "got       nothing: the cell did not run\n";
  out += fmt::format("got       {}: {}\n", outcome_text(first->outcome), first->outcome.detail);
  for (const auto& why : first->unmet) out += fmt::format("unmet     {}\n", why);
  std::string explained = summary_text(first->outcome);
  // Its first line repeats the kind and detail given above.
  if (auto newline = explained.find('\n'); newline != std::string::npos) explained.erase(0, newline + 1);
  out += explained;
  for (std::size_t k = 1; k < cell.attempts.size(); ++k) {
    const Attempt& rerun = cell.attempts[k];
    out += fmt::format("rerun {}   {}: {}: {}\n", k, to_string(rerun.verdict), outcome_text(rerun.outcome),
                       rerun.outcome.detail);
  }
  if (!first->work_dir.empty()) out += fmt::format("work dir  {}\n", first->work_dir);
  out += fmt::format("repro     {}\n", cell.repro);
  return out;
}

std::string rule_id(const Outcome& o) {
  switch (o.kind) {
    case OutcomeKind::signal: return o.signal ? "signal/" + signal_name(*o.signal) : "signal";
    case OutcomeKind::asan:
    case OutcomeKind::ubsan:
    case OutcomeKind::tsan:
    case OutcomeKind::lsan: {
      std::string check = first_word(o.check);
      return std::string(to_string(o.kind)) + (check.empty() ? "" : "/" + check);
    }
    case OutcomeKind::ok:
    case OutcomeKind::error:
    case OutcomeKind::exit: return "expectation-mismatch";
    default: return std::string(to_string(o.kind));
  }
}

std::string rule_description(const std::string& rule) {
  if (rule == "expectation-mismatch")
    return "The outcome did not meet the scenario's [expect] and nothing crashed: a clean error, an exit status or a "
           "success where the scenario expected something else.";
  auto slash = rule.find('/');
  std::string kind = rule.substr(0, slash);
  std::string what = slash == std::string::npos ? "" : rule.substr(slash + 1);
  if (kind == "signal") return fmt::format("The target was killed by {}.", what.empty() ? "a signal" : what);
  static const std::map<std::string, std::string> kSanitizers = {{"asan", "AddressSanitizer"},
                                                                  {"ubsan", "UndefinedBehaviorSanitizer"},
                                                                  {"tsan", "ThreadSanitizer"},
                                                                  {"lsan", "LeakSanitizer"}};
  if (auto it = kSanitizers.find(kind); it != kSanitizers.end())
    return fmt::format("{} reported {}.", it->second, what.empty() ? "an error" : what);
  if (auto parsed = parse_outcome_kind(kind)) {
    for (const auto& info : outcome_kinds())
      if (info.kind == *parsed) return fmt::format("{}: {}.", info.name, info.meaning);
  }
  return rule + ".";
}

std::string scenario_folder(const CellResult& cell) {
  std::filesystem::path file(cell.scenario_file);
  std::string folder = file.parent_path().filename().string();
  return folder.empty() ? "scenarios" : folder;
}

std::string params_text(const CellResult& cell) {
  const Cell& c = cell.cell;
  std::string prefix = c.scenario + "/" + c.target + "/" + c.build;
  if (c.id.size() > prefix.size() && c.id.compare(0, prefix.size(), prefix) == 0 && c.id[prefix.size()] == '[')
    return c.id.substr(prefix.size());
  if (c.params.empty()) return "";
  std::string out = "[";
  for (const auto& [key, value] : c.params) out += (out.size() > 1 ? "," : "") + key + "=" + value;
  return out + "]";
}

std::optional<std::string> project_relative(const std::string& path, const std::string& root) {
  namespace fs = std::filesystem;
  // A relative path is relative to some compilation directory nobody recorded
  // (glibc's "./nptl/futex-internal.c"): never taken for the project's.
  fs::path p(path);
  if (path.empty() || root.empty() || !p.is_absolute()) return std::nullopt;
  fs::path relative = p.lexically_normal().lexically_relative(fs::path(root).lexically_normal());
  if (relative.empty() || *relative.begin() == ".." || relative == ".") return std::nullopt;
  return relative.string();
}

const Frame* first_project_frame(const Outcome& o, const std::string& source_root) {
  auto in_project = [&](const Frame& f) { return project_relative(f.file, source_root).has_value(); };
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size())) {
    const auto& frames = o.threads[o.crashing_thread].frames;
    for (const auto& f : frames)
      if (in_project(f) && !frame_ignore_rule(f)) return &f;
    for (const auto& f : frames)
      if (in_project(f)) return &f;
  }
  for (const auto& thread : o.threads)
    for (const auto& f : thread.frames)
      if (in_project(f) && !frame_ignore_rule(f)) return &f;
  return nullptr;
}

std::string output_tail(const OutputExcerpt& output, std::size_t max_bytes) {
  std::string text = output.text();
  if (text.size() <= max_bytes) return text;
  std::size_t start = text.size() - max_bytes;
  // Start at a line when one begins early in the window; a single huge line is cut where it must be.
  if (auto newline = text.find('\n', start); newline != std::string::npos && newline < start + max_bytes / 4) start = newline + 1;
  return fmt::format("[... {} of {} bytes before this are in results.json or the work directory ...]\n{}", start,
                     output.total_bytes, text.substr(start));
}

std::string seconds_text(std::int64_t ms) { return fmt::format("{:.3f}", static_cast<double>(ms < 0 ? 0 : ms) / 1000); }

}  // namespace crashgate::report
