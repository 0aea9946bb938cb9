// crashgate-driver-vstore --cell WORK_DIR/cell.json
// Runs one scenario cell against the vstore engine, reporting each step on the
// event pipe (reports/driver-protocol.md). Steps run on one worker thread whose
// stack is the cell's worker_stack when set (a 2 MiB tokio worker in the field).
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cell_values.h"
#include "event_pipe.h"
#include "session.h"
#include "vstore/regression.h"

namespace crashgate::vstore_driver {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0, kExitStepError = 1, kExitCannotRun = 2;

int usage(const std::string& why) {
  fmt::print(stderr,
             "crashgate-driver-vstore: {}\n"
             "usage: crashgate-driver-vstore --cell WORK_DIR/cell.json\n"
             "       crashgate-driver-vstore --list failpoints|regressions\n"
             "Runs one crashgate scenario cell against vstore (protocol 1; see reports/driver-protocol.md),\n"
             "or prints the engine's failpoint sites or regression switches as JSON lines.\n",
             why);
  return kExitCannotRun;
}

// Whether a step's own `expect` ("ok", "error", "error:CODE") matches how it ended.
bool matches_expect(const std::string& expect, const StepOutcome& o) {
  if (expect.empty() || expect == "ok") return o.ok;
  if (expect == "error") return !o.ok;
  if (expect.rfind("error:", 0) == 0) return !o.ok && o.code == expect.substr(6);
  return false;
}

// A second process crashed: leave the step unended and exit 128 + signal, the
// shell's convention, so the runner attributes the crash it traced there.
[[noreturn]] void exit_for_descendant(const StepOutcome& o) {
  fmt::print(stderr, "{}\n", o.message);
  std::fflush(nullptr);
  ::_exit(128 + o.descendant_signal);
}

struct CellRun {
  json cell;
  EventPipe* events;
  int exit_code = kExitOk;
};

void run_steps(CellRun* run) {
  const json& cell = run->cell;
  std::string work_dir = get_string(cell, "work_dir", ".");
  Session session(work_dir, get_u64(cell, "seed", 1), get_u64(cell, "worker_stack", 0), run->events);
  for (const json& step : cell["steps"]) {
    int index = static_cast<int>(get_u64(step, "index", 0));
    std::string op = get_string(step, "op");
    std::string expect = get_string(step, "expect");
    run->events->step_start(index, op);
    auto start = std::chrono::steady_clock::now();
    StepOutcome o = session.run(step);
    if (o.descendant_signal != 0) exit_for_descendant(o);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!expect.empty()) {
      if (matches_expect(expect, o)) {
        if (!o.ok) run->events->log(fmt::format("step {} ({}) ended as expected: {}: {}", index, op, o.code, o.message));
        o = StepOutcome::Ok();
      } else {
        o = StepOutcome::Error("wrong-result", fmt::format("step expected {}, got {}", expect, o.ok ? "ok" : o.code + ": " + o.message));
      }
    }
    run->events->step_end(index, o.ok, o.code, o.message, ms);
    if (!o.ok) {
      fmt::print(stderr, "step {} ({}): {}: {}\n", index, op, o.code, o.message);
      run->exit_code = kExitStepError;
      return;
    }
  }
  StepOutcome joined = session.join();
  if (joined.descendant_signal != 0) {
    run->events->step_start(static_cast<int>(cell["steps"].size()), "join");
    exit_for_descendant(joined);
  }
  if (!joined.ok) {
    int index = static_cast<int>(cell["steps"].size());
    run->events->step_start(index, "join");
    run->events->step_end(index, false, joined.code, joined.message, 0);
    fmt::print(stderr, "background work: {}: {}\n", joined.code, joined.message);
    run->exit_code = kExitStepError;
  }
}

}  // namespace
}  // namespace crashgate::vstore_driver

int main(int argc, char** argv) {
  using namespace crashgate::vstore_driver;
  if (argc >= 2 && std::strcmp(argv[1], "--second-process") == 0) return run_second_process(argc, argv);
  if (argc == 3 && std::strcmp(argv[1], "--list") == 0) return print_listing(argv[2]);
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    usage("help");
    return 0;
  }
  if (argc != 3 || std::strcmp(argv[1], "--cell") != 0) return usage("expected --cell PATH");
  std::ifstream in(argv[2]);
  if (!in) return usage(fmt::format("cannot read {}", argv[2]));
  std::stringstream text;
  text << in.rdbuf();
  CellRun run;
  run.cell = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (run.cell.is_discarded() || !run.cell.is_object()) return usage(fmt::format("{}: not valid JSON", argv[2]));
  if (get_u64(run.cell, "protocol", 0) != 1) return usage(fmt::format("{}: protocol {} (this driver speaks 1)", argv[2], get_string(run.cell, "protocol", "missing")));
  if (!run.cell.contains("steps") || !run.cell["steps"].is_array()) return usage(fmt::format("{}: no steps array", argv[2]));
  if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression) {
    vstore::Status st = vstore::set_regressions(regression);
    if (!st.ok()) return usage(fmt::format("CRASHGATE_REGRESSION={}: {}", regression, st.message()));
  }
  EventPipe events;
  run.events = &events;
  events.hello();

  // The steps run on a worker thread with the scenario's stack size.
  uint64_t stack = get_u64(run.cell, "worker_stack", 0);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack > 0) pthread_attr_setstacksize(&attr, stack);
  pthread_t worker;
  int rc = pthread_create(&worker, &attr, [](void* p) -> void* {
    run_steps(static_cast<CellRun*>(p));
    return nullptr;
  }, &run);
  pthread_attr_destroy(&attr);
  if (rc != 0) return usage(fmt::format("cannot start the worker thread: {}", std::strerror(rc)));
  pthread_join(worker, nullptr);
  if (run.exit_code == 0) events.done();
  return run.exit_code;
}
