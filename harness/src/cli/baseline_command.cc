// `crashgate baseline update [RESULTS]`: the gate's baseline from a run.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/gate_commands.h"
#include "cli/recorded_cell.h"
#include "crashgate/baseline.h"
#include "crashgate/cli.h"
#include "crashgate/run_directory.h"

namespace crashgate {
namespace {

struct BaselineOptions {
  std::string results;
  std::string out = "reports/baseline.json";
};

int update_baseline(const BaselineOptions& options) {
  std::string path = options.results.empty() ? latest_run_dir() : options.results;
  auto results = load_results(path);
  if (!results) {
    std::cerr << "crashgate baseline update: " << results.error() << "\n";
    return kExitUsage;
  }
  if (results->interrupted) {
    std::cerr << fmt::format("crashgate baseline update: run {} was interrupted; a baseline must come from a whole run\n",
                             results->run_id);
    return kExitUsage;
  }
  if (results->change && !results->change->skipped.empty()) {
    std::cerr << fmt::format("crashgate baseline update: run {} is a change-aware selection ({}); a baseline from it "
                             "would forget the {} cells it skipped: write one from a whole run (`crashgate run --all`)\n",
                             results->run_id, results->change->headline(), results->change->skipped.size());
    return kExitUsage;
  }
  Baseline baseline = baseline_from_results(*results);
  if (auto written = write_baseline(baseline, options.out); !written) {
    std::cerr << "crashgate baseline update: " << written.error() << "\n";
    return kExitHarnessError;
  }
  std::size_t failing = 0;
  for (const auto& c : baseline.cells) failing += !met(c.verdict);
  std::cout << fmt::format("wrote {}: {} cells from run {} ({} not passing), {} crash {}\n", options.out,
                           baseline.cells.size(), results->run_id, failing, baseline.signatures.size(),
                           baseline.signatures.size() == 1 ? "signature" : "signatures");
  return 0;
}

}  // namespace

void add_baseline_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BaselineOptions>();
  auto* baseline = app.add_subcommand("baseline", "The gate's baseline (reports/baseline.json)");
  baseline->require_subcommand(1);
  auto* update = baseline->add_subcommand("update", "Write the baseline from a run: each cell's verdict and the crash "
                                                    "signatures of its failures, sorted");
  update->add_option("results", options->results, "A run directory or its results.json (default: BUILD_ROOT/reports/latest)")
      ->type_name("RESULTS");
  update->add_option("--out", options->out, "Where to write it (default reports/baseline.json)")->type_name("FILE");
  std::string footer = fmt::format("Exit status: 0 written, {} usage or an unreadable or interrupted run, {} the file "
                                   "could not be written.",
                                   kExitUsage, kExitHarnessError);
  update->footer(footer);
  baseline->footer(footer);
  update->callback([options, &exit_code] { exit_code = update_baseline(*options); });
}

}  // namespace crashgate
