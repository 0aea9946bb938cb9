// `crashgate mutate`: the gate measured on bugs nobody planted. Each mutant
// (a rule of mutation_rules.h applied at one place of the engine's source) is
// applied in a worktree of its own, built incrementally in every preset the
// gate runs, and gated as a pull request would be (`crashgate run --changed
// HEAD`, then `crashgate gate`): killed when the gate blocks, survived when it
// passes. The developer's own tree and builds are never touched.
#include "cli/mutate_command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <xxhash.h>

#include "cli/count_check.h"
#include "cli/interrupt.h"
#include "crashgate/baseline.h"
#include "crashgate/cli.h"
#include "crashgate/gate_decision.h"
#include "crashgate/limits.h"
#include "crashgate/mutation.h"
#include "crashgate/run_directory.h"
#include "crashgate/runner.h"
#include "crashgate/triage.h"
#include "crashgate/utc_time.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct MutateOptions {
  std::vector<std::string> files;
  std::size_t count = 40;
  std::uint64_t seed = 1;
  std::vector<std::string> rules;
  std::vector<std::string> ids;
  std::string from;
  bool list = false;
  std::string at = "HEAD";
  std::string out;
  std::string tree;
  std::vector<std::string> builds{"release", "debug", "asan", "tsan"};
  unsigned jobs = 0;
  std::string mutant_time = "30m";  // the most one mutant's cells may take
};

// The engine's source, less what only tests run: failpoints, regression
// switches, and the power-cut Env the `crash` failpoint uses.
constexpr const char* kDefaultSource = "targets/vstore/src";
const std::vector<std::string> kNotEngine = {"failpoint/", "regression.cc", "env/power_cut"};
const std::vector<std::string> kEngineArgs = {"-std=c++20", "-Itargets/vstore/include", "-Itargets/vstore/src"};

struct ShellOutput {
  bool ok = false;
  std::string text;
};

