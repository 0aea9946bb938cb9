#include "cli/run_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace crashgate {
namespace {

std::string headline(const Outcome& o) { return fmt::format("{}: {}", to_string(o.kind), o.detail); }

std::string seconds(std::int64_t ms) { return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000); }

void append_cell_details(std::string& out, const CellResult& cell) {
  const Attempt& first = cell.attempts.front();
  out += fmt::format("  {}  ({})\n", cell.cell.id, cell.scenario_file);
  out += fmt::format("    expected  {}\n", expectation_text(cell.cell.expect));
  out += fmt::format("    got       {}\n", headline(first.outcome));
  for (const auto& why : first.unmet) out += fmt::format("    unmet     {}\n", why);
  for (std::size_t k = 1; k < cell.attempts.size(); ++k)
    out += fmt::format("    rerun {}   {}: {}\n", k, to_string(cell.attempts[k].verdict), outcome_text(cell.attempts[k].outcome));
  if (!first.outcome.signature.empty()) out += fmt::format("    signature {}\n", first.outcome.signature);
  if (first.outcome.known_issue)
    out += fmt::format("    known     {} {}\n", first.outcome.known_issue->id, first.outcome.known_issue->title);
  out += fmt::format("    repro     {}\n", cell.repro);
}

// A missing driver fails every cell of its build alike: one entry per reason, not per cell.
void append_harness_errors(std::string& out, const RunResults& r) {
  std::vector<std::pair<std::string, std::vector<std::string>>> by_reason;
  for (const auto& cell : r.cells) {
    if (cell.verdict != Verdict::harness_error || cell.attempts.empty()) continue;
    const std::string& why = cell.attempts.front().outcome.detail;
    auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](const auto& entry) { return entry.first == why; });
    if (it == by_reason.end()) it = by_reason.insert(by_reason.end(), {why, {}});
    it->second.push_back(cell.cell.id);
  }
  for (const auto& [why, ids] : by_reason) {
    out += fmt::format("  {}\n", why);
    for (std::size_t n = 0; n < ids.size() && n < 5; ++n) out += fmt::format("    {}\n", ids[n]);
    if (ids.size() > 5) out += fmt::format("    ... and {} more cells\n", ids.size() - 5);
  }
}

}  // namespace

bool is_terminal(std::FILE* out) { return isatty(fileno(out)) == 1; }

int terminal_width(std::FILE* out) {
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 80;
}

std::string ellipsize_middle(const std::string& text, std::size_t width) {
  if (text.size() <= width || width < 5) return text;
  std::size_t keep = width - 1;
  std::size_t tail = keep / 2;
  return text.substr(0, keep - tail) + "\u2026" + text.substr(text.size() - tail);
}

std::string attempt_line(const CellResult& cell, const Attempt& attempt) {
  std::string line = fmt::format("{:<13} {}  {}", to_string(attempt.verdict), cell.cell.id, outcome_text(attempt.outcome));
  if (attempt.verdict == Verdict::fail) line += fmt::format(" (expected {})", expectation_text(cell.cell.expect));
  if (attempt.verdict == Verdict::harness_error) line += ": " + attempt.outcome.detail;
  return line + fmt::format("  {} ms", attempt.outcome.duration_ms);
}

RunProgress::RunProgress(std::FILE* out, bool live, int width, std::size_t total)
    : out_(out), live_(live), width_(width), total_(total) {}

void RunProgress::print_line(const std::string& line) {
  if (live_) std::fputs("\r\033[K", out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
}

void RunProgress::attempt_done(const CellResult& cell, const Attempt& attempt) {
  bool rerun = cell.attempts.size() > 1;
  if (!rerun) ++done_;
  if (!rerun && attempt.verdict == Verdict::fail) ++failed_;
  if (!rerun && attempt.verdict == Verdict::harness_error) ++harness_errors_;
  if (rerun && cell.verdict == Verdict::flaky) --failed_;
  std::string prefix = rerun ? fmt::format("[rerun {}]", cell.attempts.size() - 1)
                             : fmt::format("[{:>{}}/{}]", done_, std::to_string(total_).size(), total_);
  std::string line = prefix + " " + attempt_line(cell, attempt);
  if (rerun && cell.verdict == Verdict::flaky) line += "  -> flaky";
  // A terminal keeps only problems on screen; a log keeps everything.
  if (!live_ || attempt.verdict != Verdict::pass || rerun) print_line(line);
  if (live_) {
    std::string status = fmt::format("[{}/{}] {} failed \u00b7 ", done_, total_, failed_);
    if (harness_errors_) status += fmt::format("{} harness errors \u00b7 ", harness_errors_);
    std::string what = cell.cell.id + " " + outcome_text(attempt.outcome);
    std::size_t columns = status.size() - (harness_errors_ ? 2 : 1);  // each '·' is two bytes, one column
    std::size_t room = static_cast<std::size_t>(width_) > columns + 10 ? width_ - columns - 1 : 10;
    std::fputs(("\r\033[K" + status + ellipsize_middle(what, room)).c_str(), out_);
  }
  std::fflush(out_);
}

void RunProgress::finish() {
  if (live_) std::fputs("\r\033[K", out_);
  std::fflush(out_);
}

std::string run_summary(const RunResults& r) {
  auto counts = r.counts();
  std::string tally;
  for (const auto& info : verdicts())
    if (counts[info.verdict] > 0) tally += fmt::format("{}{} {}", tally.empty() ? "" : " \u00b7 ", counts[info.verdict], info.name);
  std::string out = fmt::format("crashgate run: {} cells in {} (seed {}, -j {}{}): {}\n", r.cells.size(),
                                seconds(r.duration_ms), r.seed, r.jobs,
                                r.rerun_failures ? fmt::format(", --rerun-failures {}", r.rerun_failures) : "",
                                tally.empty() ? "nothing ran" : tally);
  struct Section {
    Verdict verdict;
    const char* title;
  };
  for (auto [verdict, title] : {Section{Verdict::fail, "failed"}, Section{Verdict::flaky, "flaky (met the expectation on a rerun)"},
                                Section{Verdict::harness_error, "harness errors (crashgate could not run these)"}}) {
    if (counts[verdict] == 0) continue;
    out += fmt::format("{}:\n", title);
    if (verdict == Verdict::harness_error) {
      append_harness_errors(out, r);
      continue;
    }
    for (const auto& cell : r.cells)
      if (cell.verdict == verdict) append_cell_details(out, cell);
  }
  if (counts[Verdict::not_run] > 0)
    out += fmt::format("interrupted: {} cells did not finish\n", counts[Verdict::not_run]);
  return out;
}

}  // namespace crashgate
