// `crashgate driver-check DRIVER`: the conformance suite a driver author runs
// (driver_conformance.h), one line per check as it ends.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/vocabulary_commands.h"
#include "crashgate/cli.h"
#include "crashgate/driver_conformance.h"
#include "crashgate/driver_location.h"
#include "crashgate/limits.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

struct DriverCheckOptions {
  std::string driver;
  std::string build = "release";
  std::string build_root;
  std::string work_dir;
  std::string timeout = "60s";
};

int run_driver_check(const DriverCheckOptions& o) {
  // A path, or a target name found where `crashgate run` finds its driver.
  std::string driver = o.driver;
  bool is_path = driver.find('/') != std::string::npos;
  if (!is_path) driver = driver_path(o.build_root.empty() ? default_build_root() : o.build_root, o.build, o.driver);
  // The checks run in their own directories: a relative path would name nothing there.
  std::error_code absolute_ec;
  if (auto absolute = fs::absolute(driver, absolute_ec); !absolute_ec) driver = absolute.lexically_normal().string();
  if (::access(driver.c_str(), X_OK) != 0) {
    if (is_path) std::cerr << fmt::format("crashgate driver-check: {} is not an executable file\n", driver);
    else std::cerr << "crashgate driver-check: " << missing_driver_message(driver, o.build, o.driver).value_or(driver + " cannot run") << "\n";
    return kExitUsage;
  }
  auto timeout = parse_duration(o.timeout);
  if (!timeout || timeout->count() < 1000) {
    std::cerr << fmt::format("crashgate driver-check: --timeout: '{}' is not a duration of at least 1s\n", o.timeout);
    return kExitUsage;
  }
  ConformanceOptions options;
  options.timeout_seconds = static_cast<int>(timeout->count() / 1000);
  std::error_code ec;
  options.work_root = o.work_dir.empty() ? (fs::temp_directory_path(ec) / fmt::format("crashgate-driver-check-{}", ::getpid())).string()
                                         : o.work_dir;
  fs::create_directories(options.work_root, ec);
  if (ec) {
    std::cerr << fmt::format("crashgate driver-check: cannot create {}: {}\n", options.work_root, ec.message());
    return kExitHarnessError;
  }
  std::cout << fmt::format("driver-check {} (work in {})\n", driver, options.work_root) << std::flush;
  options.on_check = [](const ConformanceCheck& c) {
    std::cout << fmt::format("  {:<5} {:<17} {}\n", c.skipped ? "skip" : c.passed ? "ok" : "FAIL", c.name, c.detail) << std::flush;
  };
  auto checks = check_driver(driver, options);
  std::size_t failed = 0, skipped = 0;
  for (const auto& c : checks) {
    failed += !c.passed;
    skipped += c.skipped;
  }
  std::cout << fmt::format("{} of {} checks passed{}{}\n", checks.size() - failed, checks.size(),
                           skipped ? fmt::format(" ({} skipped: the driver lacks what they need)", skipped) : "",
                           failed ? "; the driver does not conform (reports/driver-protocol.md)" : "");
  // Keep the cells of a failure to look at; a conforming driver leaves nothing behind.
  if (failed == 0 && o.work_dir.empty()) fs::remove_all(options.work_root, ec);
  else std::cout << fmt::format("each check's cell, events, stdout and stderr: {}\n", options.work_root);
  return failed ? kExitCheckFailed : 0;
}

}  // namespace

void add_driver_check_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DriverCheckOptions>();
  auto* cmd = app.add_subcommand("driver-check", "Check that a driver speaks the driver protocol: the conformance suite every driver passes");
  cmd->add_option("driver", o->driver, "The driver: a path, or a target name (BUILD_ROOT/BUILD/bin/crashgate-driver-NAME)")->required();
  cmd->add_option("--build", o->build, "The build whose driver a target name means (default release)");
  cmd->add_option("--build-root", o->build_root, "Where builds are (default: the build/ this crashgate is in)");
  cmd->add_option("--work-dir", o->work_dir, "Where the check cells run (kept); default a temporary directory, removed when all pass");
  cmd->add_option("--timeout", o->timeout, "Wall-clock limit of each check cell (default 60s)");
  std::string names;
  for (const auto& n : conformance_check_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->footer(fmt::format("Checks: {}.\nExit status: 0 every check passed, {} a check failed, {} usage (no such driver), {} the work "
                          "directory could not be made.", names, kExitCheckFailed, kExitUsage, kExitHarnessError));
  cmd->callback([o, &exit_code] { exit_code = run_driver_check(*o); });
}

}  // namespace crashgate