// A short command through the shell (git), its stdout and stderr.
ShellOutput shell(const std::string& command) {
  ShellOutput out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[8192];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.text.append(buffer, n);
  int status = ::pclose(pipe);
  out.ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  while (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
  return out;
}

std::string git(const std::string& dir, const std::string& args) { return "git -C " + shell_quote(dir) + " " + args; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// argv run in `dir`, everything it prints into `log`; cancelled with the run.
Outcome logged(const std::vector<std::string>& argv, const std::string& dir, const std::string& log,
               std::chrono::milliseconds wall, const RunContext& context) {
  std::string command = "exec";
  for (const auto& a : argv) command += " " + shell_quote(a);
  RunSpec spec;
  spec.argv = {"/bin/sh", "-c", command + " >" + shell_quote(log) + " 2>&1"};
  spec.work_dir = dir;
  spec.trace = false;
  spec.sanitizer_options = false;
  spec.limits.wall = wall;
  spec.kill_grace = std::chrono::seconds(30);  // a stopped `crashgate run` writes results.json of what finished
  return run_observed(spec, context);
}

int exit_of(const Outcome& o) { return o.kind == OutcomeKind::ok ? 0 : o.exit_code.value_or(-1); }

// The first lines of a build log that say what failed.
std::string build_errors(const std::string& log) {
  std::istringstream in(read_text(log));
  std::string out;
  int kept = 0;
  for (std::string line; std::getline(in, line) && kept < 6;)
    if (line.find("error:") != std::string::npos || line.find("FAILED:") != std::string::npos) {
      out += (out.empty() ? "" : "\n") + line.substr(0, 300);
      ++kept;
    }
  return out.empty() ? "the build failed; see " + log : out;
}

class Mutator {
 public:
  Mutator(const MutateOptions& o, const Cancellation& cancel) : o_(o), cancel_(cancel), context_{.cancellation = &cancel} {}

  int run() {
    auto started = Clock::now();
    auto top = shell("git rev-parse --show-toplevel");
    if (!top.ok) return usage("run it inside the repository (git rev-parse --show-toplevel: " + top.text + ")");
    root_ = top.text;
    for (const auto& b : o_.builds)
      if (b != "release" && b != "debug" && b != "asan" && b != "tsan")
        return usage(fmt::format("--builds: '{}' is not a preset the gate runs (release, debug, asan, tsan)", b));
    if (auto wall = parse_duration(o_.mutant_time); wall && *wall >= std::chrono::minutes(1))
      mutant_wall_ = *wall;
    else
      return usage(fmt::format("--mutant-time: '{}' is not a duration of at least 1m (e.g. 20m, 1h)", o_.mutant_time));
    if (std::find(o_.builds.begin(), o_.builds.end(), "release") == o_.builds.end())
      return usage("--builds: release is needed: its crashgate runs and gates the cells");
    for (const auto& r : o_.rules) {
      const auto* info = find_mutation_rule(r);
      if (!info) return usage(fmt::format("--rules: '{}' is no mutation rule (crashgate mutate --help lists them)", r));
      rules_.insert(info->rule);
    }
    auto commit = shell(git(root_, "rev-parse --verify --quiet " + shell_quote(o_.at + "^{commit}")));
    if (!commit.ok) return usage(fmt::format("--at: '{}' is not a commit of {}", o_.at, root_));
    run_.commit = commit.text;
    run_.seed = o_.seed;
    run_.builds = o_.builds;
    run_.started_at = utc_now();
    out_ = fs::absolute(o_.out.empty() ? root_ + "/build/mutate" : o_.out).lexically_normal().string();
    tree_ = fs::absolute(o_.tree.empty() ? out_ + "/tree" : o_.tree).lexically_normal().string();
    std::error_code ec;
    fs::create_directories(out_ + "/logs", ec);
    if (ec) return harness_error(fmt::format("cannot make {}: {}", out_ + "/logs", ec.message()));

    if (int rc = prepare_tree(); rc != 0) return rc;
    auto files = source_files();
    if (!files) return usage(files.error());
    run_.files = *files;
    std::cerr << fmt::format("crashgate mutate: finding mutants in {} files of {} ...\n", files->size(), run_.commit.substr(0, 12));
    auto found = find_all(*files);
    if (!found) return harness_error(found.error());
    run_.found = found->size();
    auto chosen = choose(*found);
    if (!chosen) return usage(chosen.error());
    if (o_.list) return list(*chosen, found->size());
    std::vector<Mutant> mutants = std::move(*chosen);
    if (!write_text(out_ + "/mutants.json", mutants_document(mutants).dump(1) + "\n"))
      return harness_error("cannot write " + out_ + "/mutants.json");

    if (int rc = build_unmutated(); rc != 0 || cancel_.cancelled()) {
      if (rc == 0) mutants_left(mutants, 0, started);
      return rc;
    }
    std::size_t tried = 0;
    for (; tried < mutants.size() && !cancel_.cancelled(); ++tried) run_.results.push_back(try_mutant(mutants[tried], tried, mutants.size()));
    return mutants_left(mutants, tried, started);
  }

  // Closes the run: mutants from `tried` on were not run, the ones asked for by id and not found are gone.
  int mutants_left(const std::vector<Mutant>& mutants, std::size_t tried, Clock::time_point started) {
    run_.interrupted = cancel_.cancelled();
    for (std::size_t i = tried; i < mutants.size(); ++i) run_.results.push_back({.mutant = mutants[i], .status = MutantStatus::not_run});
    for (const auto& id : gone_) run_.results.push_back({.mutant = {.id = id}, .status = MutantStatus::gone});
    run_.seconds = seconds_since(started);
    return report();
  }

 private:
  int usage(const std::string& why) {
    std::cerr << "crashgate mutate: " << why << "\n";
    return kExitUsage;
  }
  int harness_error(const std::string& why) {
    std::cerr << "crashgate mutate: " << why << "\n";
    return kExitHarnessError;
  }

  // The worktree at the commit to mutate, made once and kept with its builds.
  int prepare_tree() {
    std::error_code ec;
    if (!fs::exists(tree_ + "/.git", ec)) {
      if (fs::exists(tree_, ec) && !fs::is_empty(tree_, ec))
        return usage(fmt::format("--tree: {} exists and is not a worktree this command made", tree_));
      shell(git(root_, "worktree prune"));
      std::cerr << fmt::format("crashgate mutate: making the worktree {} (its builds are kept for the next run)\n", tree_);
      auto add = shell(git(root_, "worktree add --detach " + shell_quote(tree_) + " " + run_.commit));
      if (!add.ok) return harness_error("git worktree add failed: " + add.text);
      return 0;
    }
    auto top = shell(git(tree_, "rev-parse --show-toplevel"));
    if (!top.ok || fs::path(top.text) != fs::path(tree_))
      return usage(fmt::format("--tree: {} is not a worktree of its own", tree_));
    auto checkout = shell(git(tree_, "checkout --quiet --detach --force " + run_.commit));
    if (!checkout.ok) return harness_error("git checkout in " + tree_ + " failed: " + checkout.text);
    return 0;
  }

  // Repository-relative source files: FILES as given (files or folders), or the engine's.
  Checked<std::vector<std::string>> source_files() {
    std::vector<std::string> given = o_.files;
    bool defaulted = given.empty();
    if (defaulted) given.push_back(kDefaultSource);
    std::vector<std::string> out;
    for (const auto& g : given) {
      fs::path rel = fs::path(g).is_absolute() ? fs::relative(g, root_) : fs::path(g);
      fs::path in_tree = fs::path(tree_) / rel;
      std::error_code ec;
      if (rel.empty() || rel.string().rfind("..", 0) == 0) return failure(fmt::format("{}: not inside the repository {}", g, root_));
      if (fs::is_regular_file(in_tree, ec)) {
        out.push_back(rel.lexically_normal().string());
        continue;
      }
      if (!fs::is_directory(in_tree, ec))
        return failure(fmt::format("{}: no such file or folder at {}", g, run_.commit.substr(0, 12)));
      for (fs::recursive_directory_iterator it(in_tree, ec), end; !ec && it != end; it.increment(ec)) {
        std::string ext = it->path().extension().string();
        if (!it->is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
        std::string path = fs::relative(it->path(), tree_).string();
        bool skip = false;
        for (const auto& n : kNotEngine) skip |= defaulted && path.find(n) != std::string::npos;
        if (!skip) out.push_back(path);
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.empty()) return failure("no .cc or .h files to mutate");
    return out;
  }

  // crashgate-mutants over the files, -j at a time.
  Checked<std::vector<Mutant>> find_all(const std::vector<std::string>& files) {
    std::string self = fs::read_symlink("/proc/self/exe").string();
    std::string finder = (fs::path(self).parent_path() / "crashgate-mutants").string();
    if (::access(finder.c_str(), X_OK) != 0)
      return failure(fmt::format("{} is missing: build it (cmake --build --preset release --target crashgate-mutants)", finder));
    unsigned jobs = o_.jobs ? o_.jobs : default_jobs();
    std::vector<RunSpec> specs(std::min<std::size_t>(jobs, files.size()));
    for (std::size_t i = 0; i < specs.size(); ++i) {
      specs[i].argv = {finder, "--root", tree_};
      for (std::size_t f = i; f < files.size(); f += specs.size()) specs[i].argv.push_back(files[f]);
      specs[i].argv.push_back("--");
      for (const auto& a : kEngineArgs) specs[i].argv.push_back(a);
      specs[i].work_dir = tree_;
      specs[i].trace = false;
      specs[i].sanitizer_options = false;
      specs[i].limits.wall = std::chrono::minutes(30);
      specs[i].stdout_bounds = {std::size_t{256} << 20, 0};
    }
    auto outcomes = run_parallel(specs, jobs, context_);
    std::vector<Mutant> all;
    for (const auto& o : outcomes) {
      if (cancel_.cancelled()) return failure("interrupted");
      if (o.kind != OutcomeKind::ok) return failure(fmt::format("crashgate-mutants: {}\n{}", o.detail, o.stderr_excerpt.text()));
      auto doc = parse_mutants_document(o.stdout_excerpt.head, "crashgate-mutants output");
      if (!doc) return failure(doc.error());
      all.insert(all.end(), doc->begin(), doc->end());
    }
    return all;
  }

  Checked<std::vector<Mutant>> choose(const std::vector<Mutant>& all) {
    std::vector<std::string> ids = o_.ids;
    if (!o_.from.empty()) {
      std::string text = read_text(o_.from);
      if (text.empty()) return failure("--from: cannot read " + o_.from);
      auto listed = mutant_ids_in(text, o_.from);
      if (!listed) return failure("--from: " + listed.error());
      ids.insert(ids.end(), listed->begin(), listed->end());
    }
    if (ids.empty()) return sample_mutants(all, o_.count, o_.seed, rules_);
    std::map<std::string, const Mutant*> by_id;
    for (const auto& m : all) by_id[m.id] = &m;
    std::vector<Mutant> out;
    for (const auto& id : ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        gone_.push_back(id);
        continue;
      }
      if (rules_.empty() || rules_.count(it->second->rule)) out.push_back(*it->second);
    }
    if (!gone_.empty())
      std::cerr << fmt::format("crashgate mutate: {} of the mutants asked for are not in the source at {} (their function "
                               "changed); the report lists them as gone\n", gone_.size(), run_.commit.substr(0, 12));
    return out;
  }

  int list(const std::vector<Mutant>& chosen, std::size_t found) {
    for (const auto& m : chosen)
      std::cout << fmt::format("{}\n    {}:{}:{}  '{}' -> '{}'\n", m.id, m.file, m.line, m.column, first_line(m.original),
                               m.replacement);
    std::cout << fmt::format("{} mutants of {} found (seed {})\n", chosen.size(), found, o_.seed);
    return 0;
  }

  static std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl) + " ...";
  }

  // Configures (once) and builds what the gate runs in each preset; false on failure.
  bool build(const std::string& log_prefix, std::string* error) {
    for (const auto& preset : o_.builds) {
      std::error_code ec;
      std::string log = fmt::format("{}/logs/{}-{}.log", out_, log_prefix, preset);
      if (!fs::exists(fmt::format("{}/build/{}/build.ninja", tree_, preset), ec)) {
        Outcome c = logged({"cmake", "--preset", preset}, tree_, log, std::chrono::minutes(30), context_);
        if (exit_of(c) != 0) {
          *error = fmt::format("cmake --preset {} failed: {}", preset, build_errors(log));
          return false;
        }
      }
      std::vector<std::string> argv{"cmake", "--build", "--preset", preset, "--target", "crashgate_drivers"};
      if (preset == "release") argv.push_back("crashgate");
      Outcome b = logged(argv, tree_, log, std::chrono::minutes(90), context_);
      if (cancel_.cancelled()) {
        *error = "interrupted";
        return false;
      }
      if (exit_of(b) != 0) {
        *error = build_errors(log);
        return false;
      }
    }
    return true;
  }

  // xxh3 of every driver binary of the presets built.
  std::map<std::string, std::uint64_t> driver_hashes() {
    std::map<std::string, std::uint64_t> out;
    for (const auto& preset : o_.builds) {
      std::error_code ec;
      for (fs::directory_iterator it(fmt::format("{}/build/{}/bin", tree_, preset), ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.rfind("crashgate-driver-", 0) != 0) continue;
        std::string bytes = read_text(it->path().string());
        out[preset + "/" + name] = XXH3_64bits(bytes.data(), bytes.size());
      }
    }
    return out;
  }

  int build_unmutated() {
    std::error_code ec;
    bool first = !fs::exists(tree_ + "/build/release/build.ninja", ec);
    std::cerr << fmt::format("crashgate mutate: building {} in {}{} ...\n", fmt::join(o_.builds, ", "), tree_,
                             first ? " (the first time: everything)" : "");
    auto t = Clock::now();
    std::string error;
    if (!build("unmutated", &error)) {
      if (cancel_.cancelled()) return 0;  // run() closes the report
      return harness_error(fmt::format("the unmutated tree at {} does not build: {}", run_.commit.substr(0, 12), error));
    }
    unmutated_ = driver_hashes();
    if (unmutated_.empty()) return harness_error("the builds hold no crashgate-driver-* binaries");
    std::cerr << fmt::format("crashgate mutate: built in {:.0f} s\n", seconds_since(t));
    return 0;
  }

  MutantResult try_mutant(const Mutant& m, std::size_t index, std::size_t count) {
    MutantResult r{.mutant = m};
    auto t = Clock::now();
    std::cerr << fmt::format("[{}/{}] {}  ({}:{})\n", index + 1, count, m.id, m.file, m.line);
    std::string path = tree_ + "/" + m.file;
    std::string original = read_text(path);
    auto mutated = apply_mutant(original, m);
    if (!mutated) {
      r.status = MutantStatus::gone;
      r.detail = mutated.error();
      return r;
    }
    diffs_[m.id] = mutant_diff(original, m);
    // Put back whatever happens below, Ctrl-C included.
    struct Restore {
      std::string path, text;
      ~Restore() { write_text(path, text); }
    } restore{path, original};
    if (!write_text(path, *mutated)) {
      r.status = MutantStatus::error;
      r.detail = "cannot write " + path;
      return r;
    }
    gate_mutant(r, index);
    r.seconds = seconds_since(t);
    if (r.status != MutantStatus::not_run)
      std::cerr << fmt::format("    {} ({:.0f} s{})\n", to_string(r.status), r.seconds,
                             r.status == MutantStatus::killed || r.status == MutantStatus::survived
                                 ? fmt::format(", {} of {} cells", r.selected, r.total)
                                 : "");
    return r;
  }

  void gate_mutant(MutantResult& r, std::size_t index) {
    std::string error;
    if (!build(fmt::format("{:03}", index), &error)) {
      r.status = cancel_.cancelled() ? MutantStatus::not_run : MutantStatus::no_build;
      r.detail = cancel_.cancelled() ? "" : error;
      return;
    }
    if (driver_hashes() == unmutated_) {
      r.status = MutantStatus::equivalent;
      return;
    }
    std::string crashgate = tree_ + "/build/release/bin/crashgate";
    std::string runs = fmt::format("{}/runs/{:03}", out_, index);
    std::error_code ec;
    fs::remove_all(runs, ec);
    std::vector<std::string> argv{crashgate, "run", "scenarios", "--build", fmt::format("{}", fmt::join(o_.builds, ",")),
                                  "--changed", "HEAD", "--change-sample", "0", "--out", runs, "--build-root", tree_ + "/build"};
    if (o_.jobs) argv.insert(argv.end(), {"-j", std::to_string(o_.jobs)});
    std::string log = fmt::format("{}/logs/{:03}-run.log", out_, index);
    // A mutant that makes the engine hang has every cell run to its wall limit: hours. At
    // --mutant-time the run is stopped (SIGTERM: it writes results.json with the cells that
    // finished), and the gate judges those.
    auto started = Clock::now();
    Outcome run = logged(argv, tree_, log, mutant_wall_, context_);
    if (cancel_.cancelled()) return;
    int rc = exit_of(run);
    bool overran = run.kind == OutcomeKind::timeout;
    if (overran && !fs::exists(runs + "/latest/results.json", ec)) {
      r.status = MutantStatus::stopped;
      r.detail = fmt::format("its cells overran --mutant-time {} and left no results.json; see {}", o_.mutant_time, log);
      return;
    }
    if (!overran && rc != 0 && rc != 1 && rc != 3) {
      r.status = MutantStatus::error;
      r.detail = fmt::format("crashgate run exited {} ({}); see {}", rc, run.detail, log);
      return;
    }
    // The gate judges the cells that finished: one the stop cut short is no failure of the mutant's.
    std::size_t cut_short = 0;
    if (overran) {
      auto stopped = load_results(runs + "/latest");
      if (!stopped) {
        r.status = MutantStatus::error;
        r.detail = fmt::format("its cells overran --mutant-time {}: {}", o_.mutant_time, stopped.error());
        return;
      }
      cut_short = drop_unfinished_cells(*stopped);
      stopped->interrupted = false;
      if (auto written = write_results(*stopped, fs::path(runs + "/latest").lexically_normal().string()); !written) {
        r.status = MutantStatus::error;
        r.detail = fmt::format("its cells overran --mutant-time {}: {}", o_.mutant_time, written.error());
        return;
      }
    }
    // The gate reruns new failures: a hanging mutant's take their wall limit again each. They
    // get what is left of --mutant-time; with none left, or when they overrun it, the gate
    // judges the cells as they came, without reruns.
    std::string gate_log = fmt::format("{}/logs/{:03}-gate.log", out_, index);
    std::vector<std::string> gate_argv{crashgate, "gate", runs + "/latest", "--baseline", tree_ + "/reports/baseline.json",
                                       "--known-issues", tree_ + "/reports/known-issues.toml", "--build-root", tree_ + "/build"};
    GatePlan plan = plan_gate(mutant_wall_, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
    Outcome gate;
    if (plan.reruns) {
      gate = logged(gate_argv, tree_, gate_log, plan.limit, context_);
      if (cancel_.cancelled()) return;
      if (gate.kind == OutcomeKind::timeout) plan = {.reruns = false, .limit = kGateFloor};
    }
    bool reruns_cut = !plan.reruns;
    if (reruns_cut) {
      gate_argv.insert(gate_argv.end(), {"--rerun-failures", "0"});
      gate = logged(gate_argv, tree_, gate_log + ".no-reruns", plan.limit, context_);
      if (cancel_.cancelled()) return;
    }
    int g = exit_of(gate);
    if (g != 0 && g != 1) {
      r.status = MutantStatus::error;
      r.detail = fmt::format("crashgate gate exited {} ({}); see {}", g, gate.detail, gate_log);
      return;
    }
    r.status = g == 1 ? MutantStatus::killed : overran ? MutantStatus::stopped : MutantStatus::survived;
    explain(r, runs + "/latest");
    if (overran)
      r.detail = fmt::format("its cells overran --mutant-time {}: {} on the {} that finished ({} cut short, left out)", o_.mutant_time,
                             g == 1 ? "the gate blocked" : "the gate passed", r.selected, cut_short);
    if (reruns_cut)
      r.detail += fmt::format("{}judged without reruns of its new failures: --mutant-time {} ran out", r.detail.empty() ? "" : "; ",
                              o_.mutant_time);
    // A run's cell directories take megabytes a mutant; its summary says what it found.
    fs::create_directories(out_ + "/summaries", ec);
    fs::copy_file(runs + "/latest/summary.md", fmt::format("{}/summaries/{:03}.md", out_, index), fs::copy_options::overwrite_existing, ec);
    fs::remove_all(runs, ec);
  }

  // How many cells ran, and which of them blocked.
  void explain(MutantResult& r, const std::string& run_dir) {
    auto results = load_results(run_dir);
    if (!results) {
      r.detail = results.error();
      return;
    }
    r.selected = results->cells.size();
    r.total = results->change ? results->change->total : results->cells.size();
    auto baseline = load_baseline(tree_ + "/reports/baseline.json");
    auto known = KnownIssues::load(tree_ + "/reports/known-issues.toml");
    GateOptions options{.baseline = baseline ? &*baseline : nullptr, .known_issues = known ? &*known : nullptr};
    GateDecision d = decide_gate(*results, options);
    for (const auto& g : d.new_failures) {
      if (r.killed_by.size() == 5) {
        r.killed_by.push_back(fmt::format("... and {} more", d.new_failures.size() - 5));
        break;
      }
      const CellResult& cell = results->cells[g.index];
      const Attempt* a = failing_attempt(cell);
      std::string what = a && !a->unmet.empty() ? a->unmet.front() : g.why;
      r.killed_by.push_back(fmt::format("{}: {}", cell.cell.id, what));
    }
  }

  int report() {
    if (!write_text(out_ + "/mutation.json", mutation_json(run_).dump(1) + "\n"))
      return harness_error("cannot write " + out_ + "/mutation.json");
    if (!write_text(out_ + "/report.md", mutation_markdown(run_, diffs_)))
      return harness_error("cannot write " + out_ + "/report.md");
    MutationScore s = score_of(run_.results);
    std::cout << fmt::format("mutation score: {}\nreport: {}/report.md (mutation.json beside it)\n", s.headline(), out_);
    return run_.interrupted ? kExitInterrupted : 0;
  }

  const MutateOptions& o_;
  const Cancellation& cancel_;
  RunContext context_;
  std::string root_, out_, tree_;
  std::chrono::milliseconds mutant_wall_{std::chrono::minutes(30)};  // --mutant-time
  MutationRun run_;
  std::vector<std::string> gone_;
  std::set<MutationRule> rules_;  // --rules; empty: every rule
  std::map<std::string, std::uint64_t> unmutated_;
  std::map<std::string, std::string> diffs_;
};

}  // namespace

void add_mutate_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MutateOptions>();
  auto* cmd = app.add_subcommand("mutate", "Measure the gate on generated bugs: apply each mutant of the engine, build, gate, score");
  std::string rules;
  for (const auto& r : mutation_rules()) rules += fmt::format("\n  {:<20} {}", r.name, r.what);
  cmd->footer(fmt::format(
      "Mutants are found by crashgate-mutants (libclang) in FILES (default: {}, less its failpoints, regression switches "
      "and power-cut Env), a seeded sample of --count taken a rule at a time. Each is applied in a git worktree of its own "
      "(--tree, default OUT/tree, kept with its builds between runs), built in every --builds preset, and gated as a pull "
      "request: `crashgate run scenarios --changed HEAD --change-sample 0`, then `crashgate gate` against the tree's "
      "baseline and known issues. Killed: the gate blocked. Survived: it passed. Equivalent: every driver binary came out "
      "byte for byte as without the mutant. The score is killed / (killed + survived).\n"
      "Writes OUT/mutants.json (the mutants tried: --from takes it, or mutation.json, to try the same ones again, at "
      "another commit with --at), OUT/mutation.json, OUT/report.md (every survivor with its diff) and each mutant's gate "
      "summary in OUT/summaries/; build, run and gate logs in OUT/logs/.\n"
      "Rules:{}\n"
      "Exit status: 0 scored; {} usage; {} the unmutated tree does not build, or crashgate-mutants failed; {} interrupted "
      "(the report holds what finished).",
      kDefaultSource, rules, kExitUsage, kExitHarnessError, kExitInterrupted));
  cmd->add_option("FILES", o->files, "Source files or folders to mutate, repository-relative")->type_name("PATH");
  cmd->add_option("--count", o->count, "Mutants to sample (default 40)")->check(positive_count());
  cmd->add_option("--seed", o->seed, "Seed of the sample (default 1)");
  cmd->add_option("--rules", o->rules, "Only these rules")->delimiter(',')->type_name("RULE,...");
  cmd->add_option("--mutant", o->ids, "Try this mutant (an id from --list or mutants.json); repeatable")->type_name("ID");
  cmd->add_option("--from", o->from, "Try the mutants listed in an earlier mutants.json or mutation.json")->type_name("FILE");
  cmd->add_flag("--list", o->list, "Print the mutants the options choose, and build nothing");
  cmd->add_option("--at", o->at, "The commit to mutate (default HEAD)")->type_name("REV");
  cmd->add_option("--out", o->out, "Where reports, logs and the worktree go (default: build/mutate)")->type_name("DIR");
  cmd->add_option("--tree", o->tree, "The worktree to mutate in (default: OUT/tree)")->type_name("DIR");
  cmd->add_option("--builds", o->builds, "Presets to build and gate (default release,debug,asan,tsan)")
      ->delimiter(',')
      ->type_name("PRESET,...");
  cmd->add_option("-j,--jobs", o->jobs, "Cells (and finder processes) at a time (default: the number of CPUs)")->check(positive_count());
  cmd->add_option("--mutant-time", o->mutant_time,
                  "The most one mutant's cells may take (default 30m): a mutant that hangs the engine is stopped there, "
                  "killed if the cells that finished make the gate block, else `stopped` (not counted)")
      ->type_name("DURATION");
  cmd->callback([o, &exit_code] {
    Cancellation cancel;
    InterruptGuard guard(cancel);
    exit_code = Mutator(*o, cancel).run();
  });
}

}  // namespace crashgate
