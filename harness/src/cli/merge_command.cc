// `crashgate merge OUT RESULTS...`: shard results joined into OUT/results.json.
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/gate_commands.h"
#include "crashgate/utc_time.h"
#include "crashgate/cli.h"
#include "crashgate/results_merge.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

struct MergeOptions {
  std::string out;
  std::vector<std::string> inputs;
  std::vector<std::string> command_line;
};


int merge(const MergeOptions& options) {
  std::vector<RunResults> runs;
  for (const auto& input : options.inputs) {
    auto results = load_results(input);
    if (!results) {
      std::cerr << "crashgate merge: " << results.error() << "\n";
      return kExitUsage;
    }
    runs.push_back(std::move(*results));
  }
  auto merged = merge_results(runs);
  if (!merged) {
    std::cerr << "crashgate merge: " << merged.error() << "\n";
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(options.out, ec);
  if (ec) {
    std::cerr << fmt::format("crashgate merge: cannot create {}: {}\n", options.out, ec.message());
    return kExitHarnessError;
  }
  std::string out_dir = fs::canonical(options.out, ec).string();
  merged->run_id = "merged-" + utc_now("%Y%m%dT%H%M%SZ");
  merged->run_dir = out_dir;
  merged->started_at = utc_now();
  merged->command_line = options.command_line;
  // Each cell's repro now names the merged run, which holds it (--build-root points at the drivers).
  std::string program = options.command_line.empty() ? "crashgate" : options.command_line.front();
  for (auto& cell : merged->cells) cell.repro = cell_repro_command(program, cell.cell.id, display_path(out_dir));
  if (auto written = write_results(*merged, out_dir); !written) {
    std::cerr << "crashgate merge: " << written.error() << "\n";
    return kExitHarnessError;
  }
  auto counts = merged->counts();
  std::cout << fmt::format("merged {} runs, {} cells ({} pass, {} flaky, {} fail, {} harness-error, {} not-run) into {}/{}\n",
                           runs.size(), merged->cells.size(), counts[Verdict::pass], counts[Verdict::flaky],
                           counts[Verdict::fail], counts[Verdict::harness_error], counts[Verdict::not_run],
                           display_path(out_dir), kResultsFile);
  return 0;
}

}  // namespace

void add_merge_command(CLI::App& app, int& exit_code, std::vector<std::string> command_line) {
  auto options = std::make_shared<MergeOptions>();
  options->command_line = std::move(command_line);
  auto* cmd = app.add_subcommand("merge", "Join the results of several runs (shards) into OUT/results.json");
  cmd->add_option("out", options->out, "The directory to write results.json into (created)")->required()->type_name("OUT");
  cmd->add_option("results", options->inputs, "Run directories or results.json files, one per shard")
      ->required()
      ->type_name("RESULTS");
  cmd->footer(fmt::format("Exit status: 0 merged (whatever the cells' verdicts: `crashgate gate OUT` judges them), "
                          "{} usage, an unreadable input, a schema mismatch, or a cell in two runs with different "
                          "verdicts, {} OUT could not be written.",
                          kExitUsage, kExitHarnessError));
  cmd->callback([options, &exit_code] { exit_code = merge(*options); });
}

}  // namespace crashgate
