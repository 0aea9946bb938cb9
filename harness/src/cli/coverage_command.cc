#include "cli/coverage_command.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/run_directory.h"
#include "crashgate/runner.h"
#include "fuzz/coverage_report.h"
#include "fuzz/fuzz_campaign.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

struct CoverageCommandOptions {
  std::string build_root;
  std::string corpora;
  std::string corpus;
  std::string out;
  std::vector<std::string> targets;
  bool build = false;
};

// Configures (once) and builds the coverage preset's replay binaries, with the build's output shown.
bool build_coverage(const std::string& source_root, const std::string& build_dir, const std::vector<std::string>& targets) {
  std::string cmd = "cd " + shell_quote(source_root);
  if (!fs::exists(build_dir + "/build.ninja")) cmd += " && cmake --preset coverage >/dev/null";
  cmd += " && cmake --build " + shell_quote(build_dir) + " --target";
  for (const std::string& t : targets) cmd += " " + shell_quote(t + "_replay");
  std::cerr << "crashgate coverage: " << cmd << "\n";
  return std::system(cmd.c_str()) == 0;
}

int coverage_command(const CoverageCommandOptions& o) {
  std::string build_root = fs::absolute(o.build_root.empty() ? default_build_root() : o.build_root).string();
  std::string source_root = fs::path(build_root).parent_path().string();
  CoverageOptions c;
  c.build_dir = build_root + "/coverage";
  c.source_root = source_root;
  c.corpora_dir = o.corpora.empty() ? source_root + "/corpora" : o.corpora;
  c.corpus_dir = o.corpus.empty() ? build_root + "/fuzz-corpus" : o.corpus;
  c.out_dir = fs::absolute(o.out.empty() ? build_root + "/reports/coverage" : o.out).string();
  std::vector<std::string> known = known_fuzz_targets(c.corpora_dir);
  c.targets = o.targets.empty() ? known : o.targets;
  for (const std::string& t : c.targets)
    if (std::find(known.begin(), known.end(), t) == known.end()) {
      std::cerr << fmt::format("crashgate coverage: --target: unknown target '{}'; {} has: {}\n", t, c.corpora_dir, fmt::join(known, ", "));
      return kExitUsage;
    }
  bool missing = false;
  for (const std::string& t : c.targets) missing |= !fs::exists(c.build_dir + "/fuzz/" + t + "_replay");
  if (o.build || missing) {
    if (!o.build) {
      std::cerr << fmt::format("crashgate coverage: {} lacks replay binaries; run `ci/build coverage` (or pass --build)\n", c.build_dir);
      return kExitHarnessError;
    }
    if (!build_coverage(source_root, c.build_dir, c.targets)) {
      std::cerr << "crashgate coverage: the coverage build failed\n";
      return kExitHarnessError;
    }
  }
  std::error_code ec;
  fs::create_directories(c.out_dir, ec);
  auto result = run_coverage(c);
  if (!result) {
    std::cerr << "crashgate coverage: " << result.error() << "\n";
    return kExitHarnessError;
  }
  for (const std::string& n : result->notes) std::cerr << "crashgate coverage: " << n << "\n";
  std::cout << coverage_summary_line(*result) << "\n";
  std::cout << "report: " << display_path(result->html_index) << "\n";
  return 0;
}

}  // namespace

void add_coverage_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<CoverageCommandOptions>();
  auto* cmd = app.add_subcommand("coverage", "Replay the fuzz corpora through the coverage build; write an HTML report and a per-part summary");
  cmd->footer("Writes BUILD_ROOT/reports/coverage/html/index.html, coverage.profdata and summary.json (llvm-cov export).\n"
              "Parts: targets/vstore/src/<part> (storage, index, filter, env, failpoint), tools, crashgate/<part>.\n"
              "Exit status: 0 report written; 2 bad command line; 3 the build, a replay or an llvm tool failed.");
  cmd->add_option("--target", options->targets, "Only these fuzz targets (default: every folder of corpora/)")->type_name("T");
  cmd->add_flag("--build", options->build, "Configure and build the coverage preset's replay binaries first");
  cmd->add_option("--build-root", options->build_root, "The build/ folder (default: the one this crashgate was built in)")->type_name("DIR");
  cmd->add_option("--corpora", options->corpora, "The corpora/ folder (default: next to BUILD_ROOT)")->type_name("DIR");
  cmd->add_option("--corpus", options->corpus, "Working corpora of `crashgate fuzz`, replayed too when present (default: BUILD_ROOT/fuzz-corpus)")
      ->type_name("DIR");
  cmd->add_option("--out", options->out, "Where the report goes (default: BUILD_ROOT/reports/coverage)")->type_name("DIR");
  cmd->callback([options, &exit_code] { exit_code = coverage_command(*options); });
}

}  // namespace crashgate
