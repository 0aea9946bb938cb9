// `crashgate gate [RESULTS]`: blocks a change when a run holds something new —
// a cell that fails where the baseline had it passing, a crash signature that
// neither the baseline nor the known issues hold, a regression the catalog let
// escape. Failures are rerun first; one that passes a rerun is flaky.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/count_check.h"
#include "cli/gate_commands.h"
#include "cli/interrupt.h"
#include "cli/recorded_cell.h"
#include "crashgate/cell_rerun.h"
#include "crashgate/cli.h"
#include "crashgate/triage.h"
#include "crashgate/gate_decision.h"
#include "crashgate/run_directory.h"
#include "crashgate/summary_markdown.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultBaseline = "reports/baseline.json";
constexpr const char* kNoBaseline = "none";

struct GateCommandOptions {
  std::string results;
  std::string baseline = kDefaultBaseline;
  std::string known_issues;
  std::string matrix;
  std::string build_root;
  int rerun_failures = 2;
  unsigned jobs = 0;
  bool strict = false;
};

// The directory a results path names: itself, or the one holding results.json.
std::string run_dir_of(const std::string& results) {
  std::error_code ec;
  fs::path dir = fs::is_directory(results, ec) ? fs::path(results) : fs::path(results).parent_path();
  auto canonical = fs::canonical(dir.empty() ? fs::path(".") : dir, ec);
  return ec ? dir.string() : canonical.string();
}

// Reruns each new failure that failed (not one crashgate could not run) up to
// `reruns` times; a pass makes it flaky. Returns false when interrupted.
bool rerun_new_failures(RunResults& results, const std::string& run_dir, const GateCommandOptions& options,
                        const KnownIssues* known, const GateDecision& first) {
  std::vector<std::size_t> pending;
  for (const auto& g : first.new_failures)
    if (results.cells[g.index].verdict == Verdict::fail) pending.push_back(g.index);
  if (pending.empty() || options.rerun_failures <= 0) return true;
  std::cout << fmt::format("crashgate gate: rerunning {} new {} up to {} times before they block\n", pending.size(),
                           pending.size() == 1 ? "failure" : "failures", options.rerun_failures);
  std::cout.flush();
  Cancellation cancellation;
  InterruptGuard guard(cancellation);
  for (int round = 1; round <= options.rerun_failures && !pending.empty(); ++round) {
    std::vector<CellRerun> reruns;
    for (std::size_t i : pending) {
      const CellResult& cell = results.cells[i];
      reruns.push_back({&cell, rerun_driver(cell, options.build_root),
                        fmt::format("{}/cells/{}/gate-rerun-{}", run_dir, i, round)});
    }
    auto attempts = rerun_cells(reruns, options.jobs, RunContext{&cancellation, known});
    if (cancellation.cancelled()) return false;
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      CellResult& cell = results.cells[pending[k]];
      bool passed = attempts[k].verdict == Verdict::pass;
      std::cout << fmt::format("  rerun {}: {} {}\n", round, cell.cell.id, passed ? "passed (flaky)" : to_string(attempts[k].verdict));
      cell.attempts.push_back(std::move(attempts[k]));
      if (passed)
        cell.verdict = Verdict::flaky;
      else
        still.push_back(pending[k]);
    }
    pending = std::move(still);
  }
  return true;
}

