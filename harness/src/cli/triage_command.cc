// `crashgate triage INPUT...`: a crash from the field explained.
#include "cli/triage_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/interrupt.h"
#include "crashgate/cli.h"
#include "crashgate/driver_location.h"
#include "crashgate/core_file.h"
#include "crashgate/crash_log.h"
#include "crashgate/field_triage.h"
#include "crashgate/limits.h"
#include "crashgate/result_json.h"
#include "field/known_issue_entry.h"

namespace crashgate {
namespace {

struct TriageOptions {
  std::vector<std::string> inputs;
  std::string as;
  std::string log_format;
  std::string executable;
  std::string debuginfo_path;
  std::string target;
  std::string known_issues;
  std::vector<std::string> against;
  bool json = false;
  bool markdown = false;
  bool promote = false;
  std::string promote_id;
  std::string promote_title;
  std::string build = "release";
  std::string work_dir;
  std::vector<std::string> reads;
  unsigned jobs = 0;
  std::string corpus_root = "corpora/field";
  std::string scenario_dir = "scenarios/field";
  int minimize_trials = 300;
};

std::string footer() {
  std::string out = "Inputs (told apart by their content; --as overrides):\n";
  for (const auto& input : triage_inputs()) out += fmt::format("  {:<6} {}\n", input.name, input.meaning);
  out += "Log formats (--log-format forces one):\n";
  for (const auto& format : crash_log_formats()) out += fmt::format("  {:<20} {}\n", format.name, format.description);
  out += "Exit status:\n"
         "    0  every crash is one a known issue already names (a data directory: every read that crashed)\n"
         "    1  an input is a crash no known issue names (a new crash)\n"
         "    2  bad command line, or an input that is no core, crash log or data directory (the message says why)\n"
         "    3  the engine's driver could not read a data directory at all (its error is printed)\n"
         "  130  Ctrl-C\n";
  return out;
}

Checked<Outcome> read_input(const std::string& path, TriageInput kind, const TriageOptions& options, std::string& format) {
  if (kind == TriageInput::core) {
    format = "elf-core";
    CoreTriageOptions core_options;
    core_options.executable = options.executable;
    core_options.debuginfo_path = options.debuginfo_path;
    return outcome_from_core(path, core_options);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure(fmt::format("{}: cannot be read", path));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_crash_log(text.str(), path, options.log_format);
  if (!parsed) return failure(parsed.error());
  format = parsed->format;
  return std::move(parsed->outcome);
}

// A data directory: its engine (--target, else recognised from its files),
// its files against that engine's layout, and every read op on a copy.
Checked<StoreReport> triage_store(const std::string& dir, const TriageOptions& options, const KnownIssues* known,
                                  const std::vector<PastCrash>& past, const RunContext& context) {
  std::vector<std::string> errors;
  std::string build_root = default_build_root();
  std::vector<EngineLayout> engines = built_engine_layouts(build_root, options.build, options.target, errors);
  auto listing_errors = [&] {
    std::string text;
    for (const auto& e : errors) text += "; " + e;
    return text;
  };
  if (engines.empty())
    return failure(options.target.empty()
                       ? fmt::format("no engine driver is built for the {} build under {}{}", options.build, build_root, listing_errors())
                       : fmt::format("--target {}: {}{}", options.target,
                                     missing_driver_message(driver_path(build_root, options.build, options.target),
                                                            options.build, options.target)
                                         .value_or("its driver cannot list its layout"),
                                     listing_errors()));
  StoreReport report;
  const EngineLayout* engine = &engines.front();
  if (options.target.empty()) {
    auto recognised = recognise_engine(dir, engines);
    if (!recognised) return failure(recognised.error());
    for (const auto& e : engines)
      if (e.target == recognised->target) engine = &e;
    report.recognised = recognised->why;
  } else {
    report.recognised = "--target";
  }
  report.engine = *engine;
  auto inspection = inspect_store(dir, *engine);
  if (!inspection) return failure(inspection.error());
  report.inspection = std::move(*inspection);

  StoreTriageOptions store_options;
  store_options.build = options.build;
  store_options.jobs = options.jobs;
  store_options.reads = options.reads;
  bool temporary = options.work_dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "crashgate-triage-XXXXXX").string();
    if (!mkdtemp(pattern.data())) return failure(fmt::format("cannot make a work directory {}: {}", pattern, std::strerror(errno)));
    store_options.work_root = pattern;
  } else {
    store_options.work_root = options.work_dir;
  }
  std::cerr << fmt::format("crashgate triage: {}: reading it as {} does, each way on its own copy in {}\n", dir,
                           engine->target, store_options.work_root);
  auto reads = run_store_reads(dir, *engine, store_options, context);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(store_options.work_root, ec);
  }
  if (!reads) return failure(reads.error());
  report.reads = std::move(*reads);
  for (auto& read : report.reads) {
    triage(read.outcome, known);
    report.similar.push_back(is_crash(read.outcome) ? similar_crashes(read.outcome, past) : std::vector<SimilarCrash>{});
  }
  return report;
}

