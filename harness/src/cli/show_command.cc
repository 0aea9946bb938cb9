// `crashgate show CELL`: one cell of a run, fully explained: what was expected,
// what happened (kind, signal or check, attribution, every stack, the failed
// step, stderr), each rerun, and how to reproduce it.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/recorded_cell.h"
#include "cli/run_commands.h"
#include "crashgate/cli.h"
#include "crashgate/run_directory.h"
#include "crashgate/summary_text.h"

namespace crashgate {
namespace {

constexpr std::size_t kStderrLines = 20;

std::string last_lines(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  if (pos && text[pos - 1] == '\n') --pos;
  for (std::size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    out += indent + text.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string failed_step_text(const Outcome& o) {
  if (!o.failed_step) return "";
  for (const auto& step : o.steps)
    if (step.index == *o.failed_step)
      return fmt::format("step {} ({}) {}{}{}", step.index, step.op, step.status == StepStatus::died ? "died" : "ended in error",
                         step.code.empty() ? "" : ": " + step.code, step.message.empty() ? "" : ": " + step.message);
  return fmt::format("step {}", *o.failed_step);
}

std::string attempt_text(const CellResult& cell, const Attempt& a) {
  std::string out = fmt::format("  verdict    {}\n  expected   {}\n  got        {}\n", to_string(a.verdict),
                                expectation_text(cell.cell.expect), outcome_text(a.outcome));
  for (const auto& why : a.unmet) out += fmt::format("  unmet      {}\n", why);
  if (auto step = failed_step_text(a.outcome); !step.empty()) out += fmt::format("  failed     {}\n", step);
  if (!a.work_dir.empty()) out += fmt::format("  work dir   {}\n", display_path(a.work_dir));
  Outcome o = a.outcome;
  std::string driver_repro = o.repro;
  o.repro.clear();  // the cell's own repro (below) is the one to use: a fresh work directory
  out += indented(summary_text(o), "  ");
  if (o.stderr_excerpt.total_bytes > 0) {
    out += fmt::format("  stderr (last lines of {} bytes):\n", o.stderr_excerpt.total_bytes);
    out += indented(last_lines(o.stderr_excerpt.text(), kStderrLines), "    | ");
  }
  if (!driver_repro.empty()) out += fmt::format("  the driver alone, in that work dir: {}\n", driver_repro);
  return out;
}

std::string show_text(const RecordedCell& recorded) {
  const CellResult& c = recorded.cell();
  std::string params;
  for (const auto& [key, value] : c.cell.params) params += (params.empty() ? "" : ", ") + key + "=" + value;
  std::string out = fmt::format("cell       {}\n", c.cell.id);
  out += fmt::format("scenario   {} ({}){}\n", c.cell.scenario, c.scenario_file, c.summary.empty() ? "" : ": " + c.summary);
  if (!c.origin.empty()) out += fmt::format("origin     {}\n", c.origin);
  if (!c.cell.regression.empty()) out += fmt::format("regression {}\n", c.cell.regression);
  out += fmt::format("run        {} (seed {}), build {}, target {}, seed {}{}\n", recorded.results.run_id,
                     recorded.results.seed, c.cell.build, c.cell.target, c.cell.seed,
                     params.empty() ? "" : ", params " + params);
  out += fmt::format("verdict    {}{}\n", to_string(c.verdict),
                     c.attempts.size() > 1 ? fmt::format(" after {} attempts", c.attempts.size()) : "");
  for (std::size_t k = 0; k < c.attempts.size(); ++k) {
    out += k > 0 ? fmt::format("\nrerun {}:\n", k) : c.attempts.size() > 1 ? "\nfirst run:\n" : "\noutcome:\n";
    out += attempt_text(c, c.attempts[k]);
  }
  out += fmt::format("\nrepro: {}\n", c.repro);
  return out;
}

}  // namespace

void add_show_command(CLI::App& app, int& exit_code) {
  auto cell = std::make_shared<std::string>();
  auto run = std::make_shared<std::string>();
  auto* show = app.add_subcommand("show", "Explain one cell of a run: expectation, outcome, stacks, stderr, repro");
  show->add_option("cell", *cell, "The cell id, or a glob matching exactly one")->required();
  show->add_option("--run", *run, "The run directory or its results.json (default: BUILD_ROOT/reports/latest)")
      ->type_name("DIR");
  show->footer(fmt::format("Exit status: 0 shown, {} usage, an unreadable run, or no such cell (close matches are named).", kExitUsage));
  show->callback([cell, run, &exit_code] {
    auto recorded = find_recorded_cell(*cell, *run, "show");
    if (!recorded) {
      exit_code = kExitUsage;
      return;
    }
    std::cout << show_text(*recorded);
    exit_code = 0;
  });
}

}  // namespace crashgate
