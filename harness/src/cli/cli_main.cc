#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/exec_command.h"
#include "cli/findings_command.h"
#include "cli/report_command.h"
#include "cli/gate_commands.h"
#include "cli/fuzz_command.h"
#include "cli/run_commands.h"
#include "cli/triage_command.h"
#include "cli/vocabulary_commands.h"
#include "crashgate/cli.h"

namespace crashgate {

int crashgate_main(int argc, char** argv) {
  // A closed stdout (crashgate exec ... | head) must end crashgate quietly, not by SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"crashgate: run programs isolated and observed; explain how they crash"};
  app.require_subcommand(1);
  int exit_code = 0;
  add_exec_command(app, exit_code);
  add_run_command(app, exit_code, std::vector<std::string>(argv, argv + argc));
  add_list_command(app, exit_code);
  add_show_command(app, exit_code);
  add_repro_command(app, exit_code);
  add_matrix_command(app, exit_code, std::vector<std::string>(argv, argv + argc));
  add_report_command(app, exit_code);
  add_findings_command(app, exit_code);
  add_vocabulary_commands(app, exit_code);
  add_driver_check_command(app, exit_code);
  add_gate_command(app, exit_code);
  add_baseline_command(app, exit_code);
  add_merge_command(app, exit_code, std::vector<std::string>(argv, argv + argc));
  add_fuzzing_commands(app, exit_code);
  add_triage_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace crashgate
