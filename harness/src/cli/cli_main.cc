#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include "cli/exec_command.h"
#include "cli/findings_command.h"
#include "cli/footprints_command.h"
#include "cli/report_command.h"
#include "cli/gate_commands.h"
#include "cli/fuzz_command.h"
#include "cli/mutate_command.h"
#include "cli/record_command.h"
#include "cli/crash_check_command.h"
#include "cli/run_commands.h"
#include "cli/triage_command.h"
#include "cli/vocabulary_commands.h"
#include "crashgate/cli.h"

namespace crashgate {

namespace {

// The subcommands each add_* function registers. Building every subcommand's
// options was a good part of crashgate's start-up, which every `crashgate exec`
// pays, so when the first argument names a subcommand only its group is built;
// anything else (no argument, --help, a typo) builds all of them.
struct CommandGroup {
  std::vector<std::string_view> names;
  std::function<void(CLI::App&)> add;
};

}  // namespace

int crashgate_main(int argc, char** argv) {
  // A closed stdout (crashgate exec ... | head) must end crashgate quietly, not by SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  int exit_code = 0;
  std::vector<std::string> command_line(argv, argv + argc);
  const CommandGroup groups[] = {
      {{"exec"}, [&](CLI::App& app) { add_exec_command(app, exit_code); }},
      {{"run"}, [&](CLI::App& app) { add_run_command(app, exit_code, command_line); }},
      {{"list"}, [&](CLI::App& app) { add_list_command(app, exit_code); }},
      {{"show"}, [&](CLI::App& app) { add_show_command(app, exit_code); }},
      {{"repro"}, [&](CLI::App& app) { add_repro_command(app, exit_code); }},
      {{"matrix"}, [&](CLI::App& app) { add_matrix_command(app, exit_code, command_line); }},
      {{"report"}, [&](CLI::App& app) { add_report_command(app, exit_code); }},
      {{"findings"}, [&](CLI::App& app) { add_findings_command(app, exit_code); }},
      {{"kinds", "ops", "check"}, [&](CLI::App& app) { add_vocabulary_commands(app, exit_code); }},
      {{"driver-check"}, [&](CLI::App& app) { add_driver_check_command(app, exit_code); }},
      {{"gate"}, [&](CLI::App& app) { add_gate_command(app, exit_code); }},
      {{"baseline"}, [&](CLI::App& app) { add_baseline_command(app, exit_code); }},
      {{"merge"}, [&](CLI::App& app) { add_merge_command(app, exit_code, command_line); }},
      {{"fuzz", "coverage"}, [&](CLI::App& app) { add_fuzzing_commands(app, exit_code); }},
      {{"triage"}, [&](CLI::App& app) { add_triage_command(app, exit_code); }},
      {{"footprints"}, [&](CLI::App& app) { add_footprints_command(app, exit_code); }},
      {{"mutate"}, [&](CLI::App& app) { add_mutate_command(app, exit_code); }},
      {{"record", "crash-states"}, [&](CLI::App& app) { add_record_command(app, exit_code); }},
      {{"crash-check"}, [&](CLI::App& app) { add_crash_check_command(app, exit_code); }},
  };
  const CommandGroup* named = nullptr;
  if (argc > 1)
    for (const auto& group : groups)
      if (std::find(group.names.begin(), group.names.end(), std::string_view(argv[1])) != group.names.end())
        named = &group;

  auto make_app = [] {
    auto app = std::make_unique<CLI::App>("crashgate: run programs isolated and observed; explain how they crash");
    app->require_subcommand(1);
    return app;
  };
  auto app = make_app();
  if (named) named->add(*app);
  // A group that did not register the name it is listed under costs speed, never behaviour.
  auto has_named = [&] {
    return !app->get_subcommands([&](CLI::App* sub) { return sub->check_name(argv[1]); }).empty();
  };
  if (!named || !has_named()) {
    app = make_app();
    for (const auto& group : groups) group.add(*app);
  }
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    app->exit(e);
    return kExitUsage;
  } catch (const std::exception& e) {
    // Nothing a user gives crashgate should end here; when something does, say
    // so as crashgate's own failure instead of aborting.
    std::cerr << "crashgate: internal error (a bug in crashgate; please report it with the command line): " << e.what() << "\n";
    return kExitHarnessError;
  }
  return exit_code;
}

}  // namespace crashgate
