#include "harness/support/gate_results.h"

#include <signal.h>

namespace crashgate::testing {

CellResult gate_cell(const std::string& id, Verdict verdict, const std::string& signature) {
  CellResult c;
  c.cell.id = id;
  c.cell.scenario = id.substr(0, id.find('/'));
  c.cell.target = "vstore";
  c.cell.build = "debug";
  c.cell.expect.outcome = {OutcomeKind::error};
  c.cell.expect.code = "corrupt";
  c.scenario_file = "scenarios/x/" + c.cell.scenario + ".toml";
  c.repro = "crashgate repro '" + id + "' --run /r";
  c.verdict = verdict;
  Attempt first;
  first.verdict = verdict == Verdict::flaky ? Verdict::fail : verdict;
  if (verdict == Verdict::pass) {
    first.outcome.kind = OutcomeKind::error;
  } else if (!signature.empty()) {
    first.outcome.kind = OutcomeKind::signal;
    first.outcome.signal = SIGBUS;
    first.outcome.detail = "SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin, which is 4,096 bytes long";
    first.outcome.crash_state = "signal SIGBUS\nvstore::VectorFile::slot\nvstore::Store::count\n" + signature;
    first.outcome.signature = signature;
    first.unmet = {"outcome: expected error, got signal"};
  } else {
    first.outcome.kind = OutcomeKind::ok;
    first.unmet = {"outcome: expected error, got ok"};
  }
  c.attempts.push_back(first);
  if (verdict == Verdict::flaky) {
    Attempt rerun;
    rerun.verdict = Verdict::pass;
    rerun.outcome.kind = OutcomeKind::error;
    c.attempts.push_back(rerun);
  }
  return c;
}

RunResults gate_run(std::vector<CellResult> cells) {
  RunResults r;
  r.run_id = "20260101T000000Z";
  r.run_dir = "/r";
  r.cells = std::move(cells);
  return r;
}

}  // namespace crashgate::testing
