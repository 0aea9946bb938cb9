// `crashgate repro CELL`: runs one cell of an earlier run again, exactly as it
// ran (seed, params, steps, limits, build) but in a fresh work directory, in
// the foreground; --gdb hands the driver to gdb instead.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/interrupt.h"
#include "cli/recorded_cell.h"
#include "cli/run_commands.h"
#include "crashgate/cell_rerun.h"
#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/run_matrix.h"
#include "crashgate/summary_text.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

struct ReproOptions {
  std::string cell;
  std::string run;
  std::string build_root;
  bool gdb = false;
};

// gdb replaces crashgate, so the terminal is gdb's. Limits that would cripple
// gdb itself (address space, CPU) are left to the user, and said so.
int exec_gdb(const RunSpec& spec) {
  std::vector<std::string> argv = {"gdb", "-q", "-ex", "run", "--args"};
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  std::string shown;
  for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + shell_quote(a);
  std::cout << fmt::format("crashgate repro: cd {} && {}\n", shell_quote(spec.work_dir), shown);
  if (spec.limits.address_space || spec.limits.cpu)
    std::cout << "crashgate repro: the cell's address-space and CPU limits are not applied under gdb\n";
  std::cout.flush();
  for (const auto& [key, value] : spec.env) setenv(key.c_str(), value.c_str(), 1);
  if (spec.limits.worker_stack) {
    setenv("CRASHGATE_WORKER_STACK", std::to_string(*spec.limits.worker_stack).c_str(), 1);
    setenv("RUST_MIN_STACK", std::to_string(*spec.limits.worker_stack).c_str(), 1);
  }
  setenv("CRASHGATE_EVENT_FD", "-1", 1);  // no event pipe: the driver reports nothing, gdb shows everything
  if (spec.limits.stack) {
    rlimit limit{*spec.limits.stack, *spec.limits.stack};
    setrlimit(RLIMIT_STACK, &limit);
  }
  if (chdir(spec.work_dir.c_str()) != 0) {
    std::cerr << fmt::format("crashgate repro: cannot enter {}: {}\n", spec.work_dir, std::strerror(errno));
    return kExitHarnessError;
  }
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  execvp("gdb", raw.data());
  std::cerr << fmt::format("crashgate repro: cannot start gdb: {} (Debian: apt-get install gdb)\n", std::strerror(errno));
  return kExitHarnessError;
}

int repro(const ReproOptions& options) {
  auto recorded = find_recorded_cell(options.cell, options.run, "repro");
  if (!recorded) return kExitUsage;
  const CellResult& cell = recorded->cell();
  std::string driver = rerun_driver(cell, options.build_root);
  std::string work_dir = fmt::format("{}/repro/{}", recorded->run_dir, recorded->index);
  if (options.gdb) {
    if (auto missing = missing_driver_message(driver, cell.cell.build, cell.cell.target)) {
      std::cerr << "crashgate repro: " << *missing << "\n";
      return kExitHarnessError;
    }
    auto spec = attempt_spec(cell.cell, driver, work_dir);
    if (!spec) {
      std::cerr << "crashgate repro: " << spec.error() << "\n";
      return kExitHarnessError;
    }
    return exec_gdb(*spec);
  }

  std::cout << fmt::format("crashgate repro: {} (seed {}) in {}\n", cell.cell.id, cell.cell.seed, work_dir);
  std::cout.flush();
  std::optional<KnownIssues> known;
  if (std::filesystem::exists(kDefaultKnownIssues))
    if (auto loaded = KnownIssues::load(kDefaultKnownIssues)) known = std::move(*loaded);
  Cancellation cancellation;
  Attempt attempt;
  {
    InterruptGuard guard(cancellation);
    attempt = std::move(rerun_cells({CellRerun{&cell, driver, work_dir}}, 1,
                                    RunContext{&cancellation, known ? &*known : nullptr}).front());
  }
  if (attempt.outcome.kind == OutcomeKind::harness_error && attempt.work_dir.empty()) {
    std::cerr << "crashgate repro: " << attempt.outcome.detail << "\n";
    return kExitHarnessError;
  }
  std::cout << summary_text(attempt.outcome);
  std::cout << fmt::format("expected {}, got {}: {}\n", expectation_text(cell.cell.expect),
                           outcome_text(attempt.outcome), to_string(attempt.verdict));
  for (const auto& why : attempt.unmet) std::cout << "  unmet: " << why << "\n";
  switch (attempt.verdict) {
    case Verdict::pass: return 0;
    case Verdict::fail: return kExitCellsFailed;
    case Verdict::not_run: return kExitInterrupted;
    default: return kExitHarnessError;
  }
}

}  // namespace

void add_repro_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReproOptions>();
  auto* repro_cmd = app.add_subcommand("repro", "Run one cell of a run again, exactly, in the foreground (or under gdb)");
  repro_cmd->add_option("cell", options->cell, "The cell id, or a glob matching exactly one")->required();
  repro_cmd->add_option("--run", options->run, "The run directory or its results.json (default: BUILD_ROOT/reports/latest)")
      ->type_name("DIR");
  repro_cmd->add_option("--build-root", options->build_root,
                        "Take the driver from BUILD_ROOT/<build>/bin (default: $CRASHGATE_BUILD_ROOT, else the driver the run used)")
      ->type_name("DIR");
  repro_cmd->add_flag("--gdb", options->gdb, "Start the driver under gdb with the cell's cell.json (gdb runs it at once)");
  repro_cmd->footer(fmt::format("Exit status: 0 the cell met its expectation, {} it did not, {} usage errors, "
                                "{} crashgate could not run it, {} interrupted.",
                                kExitCellsFailed, kExitUsage, kExitHarnessError, kExitInterrupted));
  repro_cmd->callback([options, &exit_code] { exit_code = repro(*options); });
}

}  // namespace crashgate
