#include "cli/footprints_command.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "cli/count_check.h"
#include "cli/interrupt.h"
#include "cli/selection_options.h"
#include "crashgate/change_selection.h"
#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/footprint_recording.h"
#include "crashgate/run_directory.h"
#include "crashgate/run_matrix.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// As `crashgate run`'s default: the cells draw the data the gate's run draws.
constexpr std::uint64_t kFootprintSeed = 1;
constexpr const char* kCoverageBuild = "coverage";
constexpr const char* kBuildCoverageDrivers =
    "cmake --preset coverage && cmake --build --preset coverage --target crashgate_drivers";

struct FootprintsOptions {
  SelectionOptions select;
  std::string build_root;
  std::string out;
  unsigned jobs = 0;
  bool keep_profiles = false;
};

// The cell as the coverage build runs it: "name/target/coverage[params]".
PlannedCell in_coverage_build(PlannedCell p) {
  std::string prefix = p.cell.scenario + "/" + p.cell.target + "/" + p.cell.build;
  if (p.cell.id.starts_with(prefix))
    p.cell.id = p.cell.scenario + "/" + p.cell.target + "/" + kCoverageBuild + p.cell.id.substr(prefix.size());
  p.cell.build = kCoverageBuild;
  return p;
}

// A driver that is no native program (pyhnswlib's is a Python launcher) has no C++ coverage to record.
bool is_native_program(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// HEAD, or HEAD+changes when engine code in the working tree differs from it
// (then the recorded lines are not HEAD's, and --changed meets them by files).
std::string head_commit(const std::string& source_root) {
  auto git = [&](std::vector<std::string> args) {
    RunSpec spec;
    spec.argv = {"git", "-C", source_root};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.trace = false;
    spec.limits.wall = std::chrono::seconds(30);
    Outcome o = run_observed(spec);
    std::string text = o.stdout_excerpt.head;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return std::make_pair(o.kind == OutcomeKind::ok, text);
  };
  auto [ok, head] = git({"rev-parse", "HEAD"});
  if (!ok || head.size() != 40) return "unknown";
  auto [listed, changes] = git({"status", "--porcelain", "--untracked-files=no", "--", "targets"});
  if (!listed || !changes.empty()) head += std::string(kFootprintsDirty);
  return head;
}

std::string elapsed_text(Clock::duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
  return fmt::format("{}m {:02}s", s / 60, s % 60);
}

// The profiles of finished cells, turned into footprints by `jobs` threads
// while the later cells still run.
class FootprintPool {
 public:
  struct Work {
    std::string key, profile_dir, driver;
  };

  FootprintPool(const FootprintTools& tools, std::string source_root, std::string build_root, bool keep_profiles,
                std::size_t total, unsigned jobs, const RunContext& context)
      : tools_(tools), source_root_(std::move(source_root)), build_root_(std::move(build_root)),
        keep_profiles_(keep_profiles), total_(total), context_(context) {
    for (unsigned k = 0; k < std::max(1u, jobs); ++k) threads_.emplace_back([this] { work(); });
  }
  ~FootprintPool() { finish(); }

  void add(Work w) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(w));
    }
    ready_.notify_one();
  }

  void finish() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::map<std::string, std::vector<CoveredFunction>> functions_by_key;  // after finish()
  std::vector<std::string> unprofiled;                            // keys without a profile
  std::vector<std::string> errors;                                // "key: llvm-... failed: ..."

 private:
  void work() {
    for (;;) {
      Work w;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        w = std::move(queue_.front());
        queue_.pop_front();
      }
      auto footprint = cell_footprint(tools_, w.profile_dir, w.driver, source_root_, build_root_, context_);
      if (!keep_profiles_) {
        std::error_code ec;
        fs::remove_all(w.profile_dir, ec);
      }
      std::lock_guard lock(mutex_);
      if (!footprint)
        errors.push_back(w.key + ": " + footprint.error());
      else if (!footprint->profiled)
        unprofiled.push_back(w.key);
      else
        functions_by_key[w.key] = std::move(footprint->functions);
      ++done_;
      auto now = Clock::now();
      bool cancelled = context_.cancellation && context_.cancellation->cancelled();  // the rest are not-run
      if (!cancelled && (done_ == total_ || now - last_progress_ >= std::chrono::seconds(10))) {
        last_progress_ = now;
        std::cerr << fmt::format("crashgate footprints: {} of {} cells\n", done_, total_);
      }
    }
  }

  const FootprintTools& tools_;
  std::string source_root_, build_root_;
  bool keep_profiles_;
  std::size_t total_;
  RunContext context_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Work> queue_;
  bool closed_ = false;
  std::size_t done_ = 0;
  Clock::time_point last_progress_ = Clock::now();
  std::vector<std::thread> threads_;
};

