#include "harness/support/sample_results.h"

#include <signal.h>

namespace crashgate::testing {

RunResults sample_results() {
  Cell cell;
  cell.id = "truncated/vstore/asan[cut=0]";
  cell.scenario = "truncated";
  cell.target = "vstore";
  cell.build = "asan";
  cell.params = {{"cut", "0"}};
  cell.seed = 18'000'000'000'000'000'001ull;  // above 2^63: seeds use every bit
  cell.limits.stack = 8 << 20;
  cell.limits.worker_stack = 2 << 20;
  cell.limits.address_space = 1ull << 32;
  cell.limits.open_files = 256;
  cell.limits.cpu = std::chrono::milliseconds(5000);
  cell.limits.wall = std::chrono::milliseconds(20000);
  cell.limits.core = 0;
  cell.steps = {{0, "create", {{"dim", 64}, {"vectors", 2000}}, {}, {}}, {1, "count", nlohmann::json::object(), {}, {}}};
  cell.expect = {.outcome = {OutcomeKind::signal}, .signal = "SIGBUS", .step = 1, .message = "past the end"};
  cell.regression = "stale-size";

  Attempt failed;
  failed.verdict = Verdict::fail;
  failed.unmet = {"signal: expected SIGBUS, got SIGSEGV"};
  failed.work_dir = "/r/cells/0/attempt-1";
  failed.outcome.kind = OutcomeKind::signal;
  failed.outcome.signal = SIGSEGV;
  failed.outcome.detail = "SIGSEGV (SEGV_MAPERR) at 0x10";
  failed.outcome.failed_step = 1;
  failed.outcome.steps = {{0, "create", StepStatus::ok, "", "", 3, {}}, {1, "count", StepStatus::died, "", "", 0, {}}};
  failed.outcome.threads = {{1234, "driver", "crashed", {{"f", "a.cc", 3, 1, "/bin/d", 0x10, 0x5510}}, ""}};
  failed.outcome.crashing_thread = 0;
  Attempt passed;
  passed.verdict = Verdict::pass;
  passed.work_dir = "/r/cells/0/attempt-2";
  passed.outcome = failed.outcome;
  passed.outcome.signal = SIGBUS;
  passed.outcome.detail = "SIGBUS (BUS_ADRERR): read past the end of the file";

  CellResult result;
  result.cell = cell;
  result.scenario_file = "scenarios/truncated.toml";
  result.summary = "count() on a cut file";
  result.origin = "field-reports/000.txt";
  result.driver = "/b/asan/bin/crashgate-driver-vstore";
  result.verdict = Verdict::flaky;
  result.attempts = {failed, passed};
  result.repro = "crashgate repro 'truncated/vstore/asan[cut=0]' --run /r";

  RunResults r;
  r.run_id = "20250611T051130Z";
  r.run_dir = "/r";
  r.started_at = "2025-06-11T05:11:30Z";
  r.duration_ms = 1234;
  r.seed = 7;
  r.crashgate_version = "0.1.0";
  r.host = "ci-1 (Linux 6.1.0 x86_64)";
  r.command_line = {"crashgate", "run", "--rerun-failures", "1"};
  r.build_root = "/b";
  r.jobs = 2;
  r.rerun_failures = 1;
  r.interrupted = false;
  r.exit_code = 0;
  r.cells = {result};
  return r;
}

}  // namespace crashgate::testing
