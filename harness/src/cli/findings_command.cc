// `crashgate findings RUN... [--fuzz-run DIR...]`: what crashgate found in each
// engine, from scenario and fuzz runs, as OUT/<engine>.md and .json
// (findings.h). Exit: 0 written (whatever was found: the gate is what blocks),
// 2 a missing or invalid input, 3 a file could not be written.
#include "cli/findings_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "crashgate/cli.h"
#include "crashgate/findings.h"
#include "crashgate/run_directory.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;


struct FindingsOptions {
  std::vector<std::string> runs;
  std::vector<std::string> fuzz_runs;
  std::string out = "reports/findings";
  std::string known_issues;
  std::vector<std::string> engines;
};

// A fuzz finding's minimized input, copied beside the findings so that the
// repro command works from a clean checkout: OUT/<engine>/<signature>.input.
CheckedDone keep_input(Finding& f, const std::string& out, const std::string& engine, const std::string& target) {
  if (f.input.empty()) return done();
  fs::path dir = fs::path(out) / engine;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path kept = dir / (f.signature + ".input");
  fs::copy_file(f.input, kept, fs::copy_options::overwrite_existing, ec);
  if (ec) return failure(fmt::format("{}: cannot copy the minimized input to {}: {}", f.input, kept.string(), ec.message()));
  f.input = kept.string();
  f.repro = fmt::format("build/release/fuzz/{}_replay {}", target, f.input);
  return done();
}

int findings_command(const FindingsOptions& o) {
  std::optional<KnownIssues> known;
  std::string known_path = o.known_issues.empty() && fs::exists(kDefaultKnownIssues) ? kDefaultKnownIssues : o.known_issues;
  if (!known_path.empty()) {
    auto loaded = KnownIssues::load(known_path);
    if (!loaded) {
      std::cerr << "crashgate findings: " << loaded.error() << "\n";
      return kExitUsage;
    }
    known = std::move(*loaded);
  }
  std::vector<FindingsInput> inputs;
  for (const auto* list : {&o.runs, &o.fuzz_runs})
    for (const std::string& run : *list) {
      auto results = load_results(run);
      if (!results) {
        std::cerr << "crashgate findings: " << results.error() << "\n";
        return kExitUsage;
      }
      // Matched again against the known issues as they are now, as the gate does.
      for (CellResult& cell : results->cells)
        for (Attempt& a : cell.attempts)
          if (!a.outcome.crash_state.empty()) a.outcome.known_issue = known ? known->match(a.outcome, cell.cell.id) : std::nullopt;
      inputs.push_back({std::move(*results), run});
    }
  auto by_engine = collect_findings(inputs, fs::current_path().string());
  for (const auto& engine : o.engines)
    if (!by_engine.count(engine)) {
      std::cerr << fmt::format("crashgate findings: --engine {}: no cell of that engine in the runs given\n", engine);
      return kExitUsage;
    }
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) {
    std::cerr << fmt::format("crashgate findings: cannot create {}: {}\n", o.out, ec.message());
    return kExitHarnessError;
  }
  for (auto& [engine, ef] : by_engine) {
    if (!o.engines.empty() && std::find(o.engines.begin(), o.engines.end(), engine) == o.engines.end()) continue;
    for (Finding& f : ef.findings) {
      if (f.known_issue && known)
        if (const auto* issue = known->find(f.known_issue->id)) f.upstream = issue->upstream;
      std::string target = f.fault_classes.empty() ? "" : f.fault_classes.front();
      if (target.rfind("fuzz:", 0) == 0)
        if (auto kept = keep_input(f, o.out, engine, target.substr(5)); !kept) {
          std::cerr << "crashgate findings: " << kept.error() << "\n";
          return kExitHarnessError;
        }
    }
    std::string base = (fs::path(o.out) / engine).string();
    if (auto w = write_file_atomically(base + ".json", to_json(ef).dump(2) + "\n"); !w) {
      std::cerr << "crashgate findings: " << w.error() << "\n";
      return kExitHarnessError;
    }
    if (auto w = write_file_atomically(base + ".md", findings_markdown(ef)); !w) {
      std::cerr << "crashgate findings: " << w.error() << "\n";
      return kExitHarnessError;
    }
    int known_count = 0;
    for (const Finding& f : ef.findings) known_count += f.known_issue.has_value();
    std::cout << fmt::format("{}: {} cells, {} distinct crashes ({} known, {} new) -> {}.md\n", engine, ef.cells,
                             ef.findings.size(), known_count, ef.findings.size() - known_count, display_path(base));
  }
  return 0;
}

}  // namespace

void add_findings_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<FindingsOptions>();
  auto* cmd = app.add_subcommand("findings", "Write what crashgate found in each engine (OUT/<engine>.md and .json) from runs");
  cmd->footer(fmt::format(
      "Each distinct crash (one signature) of each engine, across the runs: how it shows, where it faulted, the "
      "smallest cell or minimized fuzz input that reproduces it, the command that does, the fault classes that "
      "found it, and the known issue it is filed as (with what reports/known-issues.toml says of it upstream). "
      "A fuzz crash belongs to the engine its target is named after (lmdb_open: lmdb).\n\n"
      "Exit status:\n"
      "    0  the findings were written (whatever they hold: `crashgate gate` is what blocks)\n"
      "  {:>3}  usage, or a run or the known-issues file cannot be read (the message names it)\n"
      "  {:>3}  a findings file could not be written\n",
      kExitUsage, kExitHarnessError));
  cmd->add_option("RUN", options->runs, "Scenario run directories (build/reports/latest) or their results.json")->type_name("RUN");
  cmd->add_option("--fuzz-run", options->fuzz_runs, "`crashgate fuzz` run directories (build/reports/fuzz/<run>)")->type_name("DIR");
  cmd->add_option("--out", options->out, "Where to write <engine>.md and <engine>.json (default reports/findings)")->type_name("DIR");
  cmd->add_option("--known-issues", options->known_issues,
                  fmt::format("Match crashes against this file (default: {} when present)", kDefaultKnownIssues))
      ->type_name("FILE");
  cmd->add_option("--engine", options->engines, "Only these engines (comma-separated)")->delimiter(',')->type_name("ENGINE");
  cmd->callback([options, &exit_code] {
    if (options->runs.empty() && options->fuzz_runs.empty()) {
      std::cerr << "crashgate findings: name at least one RUN or --fuzz-run DIR\n";
      exit_code = kExitUsage;
      return;
    }
    exit_code = findings_command(*options);
  });
}

}  // namespace crashgate