int footprints_command(const FootprintsOptions& o) {
  auto started = Clock::now();
  std::string build_root = fs::absolute(o.build_root.empty() ? default_build_root() : o.build_root).lexically_normal().string();
  if (build_root.size() > 1 && build_root.back() == '/') build_root.pop_back();
  std::string source_root = fs::path(build_root).parent_path().string();
  std::string coverage_dir = build_root + "/" + kCoverageBuild;

  // Loading asks drivers for their tables, and when those are the coverage
  // build's they would leave a default.profraw in the working directory.
  if (!std::getenv("LLVM_PROFILE_FILE")) setenv("LLVM_PROFILE_FILE", "/dev/null", 0);
  auto cells = load_selected_cells(o.select, kFootprintSeed, "footprints", build_root);
  if (!cells) return kExitUsage;
  if (cells->empty()) {
    std::cerr << "crashgate footprints: no cells match the selection (crashgate list shows what there is)\n";
    return kExitUsage;
  }

  // One cell per key: its footprint serves every build of it.
  std::vector<PlannedCell> record;
  std::set<std::string> keys;
  std::size_t not_recordable = 0;
  std::map<std::string, bool> native;  // target -> its coverage driver is a native program
  std::set<std::string> missing;       // targets without a coverage driver
  for (const PlannedCell& p : *cells) {
    std::string key = footprint_key(p.cell);
    if (!keys.insert(key).second) continue;
    // The coverage build has no regression switches: the cell would be refused, its footprint a lie.
    if (!p.cell.regression.empty()) {
      ++not_recordable;
      continue;
    }
    std::string driver = driver_path(build_root, kCoverageBuild, p.cell.target);
    if (missing_driver_message(driver, kCoverageBuild, p.cell.target)) {
      missing.insert(p.cell.target);
      continue;
    }
    auto [it, added] = native.emplace(p.cell.target, false);
    if (added) it->second = is_native_program(driver);
    if (!it->second) {
      ++not_recordable;
      continue;
    }
    record.push_back(in_coverage_build(p));
  }
  if (!missing.empty()) {
    std::cerr << fmt::format("crashgate footprints: {} lacks the coverage drivers of {} ({}); build them with `{}` "
                             "from {} (or point --build-root at the build/ that holds coverage/)\n",
                             coverage_dir, fmt::join(missing, ", "),
                             driver_path(build_root, kCoverageBuild, *missing.begin()), kBuildCoverageDrivers,
                             source_root);
    return kExitUsage;
  }
  if (record.empty()) {
    std::cerr << fmt::format("crashgate footprints: none of the {} selected cells can be recorded (Python drivers and "
                             "regression replays have no footprint in the coverage build)\n", cells->size());
    return kExitUsage;
  }
  auto tools = find_footprint_tools();
  if (!tools) {
    std::cerr << "crashgate footprints: " << tools.error() << "\n";
    return kExitHarnessError;
  }
  std::string out = fs::absolute(o.out.empty() ? source_root + "/" + std::string(kDefaultFootprints) : o.out)
                        .lexically_normal()
                        .string();
  std::error_code ec;
  fs::create_directories(fs::path(out).parent_path(), ec);

  std::string scratch = (fs::temp_directory_path(ec) / "crashgate-footprints-XXXXXX").string();
  if (!mkdtemp(scratch.data())) {
    std::cerr << fmt::format("crashgate footprints: cannot make a temporary directory {}: {}\n", scratch, std::strerror(errno));
    return kExitHarnessError;
  }
  auto clean_up = [&] {
    if (o.keep_profiles)
      std::cerr << fmt::format("crashgate footprints: profiles and failing cells' work directories kept in {}\n", scratch);
    else
      fs::remove_all(scratch, ec);
  };

  RunPlan plan;
  plan.build_root = build_root;
  plan.run_dir = scratch + "/run";
  plan.jobs = o.jobs ? o.jobs : default_jobs();
  plan.keep_passing_work_dirs = false;
  std::vector<std::string> profile_dirs;
  for (std::size_t i = 0; i < record.size(); ++i) {
    // Outside the work directory, which a passing cell has cleaned; %p: a cell may start several processes.
    std::string dir = fmt::format("{}/profiles/{}", scratch, i);
    fs::create_directories(dir, ec);
    plan.cell_env.push_back({{"LLVM_PROFILE_FILE", dir + "/%p.profraw"}});
    profile_dirs.push_back(std::move(dir));
  }
  std::vector<std::string> keys_recorded;
  for (const auto& p : record) keys_recorded.push_back(footprint_key(p.cell));
  plan.cells = std::move(record);

  std::cerr << fmt::format("crashgate footprints: {} cells ({} footprint keys of {} selected cells) in {}, -j {}\n",
                           plan.cells.size(), keys.size(), cells->size(), display_path(coverage_dir), plan.jobs);
  Cancellation cancellation;
  std::optional<FootprintPool> pool_storage;
  {
    InterruptGuard guard(cancellation);  // before any thread starts: they inherit its signal mask
    RunContext context{&cancellation, nullptr};
    FootprintPool& pool = pool_storage.emplace(*tools, source_root, build_root, o.keep_profiles, plan.cells.size(),
                                               plan.jobs, context);
    run_matrix(plan, context, [&](std::size_t i, const CellResult& cell, const Attempt&) {
      pool.add({keys_recorded[i], profile_dirs[i], cell.driver});
    });
    pool.finish();
  }
  FootprintPool& pool = *pool_storage;
  if (cancellation.cancelled()) {
    clean_up();
    std::cerr << "crashgate footprints: interrupted; nothing written\n";
    return kExitInterrupted;
  }
  for (std::size_t k = 0; k < pool.errors.size(); ++k) {
    if (k == 5) {
      std::cerr << fmt::format("crashgate footprints: ... and {} more cells whose profile could not be read\n",
                               pool.errors.size() - k);
      break;
    }
    std::cerr << "crashgate footprints: " << pool.errors[k] << "\n";
  }
  if (pool.functions_by_key.empty()) {
    clean_up();
    std::cerr << "crashgate footprints: no cell left a readable profile; nothing written (is " << coverage_dir
              << " built with CRASHGATE_COVERAGE=ON, the coverage preset?)\n";
    return kExitHarnessError;
  }
  Footprints footprints = make_footprints(head_commit(source_root), pool.functions_by_key);
  if (auto saved = save_footprints(footprints, out); !saved) {
    clean_up();
    std::cerr << "crashgate footprints: " << saved.error() << "\n";
    return kExitHarnessError;
  }
  clean_up();
  std::cout << fmt::format(
      "crashgate footprints: {} cells recorded, {} distinct footprints, {} functions in {} files; {} cells without a profile{}, {} not "
      "recordable; {}; wrote {}\n",
      footprints.cells.size(), footprints.sets.size(), footprints.functions.size(), footprints.files.size(),
      pool.unprofiled.size() + pool.errors.size(),
      pool.errors.empty() ? "" : fmt::format(" ({} unreadable)", pool.errors.size()), not_recordable,
      elapsed_text(Clock::now() - started), display_path(out));
  return 0;
}

}  // namespace

