#include "cli/exec_command.h"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>

#include "cli/count_check.h"
#include "cli/interrupt.h"
#include "crashgate/cli.h"
#include "crashgate/result_json.h"
#include "crashgate/runner.h"
#include "crashgate/summary_text.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

struct ExecOptions {
  bool json = false;
  bool no_trace = false;
  std::map<std::string, std::string> limit_texts;  // scenario key -> text, from the limits table
  std::vector<std::string> env;
  std::string work_dir;
  std::string known_issues;
  std::string output_limit;
  unsigned repeat = 1;
  unsigned jobs = 0;
  std::vector<std::string> command;
};

std::string kinds_footer() {
  std::string out = "Exit status (one per outcome kind; --repeat: the first run that was not ok):\n";
  for (const auto& kind : outcome_kinds()) out += fmt::format("  {:>3}  {:<15} {}\n", kind.exit_code, kind.name, kind.meaning);
  out += fmt::format("  {:>3}  {:<15} {}\n", kExitUsage, "usage", "bad command line");
  out += fmt::format("  {:>3}  {:<15} {}\n", kExitInterrupted, "interrupted", "Ctrl-C (results so far are printed)");
  return out;
}

int run_exec(ExecOptions& options) {
  RunSpec spec;
  spec.argv = options.command;
  spec.work_dir = options.work_dir;
  spec.trace = !options.no_trace;
  for (const auto& field : limit_fields()) {
    auto text = options.limit_texts.find(std::string(field.scenario_key));
    if (text == options.limit_texts.end() || text->second.empty()) continue;
    if (auto error = set_limit(spec.limits, field, text->second)) {
      std::cerr << "crashgate exec: " << field.cli_flag << ": " << error->substr(error->find(':') + 2) << "\n";
      return kExitUsage;
    }
  }
  for (const auto& entry : options.env) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "crashgate exec: --env: '" << entry << "' is not KEY=VALUE\n";
      return kExitUsage;
    }
    spec.env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  if (!options.output_limit.empty()) {
    auto bytes = parse_size(options.output_limit);
    if (!bytes) {
      std::cerr << "crashgate exec: --output-limit: '" << options.output_limit << "' is not a size such as 64K\n";
      return kExitUsage;
    }
    spec.stdout_bounds = {*bytes, *bytes};
    spec.stderr_bounds = {std::max<std::size_t>(*bytes, 256 * 1024), std::max<std::size_t>(*bytes, 256 * 1024)};
  }
  std::optional<KnownIssues> known;
  if (!options.known_issues.empty()) {
    auto loaded = KnownIssues::load(options.known_issues);
    if (!loaded) {
      std::cerr << "crashgate exec: --known-issues: " << loaded.error() << "\n";
      return kExitUsage;
    }
    known = std::move(*loaded);
  }
  Cancellation cancellation;
  InterruptGuard guard(cancellation);
  RunContext context{&cancellation, known ? &*known : nullptr};
  std::vector<RunSpec> specs(options.repeat, spec);
  auto outcomes = run_parallel(specs, options.jobs, context);

  auto dump = [](const nlohmann::json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); };
  if (options.json) {
    if (outcomes.size() == 1) {
      std::cout << dump(to_json(outcomes.front())) << "\n";
    } else {
      auto all = nlohmann::json::array();
      for (const auto& o : outcomes) all.push_back(to_json(o));
      std::cout << dump(all) << "\n";
    }
  } else if (outcomes.size() == 1) {
    std::cout << summary_text(outcomes.front());
  } else {
    std::map<std::string, int> tally;
    for (const auto& o : outcomes) tally[std::string(to_string(o.kind)) + (o.signature.empty() ? "" : " " + o.signature)]++;
    std::cout << fmt::format("crashgate: {} runs:\n", outcomes.size());
    for (const auto& [what, count] : tally) std::cout << fmt::format("  {:>6}  {}\n", count, what);
    for (const auto& o : outcomes)
      if (o.kind != OutcomeKind::ok) {
        std::cout << "first run that was not ok:\n" << summary_text(o);
        break;
      }
  }
  if (cancellation.cancelled()) return kExitInterrupted;
  for (const auto& o : outcomes)
    if (o.kind != OutcomeKind::ok) return exit_code_of(o.kind);
  return 0;
}

}  // namespace

void add_exec_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ExecOptions>();
  auto* exec = app.add_subcommand("exec", "Run a command isolated and observed; print how it ended");
  exec->footer(kinds_footer());
  exec->add_flag("--json", options->json, "Print the result JSON (reports/result-schema.md) instead of a summary");
  for (const auto& field : limit_fields()) {
    std::string unit = field.unit == LimitUnit::bytes ? "SIZE" : field.unit == LimitUnit::count ? "N" : "DURATION";
    std::string help(field.meaning);
    if (field.member == "wall") help += " (default 30s)";
    exec->add_option(std::string(field.cli_flag), options->limit_texts[std::string(field.scenario_key)], help)
        ->type_name(unit);
  }
  exec->add_option("--env", options->env, "Set KEY=VALUE in the command's environment (repeatable)")
      ->type_name("KEY=VALUE");
  exec->add_option("--cwd", options->work_dir, "Run the command in this directory")->type_name("DIR");
  exec->add_option("--known-issues", options->known_issues, "Match crashes against this known-issues.toml")
      ->type_name("PATH");
  exec->add_option("--output-limit", options->output_limit,
                   "Keep this much of the start and of the end of stdout (default 64K each)")
      ->type_name("SIZE");
  exec->add_option("--repeat", options->repeat, "Run the command this many times (flakiness, benchmarks)")
      ->check(positive_count());
  exec->add_option("-j,--jobs", options->jobs, "Runs at a time with --repeat (default: the number of CPUs)")
      ->check(CLI::NonNegativeNumber);
  exec->add_flag("--no-trace", options->no_trace,
                 "Do not ptrace the command (exit status and sanitizer reports only; no stacks, no attribution)");
  exec->add_option("command", options->command, "The command and its arguments, after --")->required();
  exec->callback([options, &exit_code] { exit_code = run_exec(*options); });
}

}  // namespace crashgate