int gate(const GateCommandOptions& options) {
  std::string results_path = options.results.empty() ? latest_run_dir() : options.results;
  std::string error;
  auto results = load_results(results_path);
  if (!results) {
    std::cerr << "crashgate gate: " << results.error() << "\n";
    return kExitUsage;
  }
  std::string run_dir = run_dir_of(results_path);

  std::optional<Baseline> baseline;
  if (options.baseline != kNoBaseline) {
    auto loaded = load_baseline(options.baseline);
    if (!loaded) {
      std::cerr << "crashgate gate: " << loaded.error();
      if (!fs::exists(options.baseline))
        std::cerr << fmt::format(" (write one from a run with `crashgate baseline update RESULTS --out {}`, "
                                 "or gate without one: --baseline none, and every failure is new)",
                                 options.baseline);
      std::cerr << "\n";
      return kExitUsage;
    }
    baseline = std::move(*loaded);
  }

  std::optional<KnownIssues> known;
  std::string known_path = options.known_issues;
  if (known_path.empty() && fs::exists(kDefaultKnownIssues)) known_path = kDefaultKnownIssues;
  if (!known_path.empty()) {
    auto loaded = KnownIssues::load(known_path);
    if (!loaded) {
      std::cerr << "crashgate gate: --known-issues: " << loaded.error() << "\n";
      return kExitUsage;
    }
    known = std::move(*loaded);
  }

  GateOptions gate_options;
  gate_options.baseline = baseline ? &*baseline : nullptr;
  gate_options.known_issues = known ? &*known : nullptr;
  gate_options.strict = options.strict;
  std::string matrix_path = options.matrix;
  if (matrix_path.empty() && fs::exists(run_dir + "/" + kMatrixFile)) matrix_path = run_dir + "/" + kMatrixFile;
  if (!matrix_path.empty()) {
    Checked<DetectionMatrix> matrix = load_detection_matrix(matrix_path);
    if (!matrix) {
      std::cerr << "crashgate gate: --matrix: " << matrix.error() << "\n";
      return kExitUsage;
    }
    gate_options.regressions = matrix->regressions;
  }

  GateDecision decision = decide_gate(*results, gate_options);
  if (!rerun_new_failures(*results, run_dir, options, gate_options.known_issues, decision)) {
    std::cerr << "crashgate gate: interrupted while rerunning failures; no verdict\n";
    return kExitInterrupted;
  }
  decision = decide_gate(*results, gate_options);

  SummaryMarkdownOptions summary;
  summary.title = "crashgate gate";
  summary.baseline_path = baseline ? options.baseline : "";
  summary.run_dir = display_path(run_dir);
  std::string text = summary_markdown(*results, decision, summary);
  std::cout << text;
  if (auto written = write_summary_markdown(run_dir, text); !written)
    std::cerr << "crashgate gate: " << written.error() << "\n";
  else
    std::cout << fmt::format("summary: {}/{}\n", display_path(run_dir), kSummaryFile);
  return decision.blocks() ? kExitCellsFailed : 0;
}

std::string gate_exit_codes_footer() {
  return fmt::format(
      "Exit status:\n"
      "    0  nothing new: no new failure, no new crash signature, no escaped regression (flaky cells are listed)\n"
      "  {:>3}  blocked: a new failure, a new crash signature, an escaped regression, or (--strict) a flaky cell\n"
      "  {:>3}  usage, or a results, baseline, known-issues or matrix file that cannot be read\n"
      "  {:>3}  interrupted while rerunning failures\n",
      kExitCellsFailed, kExitUsage, kExitInterrupted);
}

}  // namespace

void add_gate_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<GateCommandOptions>();
  auto* cmd = app.add_subcommand("gate", "Decide whether a run may merge: block new failures, new crash signatures "
                                         "and escaped regressions; rewrite its summary.md");
  cmd->footer(gate_exit_codes_footer());
  cmd->add_option("results", options->results,
                  "A run directory or its results.json (default: BUILD_ROOT/reports/latest)")
      ->type_name("RESULTS");
  cmd->add_option("--baseline", options->baseline,
                  fmt::format("The accepted state (default {}); 'none': no baseline, every failure is new. "
                              "A missing file is an error", kDefaultBaseline))
      ->type_name("FILE");
  cmd->add_option("--known-issues", options->known_issues,
                  fmt::format("Crashes that do not block (default: {} when present)", kDefaultKnownIssues))
      ->type_name("FILE");
  cmd->add_option("--matrix", options->matrix,
                  "The regression matrix (crashgate.matrix/1; default: the run directory's matrix.json when present): "
                  "a regression not caught blocks")
      ->type_name("FILE");
  cmd->add_option("--rerun-failures", options->rerun_failures,
                  "Rerun each new failure up to N times (as `crashgate repro` does) before it blocks; one that "
                  "passes is flaky, unless it crashed with a signature the baseline and known issues lack: a new "
                  "crash blocks however its reruns go (default 2)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--strict", options->strict, "Flaky cells block too");
  cmd->add_option("-j,--jobs", options->jobs, "Reruns at a time (default: the number of CPUs)")->check(positive_count());
  cmd->add_option("--build-root", options->build_root,
                  "Rerun with drivers from BUILD_ROOT/<build>/bin (default: $CRASHGATE_BUILD_ROOT, else the drivers "
                  "the run used)")
      ->type_name("DIR");
  cmd->callback([options, &exit_code] { exit_code = gate(*options); });
}

}  // namespace crashgate
