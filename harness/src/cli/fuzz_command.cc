#include "cli/fuzz_command.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/count_check.h"
#include "cli/coverage_command.h"
#include "cli/interrupt.h"
#include "cli/run_progress.h"
#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/limits.h"
#include "crashgate/run_directory.h"
#include "fuzz/crash_promotion.h"
#include "fuzz/fuzz_campaign.h"
#include "fuzz/fuzz_report.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

struct FuzzCommandOptions {
  std::vector<std::string> targets;
  bool all = false;
  std::string time = "8h";
  unsigned jobs = 1;
  bool fork = false;
  std::string regression;
  std::string out;
  std::string seed;
  std::string build_root;
  std::string fuzzer_dir;
  std::string corpora;
  std::string corpus;
  std::string minimize_time = "60s";
  bool no_merge = false;
  bool until_crash = false;
  std::string promote;
  std::vector<std::string> command_line;
};

std::string fuzz_footer() {
  return fmt::format(
      "Exit status: 0 no crash; {} crashes found (see OUT/report.md); {} bad command line; {} crashgate could not fuzz; "
      "{} interrupted (the report is still written).\n"
      "Each distinct crash (by signature) gets OUT/crashes/<target>-<signature>/: input, minimized, diagnosis.txt,\n"
      "result.json, repro.sh. Once fixed, `crashgate fuzz --promote DIR` copies its minimized input to\n"
      "corpora/<target>/regressions/<signature>, which `ctest -L fuzz-corpus` replays in every build.",
      kExitCellsFailed, kExitUsage, kExitHarnessError, kExitInterrupted);
}

// crashgate's argv, for the report (the CLI's parser keeps no copy).
std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> out;
  std::string arg;
  while (std::getline(in, arg, '\0')) out.push_back(arg);
  return out;
}

int promote_command(const FuzzCommandOptions& o, const std::string& corpora) {
  auto p = promote_crash(o.promote, corpora);
  if (!p) {
    std::cerr << "crashgate fuzz --promote: " << p.error() << "\n";
    return kExitUsage;
  }
  if (p->already_there)
    std::cout << fmt::format("{}: already promoted (same bytes)\n", display_path(p->destination));
  else
    std::cout << fmt::format("promoted crash {} of {} to {}; `ctest -L fuzz-corpus` replays it from now on\n", p->signature,
                             p->target, display_path(p->destination));
  return 0;
}

int fuzz_command(FuzzCommandOptions& o) {
  std::string build_root = o.build_root.empty() ? default_build_root() : o.build_root;
  std::string source_root = fs::absolute(build_root).parent_path().string();
  std::string corpora = o.corpora.empty() ? source_root + "/corpora" : o.corpora;
  if (!o.promote.empty()) {
    if (!o.targets.empty() || o.all) {
      std::cerr << "crashgate fuzz: --promote takes a crash directory and no --target/--all\n";
      return kExitUsage;
    }
    return promote_command(o, corpora);
  }
  FuzzOptions f;
  f.corpora_dir = corpora;
  std::vector<std::string> known = known_fuzz_targets(corpora);
  if (o.all == !o.targets.empty()) {
    std::cerr << fmt::format("crashgate fuzz: name targets with --target T (one or more) or --all; targets: {}\n", fmt::join(known, ", "));
    return kExitUsage;
  }
  f.targets = o.all ? known : o.targets;
  for (const std::string& t : f.targets) {
    if (std::find(known.begin(), known.end(), t) == known.end()) {
      std::cerr << fmt::format("crashgate fuzz: --target: unknown target '{}'; {} has: {}\n", t, corpora, fmt::join(known, ", "));
      return kExitUsage;
    }
  }
  auto time = parse_duration(o.time);
  if (!time || time->count() < 1000) {
    std::cerr << fmt::format("crashgate fuzz: --time: '{}' is not a duration of at least 1s (e.g. 90s, 10m, 8h)\n", o.time);
    return kExitUsage;
  }
  f.time = *time;
  auto minimize = parse_duration(o.minimize_time);
  if (!minimize || minimize->count() < 1000) {
    std::cerr << fmt::format("crashgate fuzz: --minimize-time: '{}' is not a duration of at least 1s\n", o.minimize_time);
    return kExitUsage;
  }
  f.minimize_time = std::chrono::duration_cast<std::chrono::seconds>(*minimize);
  if (!o.seed.empty()) {
    auto seed = parse_count(o.seed);
    if (!seed || *seed > 0xffffffffu) {
      std::cerr << fmt::format("crashgate fuzz: --seed: '{}' is not a number from 0 to 4294967295 (libFuzzer's -seed)\n", o.seed);
      return kExitUsage;
    }
    f.seed = *seed;
  }
  if (!o.regression.empty()) {
    for (char c : o.regression)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ',')) {
        std::cerr << fmt::format("crashgate fuzz: --regression: '{}' is not a regression id list (`crashgate regressions` lists them)\n", o.regression);
        return kExitUsage;
      }
  }
  f.regression = o.regression;
  f.jobs = o.jobs;
  f.fork = o.fork;
  f.merge = !o.no_merge;
  f.until_crash = o.until_crash;
  f.fuzzer_dir = o.fuzzer_dir.empty() ? build_root + "/fuzz/fuzz" : o.fuzzer_dir;
  f.corpus_dir = fs::absolute(o.corpus.empty() ? build_root + "/fuzz-corpus" : o.corpus).string();
  f.command_line = o.command_line;
  if (o.out.empty()) {
    auto dir = create_run_directory(build_root + "/reports/fuzz");
    if (!dir) {
      std::cerr << "crashgate fuzz: " << dir.error() << "\n";
      return kExitHarnessError;
    }
    f.out_dir = dir->path;
  } else {
    std::error_code ec;
    if (fs::exists(o.out, ec) && !fs::is_empty(o.out, ec)) {
      std::cerr << fmt::format("crashgate fuzz: --out: {} is not empty; name a new directory\n", o.out);
      return kExitUsage;
    }
    f.out_dir = fs::absolute(o.out).string();
  }

  Cancellation cancel;
  InterruptGuard guard(cancel);
  FuzzConsole console{stderr, is_terminal(stderr), terminal_width(stderr)};
  auto campaign = run_fuzz_campaign(f, cancel, console);
  if (!campaign) {
    std::cerr << "crashgate fuzz: " << campaign.error() << "\n";
    return kExitHarnessError;
  }
  std::size_t distinct = 0;
  for (const FuzzCrash& c : campaign->crashes) distinct += !c.signature.empty();
  int code = campaign->interrupted ? kExitInterrupted : distinct ? kExitCellsFailed : 0;
  if (auto written = write_fuzz_report(*campaign, code); !written) {
    std::cerr << "crashgate fuzz: " << written.error() << "\n";
    return kExitHarnessError;
  }
  std::cerr << fmt::format("crashgate fuzz: {} distinct crash{}; report: {}/report.md, {}/results.json\n", distinct,
                           distinct == 1 ? "" : "es", display_path(f.out_dir), display_path(f.out_dir));
  return code;
}

}  // namespace