void add_footprints_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<FootprintsOptions>();
  auto* cmd = app.add_subcommand(
      "footprints", "Run one cell per footprint in the coverage build; record the repository functions each executed");
  cmd->footer(fmt::format(
      "A cell's footprint does not depend on its build, so one cell per footprint key (its id with the build as `*`) "
      "runs, in BUILD_ROOT/coverage (build it with `{}`), whatever its verdict. Its profiles are merged with "
      "llvm-profdata and read with `llvm-cov export`: the functions of repository files it entered are its footprint, "
      "each with its lines at HEAD, so that `--changed` can run the cells that executed a changed line's function "
      "(uncommitted engine changes leave the lines unanchored: the footprints are then met by files). A cell that "
      "writes no profile (it crashed, or was killed) gets none; Python drivers and regression replays are not "
      "recordable. Cells without a footprint are selected whenever their engine changes.\n"
      "Exit status: 0 written; {} usage, scenario errors, no coverage build; {} an llvm tool is missing, no cell "
      "left a profile, OUT not writable; {} interrupted (nothing written).",
      kBuildCoverageDrivers, kExitUsage, kExitHarnessError, kExitInterrupted));
  add_selection_options(*cmd, options->select);
  cmd->add_option("-j,--jobs", options->jobs, "Cells (and profile exports) at a time (default: the number of CPUs)")
      ->check(positive_count());
  cmd->add_option("--build-root", options->build_root,
                  "The build/ holding coverage/bin/crashgate-driver-<target>; its parent is the source root "
                  "(default: $CRASHGATE_BUILD_ROOT, else the build/ this crashgate was built in)")
      ->type_name("DIR");
  cmd->add_option("--out", options->out, fmt::format("Where the footprints go (default: SOURCE_ROOT/{})", kDefaultFootprints))
      ->type_name("FILE");
  cmd->add_flag("--keep-profiles", options->keep_profiles,
                "Keep the temporary directory of profiles (and failing cells' work directories) and say where");
  cmd->callback([options, &exit_code] { exit_code = footprints_command(*options); });
}

}  // namespace crashgate