std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

// A data directory promoted: its first crashing read minimized, the smallest
// copy stored under CORPUS/<engine>/<signature>/, and a scenario written that
// imports it and expects the engine's correct answer (read, or a clean error),
// so the gate knows the crash until the engine is fixed.
Checked<std::string> promote_store(const TriageReport& r, const TriageOptions& options, const RunContext& context) {
  const StoreReport& store = *r.store;
  const StoreRead* crashed = nullptr;
  for (const auto& read : store.reads)
    if (is_crash(read.outcome) && !crashed) crashed = &read;
  if (!crashed) return failure(fmt::format("{}: no read crashed, so there is no crash to promote", r.input));
  const std::string& signature = crashed->outcome.signature;
  std::string corpus = fmt::format("{}/{}/{}", options.corpus_root, store.engine.target, signature);
  std::string name = fmt::format("field-{}-{}", store.engine.target, signature.substr(0, 8));
  std::string scenario = fmt::format("{}/{}.toml", options.scenario_dir, name);
  std::error_code ec;
  if (std::filesystem::exists(corpus, ec) || std::filesystem::exists(scenario, ec))
    return failure(fmt::format("{} or {} is there already: this crash was promoted before", corpus, scenario));

  std::string pattern = (std::filesystem::temp_directory_path() / "crashgate-minimize-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return failure(fmt::format("cannot make a work directory {}: {}", pattern, std::strerror(errno)));
  StoreMinimizeOptions minimize;
  minimize.work_root = pattern;
  minimize.build = options.build;
  minimize.max_trials = options.minimize_trials;
  std::cerr << fmt::format("crashgate triage: --promote: minimizing {} for read {} (signature {}), at most {} reads\n",
                           r.input, crashed->what, signature, minimize.max_trials);
  auto minimized = minimize_store(r.input, store.engine, crashed->what, signature, minimize, context);
  auto cleanup = [&] { std::filesystem::remove_all(pattern, ec); };
  if (!minimized) {
    cleanup();
    return failure(minimized.error());
  }
  std::filesystem::create_directories(corpus, ec);
  std::filesystem::copy(minimized->dir, corpus, std::filesystem::copy_options::recursive, ec);
  cleanup();
  if (ec) return failure(fmt::format("{}: cannot be written: {}", corpus, ec.message()));

  std::string toml = fmt::format(
      "# Promoted by `crashgate triage --promote` from {input}: read {what} crashed\n"
      "# {detail}\n"
      "# (signature {signature}). The store is its smallest copy that still crashes\n"
      "# the same way ({before} bytes in {files_before} files down to {after} in {files_after}, {trials} reads),\n"
      "# in {corpus}/.\n"
      "# The engine's correct answer is to read it or refuse it cleanly: until it\n"
      "# does, this cell fails; the gate blocks on it unless a known issue names the crash.\n"
      "name    = \"{name}\"\n"
      "summary = \"a {target} data directory from the field: read {what} ends ok or in a clean error, never a crash\"\n"
      "targets = [\"{target}\"]\n\n"
      "[[step]]\nop = \"import\"\nfrom = \"{corpus}\"\n\n"
      "[[step]]\nop = \"read\"\nwhat = \"{what}\"\n\n"
      "[expect]\noutcome = \"ok|error\"\n",
      fmt::arg("input", r.input), fmt::arg("what", crashed->what), fmt::arg("detail", one_line(crashed->outcome.detail)),
      fmt::arg("signature", signature), fmt::arg("before", format_thousands(minimized->bytes_before)),
      fmt::arg("after", format_thousands(minimized->bytes_after)), fmt::arg("files_before", minimized->files_before),
      fmt::arg("files_after", minimized->files_after), fmt::arg("trials", minimized->trials), fmt::arg("corpus", corpus),
      fmt::arg("name", name), fmt::arg("target", store.engine.target));
  std::filesystem::create_directories(options.scenario_dir, ec);
  std::ofstream out(scenario);
  out << toml;
  if (!out.flush()) return failure(fmt::format("{}: cannot be written", scenario));
  return fmt::format("minimized to {} bytes in {} file{} ({} nonzero; {} reads{}), stored in {}/, scenario {}",
                     format_thousands(minimized->bytes_after), minimized->files_after,
                     minimized->files_after == 1 ? "" : "s", format_thousands(minimized->nonzero_after),
                     minimized->trials, minimized->out_of_trials ? ", out of trials" : "", corpus, scenario);
}

int run_triage(const TriageOptions& options) {
  auto usage = [](const std::string& message) {
    std::cerr << "crashgate triage: " << message << "\n";
    return kExitUsage;
  };
  std::optional<TriageInput> forced;
  if (!options.as.empty()) {
    auto kind = parse_triage_input(options.as);
    if (!kind) return usage("--as: " + kind.error());
    forced = *kind;
  }
  if (!options.executable.empty()) {
    struct stat st {};
    if (stat(options.executable.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return usage(fmt::format("--exe: {}: no such program file", options.executable));
  }
  // The known issues: the file named, else the project's own when run from a checkout.
  std::string known_path = options.known_issues;
  struct stat st {};
  if (known_path.empty() && stat(kDefaultKnownIssues, &st) == 0) known_path = kDefaultKnownIssues;
  std::optional<KnownIssues> known;
  std::vector<PastCrash> past;
  bool creating = options.promote && !known_path.empty() && stat(known_path.c_str(), &st) != 0 && errno == ENOENT;
  if (!known_path.empty() && !creating) {  // --promote starts a known-issues file that is not there yet
    auto loaded = KnownIssues::load(known_path);
    if (!loaded) return usage("--known-issues: " + loaded.error());
    known = std::move(*loaded);
    past = past_crashes(*known, known_path);
  }
  for (const auto& run : options.against) {
    auto crashes = past_crashes_of_run(run);
    if (!crashes) return usage("--against: " + crashes.error());
    past.insert(past.end(), crashes->begin(), crashes->end());
  }

  Cancellation cancellation;
  InterruptGuard guard(cancellation);
  RunContext context{&cancellation, known ? &*known : nullptr};
  // An input that cannot be triaged is said and skipped; the others are still reported.
  int failed = 0;
  std::vector<TriageReport> reports;
  for (const auto& path : options.inputs) {
    TriageReport report;
    report.input = path;
    if (forced) {
      report.kind = *forced;
    } else {
      auto kind = detect_triage_input(path);
      if (!kind) {
        failed = std::max(failed, usage(kind.error()));
        continue;
      }
      report.kind = *kind;
    }
    if (report.kind == TriageInput::store) {
      auto store = triage_store(path, options, known ? &*known : nullptr, past, context);
      if (cancellation.cancelled()) return kExitInterrupted;
      if (!store) {
        failed = std::max(failed, usage(store.error()));
        continue;
      }
      report.format = store->engine.target;
      if (std::all_of(store->reads.begin(), store->reads.end(),
                      [](const StoreRead& r) { return r.outcome.kind == OutcomeKind::harness_error; })) {
        std::cerr << fmt::format("crashgate triage: {}: the {} driver could not run a single read: {}\n", path, store->engine.target,
                                 store->reads.empty() ? std::string("none was run") : store->reads.front().outcome.stderr_excerpt.text());
        failed = std::max(failed, kExitHarnessError);
        continue;
      }
      // The report's one outcome: the first read that crashed, else the first that failed.
      const StoreRead* first = nullptr;
      for (const auto& read : store->reads)
        if (is_crash(read.outcome) && !first) first = &read;
      for (const auto& read : store->reads)
        if (read.outcome.kind != OutcomeKind::ok && !first) first = &read;
      if (first) {
        report.outcome = first->outcome;
        report.similar = store->similar[static_cast<std::size_t>(first - store->reads.data())];
      } else {
        report.outcome.kind = OutcomeKind::ok;
        report.outcome.detail = "every read works";
      }
      report.store = std::move(*store);
      reports.push_back(std::move(report));
      continue;
    }
    auto outcome = read_input(path, report.kind, options, report.format);
    if (!outcome) {
      failed = std::max(failed, usage(outcome.error()));
      continue;
    }
    report.outcome = std::move(*outcome);
    if (!options.target.empty() && !report.outcome.engine) report.outcome.engine = EngineId{options.target, ""};
    triage(report.outcome, known ? &*known : nullptr);
    report.similar = similar_crashes(report.outcome, past);
    reports.push_back(std::move(report));
  }

  if (reports.empty()) {
    // nothing to print: each input's error is said above
  } else if (options.json) {
    auto dump = [](const nlohmann::json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); };
    if (reports.size() == 1) {
      std::cout << dump(triage_json(reports.front())) << "\n";
    } else {
      auto all = nlohmann::json::array();
      for (const auto& r : reports) all.push_back(triage_json(r));
      std::cout << dump(all) << "\n";
    }
  } else {
    for (std::size_t i = 0; i < reports.size(); ++i)
      std::cout << (i ? "\n" : "") << (options.markdown ? triage_markdown(reports[i]) : triage_text(reports[i]));
  }

  if (options.promote) {
    std::string file = known_path.empty() ? std::string(kDefaultKnownIssues) : known_path;
    for (const auto& r : reports) {
      if (r.store) {
        auto promoted = promote_store(r, options, context);
        if (!promoted) return usage("--promote: " + promoted.error());
        std::cerr << "crashgate triage: --promote: " << *promoted << "\n";
        continue;
      }
      if (r.outcome.known_issue) {
        std::cerr << fmt::format("crashgate triage: --promote: {} is known issue {} already; nothing added\n", r.input,
                                 r.outcome.known_issue->id);
        continue;
      }
      KnownIssueEntry entry;
      entry.id = options.promote_id.empty() ? "FIELD-" + r.outcome.signature.substr(0, 8) : options.promote_id;
      entry.title = options.promote_title.empty() ? r.outcome.detail : options.promote_title;
      entry.signature = r.outcome.signature;
      entry.crash_state = r.outcome.crash_state;
      entry.engine = options.target;
      entry.origin = fmt::format("crashgate triage {} ({}{})", r.input, to_string(r.kind),
                                 r.format.empty() ? "" : ", " + r.format);
      auto added = append_known_issue(file, entry);
      if (!added) return usage("--promote: " + added.error());
      std::cerr << fmt::format("crashgate triage: --promote: added {} to {}\n", entry.id, file);
    }
  }

  if (failed) return failed;
  // A new crash is one no known issue names; a store's every read counts.
  for (const auto& r : reports) {
    if (r.store) {
      for (const auto& read : r.store->reads)
        if (is_crash(read.outcome) && !read.outcome.known_issue) return kExitCellsFailed;
    } else if (!r.outcome.known_issue) {
      return kExitCellsFailed;
    }
  }
  return 0;
}

}  // namespace

void add_triage_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TriageOptions>();
  auto* cmd = app.add_subcommand("triage",
                                 "Explain a crash from the field: a core file, a crash log or a data directory that "
                                 "crashes its engine; match it against the known issues and earlier runs");
  cmd->footer(footer());
  cmd->add_option("INPUT", options->inputs, "Core files, crash logs or data directories")->required()->type_name("INPUT");
  cmd->add_option("--as", options->as, "Read every INPUT as this kind (core, log, store) instead of telling from its content")
      ->type_name("KIND");
  cmd->add_option("--log-format", options->log_format, "Parse logs as this format (see below) instead of detecting it")
      ->type_name("FORMAT");
  cmd->add_option("--exe", options->executable,
                  "The program that dumped the core (default: the path the core records, if it exists here)")
      ->type_name("PATH");
  cmd->add_option("--debuginfo-path", options->debuginfo_path,
                  "Where to look for separate debug info, elfutils' form (default \"-:.debug:/usr/lib/debug\")")
      ->type_name("DIRS");
  cmd->add_option("--target", options->target,
                  "The engine the crash is of (lmdb, hnswlib, ...): its known issues then match; for a data directory, the "
                  "driver that reads it (default: the engine whose layout its files fit)")
      ->type_name("ENGINE");
  cmd->add_option("--build", options->build, "For a data directory: the build whose driver reads it (default release)")
      ->type_name("BUILD");
  cmd->add_option("--reads", options->reads,
                  "For a data directory: only these ways of reading it (comma-separated; default every one the driver has)")
      ->delimiter(',')
      ->type_name("WAYS");
  cmd->add_option("--work-dir", options->work_dir,
                  "For a data directory: keep the copies and each read's files here (default: a temporary directory, removed)")
      ->type_name("DIR");
  cmd->add_option("--corpus-root", options->corpus_root,
                  "With --promote on a data directory: where the minimized copy goes, under ENGINE/SIGNATURE/ (default corpora/field)")
      ->type_name("DIR");
  cmd->add_option("--scenario-dir", options->scenario_dir,
                  "With --promote on a data directory: where its scenario goes (default scenarios/field)")
      ->type_name("DIR");
  cmd->add_option("--minimize-trials", options->minimize_trials,
                  "With --promote on a data directory: reads the minimizer may run (default 300)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-j,--jobs", options->jobs, "Reads at a time (default: the number of CPUs)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--known-issues", options->known_issues,
                  fmt::format("Known issues to match (default {} when it exists here)", kDefaultKnownIssues))
      ->type_name("FILE");
  cmd->add_option("--against", options->against,
                  "Compare with the crashes of these runs or fuzz runs (run directories or results.json)")
      ->type_name("RUN");
  auto* json = cmd->add_flag("--json", options->json, "Print the result JSON with a \"triage\" part");
  cmd->add_flag("--markdown", options->markdown, "Print Markdown to paste into a ticket")->excludes(json);
  cmd->add_flag("--promote", options->promote,
                "Add each crash no known issue names to the known-issues file, by signature and crash state; for a data "
                "directory, minimize it and write a regression scenario that imports it");
  cmd->add_option("--id", options->promote_id, "With --promote: the new issue's id (default FIELD-<signature>)")
      ->type_name("ID");
  cmd->add_option("--title", options->promote_title, "With --promote: the new issue's title (default: the crash's detail)")
      ->type_name("TEXT");
  cmd->callback([options, &exit_code] { exit_code = run_triage(*options); });
}

}  // namespace crashgate