void add_fuzzing_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<FuzzCommandOptions>();
  auto* fuzz = app.add_subcommand("fuzz", "Run libFuzzer on the fuzz targets; triage, deduplicate and minimize every crash; write a morning report");
  fuzz->footer(fuzz_footer());
  fuzz->add_option("--target", options->targets, "A fuzz target (a folder of corpora/); may be repeated")->type_name("T");
  fuzz->add_flag("--all", options->all, "Every target in corpora/, one after another, sharing --time");
  fuzz->add_option("--time", options->time, "How long to fuzz, all targets together (default 8h)")->type_name("DURATION");
  fuzz->add_option("-j,--jobs", options->jobs, "libFuzzer processes at a time, each over the whole corpus (default 1)")
      ->check(positive_count());
  fuzz->add_flag("--fork", options->fork,
                 "Run libFuzzer's own -fork=JOBS -ignore_crashes=1 instead (its jobs fuzz small random subsets of the corpus)");
  fuzz->add_option("--regression", options->regression, "Switch a vstore regression on (VSTORE_REGRESSION) in every run")->type_name("ID");
  fuzz->add_option("--out", options->out, "This run's directory (default: BUILD_ROOT/reports/fuzz/<run-id>)")->type_name("DIR");
  fuzz->add_option("--seed", options->seed,
                   "libFuzzer's -seed of the first run; run K of process I gets S + K*JOBS + I (default: libFuzzer's own choice)")
      ->type_name("S");
  fuzz->add_option("--build-root", options->build_root, "The build/ folder (default: $CRASHGATE_BUILD_ROOT, else the build/ this crashgate was built in)")
      ->type_name("DIR");
  fuzz->add_option("--fuzzer-dir", options->fuzzer_dir, "Where the libFuzzer binaries are (default: BUILD_ROOT/fuzz/fuzz)")->type_name("DIR");
  fuzz->add_option("--corpora", options->corpora, "The corpora/ folder: <target>/seed, .dict, .options, regressions/ (default: next to BUILD_ROOT)")
      ->type_name("DIR");
  fuzz->add_option("--corpus", options->corpus,
                   "Working corpora, one folder per target, grown by the fuzzer and merged at the end; kept between runs "
                   "(default: BUILD_ROOT/fuzz-corpus)")
      ->type_name("DIR");
  fuzz->add_option("--minimize-time", options->minimize_time, "Time to minimize each distinct crash (default 60s)")->type_name("DURATION");
  fuzz->add_flag("--no-merge", options->no_merge, "Leave the working corpus unmerged at the end");
  fuzz->add_flag("--until-crash", options->until_crash, "Stop fuzzing a target at its first crash (time-to-find measurements, PR checks)");
  fuzz->add_option("--promote", options->promote, "Copy a crash directory's minimized input into corpora/<target>/regressions/<signature>")
      ->type_name("CRASH_DIR");
  fuzz->callback([options, &exit_code] {
    options->command_line = own_command_line();
    exit_code = fuzz_command(*options);
  });
  add_coverage_command(app, exit_code);
}

}  // namespace crashgate
