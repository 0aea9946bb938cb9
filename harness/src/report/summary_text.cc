#include "crashgate/summary_text.h"

#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void append_stack(std::string& out, const Thread& thread, int max_frames) {
  std::string who = thread.tid ? fmt::format("thread {}", thread.tid) : "";
  if (!thread.name.empty()) who += (who.empty() ? "" : " ") + fmt::format("'{}'", thread.name);
  out += fmt::format("  {}{}:\n", thread.role.empty() ? "stack" : thread.role, who.empty() ? "" : " (" + who + ")");
  int shown = 0;
  for (const auto& frame : thread.frames) {
    if (shown == max_frames) {
      out += fmt::format("      ... {} more frames\n", thread.frames.size() - shown);
      break;
    }
    out += fmt::format("    #{:<2} {}\n", shown++, frame_text(frame));
  }
  if (!thread.error.empty()) out += fmt::format("      (unwinding stopped: {})\n", thread.error);
}

std::string excerpt_tail(const OutputExcerpt& e, std::size_t lines) {
  std::string text = e.text();
  std::size_t pos = text.size();
  if (pos && text[pos - 1] == '\n') --pos;
  for (std::size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

}  // namespace

std::string frame_text(const Frame& f) {
  std::string out = f.function.empty() ? "??" : f.function;
  if (!f.file.empty()) out += fmt::format(" at {}:{}", f.file, f.line);
  if (!f.module.empty()) out += fmt::format(" ({}+0x{:x})", base_name(f.module), f.module_offset);
  return out;
}

std::string summary_text(const Outcome& o, const SummaryOptions& options) {
  std::string out = fmt::format("crashgate: {}: {}\n", to_string(o.kind), o.detail);
  if (!o.check.empty() && o.detail.find(o.check) == std::string::npos) out += fmt::format("  check: {}\n", o.check);
  if (o.fault_address) out += fmt::format("  fault address: 0x{:x}\n", *o.fault_address);
  if (o.attribution && !o.attribution->mapping.empty()) out += fmt::format("  mapping: {}\n", o.attribution->mapping);
  for (const auto& step : o.steps)
    out += fmt::format("  step {} {}: {}{}\n", step.index, step.op, to_string(step.status),
                       step.code.empty() ? "" : " (" + step.code + ")");
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size()))
    append_stack(out, o.threads[o.crashing_thread], options.frames_per_thread);
  int others = 0;
  for (int i = 0; i < static_cast<int>(o.threads.size()); ++i) {
    if (i == o.crashing_thread) continue;
    if (others++ == options.other_threads) {
      out += fmt::format("  ... {} more stacks (--json has them all)\n", o.threads.size() - 1 - options.other_threads);
      break;
    }
    append_stack(out, o.threads[i], o.threads[i].role == "thread" ? 3 : options.frames_per_thread);
  }
  if (!o.crash_state.empty()) {
    std::string state = o.crash_state;
    for (auto& c : state)
      if (c == '\n') c = '|';
    out += fmt::format("  crash state: {}\n  signature: {}\n", state, o.signature);
  }
  if (o.known_issue) out += fmt::format("  known issue: {} {} ({})\n", o.known_issue->id, o.known_issue->title,
                                        o.known_issue->url.empty() ? "matched by " + o.known_issue->matched_by
                                                                   : o.known_issue->url);
  if (options.run_figures)
    out += fmt::format("  ran {} ms, peak RSS {} KiB; stdout {} bytes, stderr {} bytes{}\n", o.duration_ms,
                     format_thousands(static_cast<std::uint64_t>(o.peak_rss_kb)),
                     format_thousands(o.stdout_excerpt.total_bytes), format_thousands(o.stderr_excerpt.total_bytes),
                     o.stdout_excerpt.truncated() || o.stderr_excerpt.truncated() ? " (excerpts kept)" : "");
  if (o.kind != OutcomeKind::ok && o.stderr_excerpt.total_bytes > 0 && o.threads.empty()) {
    out += "  stderr (last lines):\n";
    std::string tail = excerpt_tail(o.stderr_excerpt, 5);
    for (std::size_t start = 0; start < tail.size();) {
      auto end = tail.find('\n', start);
      out += "    " + tail.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  for (const auto& note : o.notes) out += fmt::format("  note: {}\n", note);
  if (!o.repro.empty()) out += fmt::format("  repro: {}\n", o.repro);
  return out;
}

}  // namespace crashgate
