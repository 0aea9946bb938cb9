// crashgate-driver-vstore: runs one scenario cell against the vstore engine
// (reports/driver-protocol.md). The driver kit does the protocol; this file
// says which handler runs each op, which values of the engine's enum keys
// vstore accepts, and its tables.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "session.h"
#include "vstore/regression.h"

using namespace crashgate;
using namespace crashgate::vstore_driver;

int main(int argc, char** argv) {
  kit::Driver driver("vstore");
  std::unique_ptr<Session> session;
  auto step = [&](StepResult (Session::*handler)(const Args&)) {
    return [&session, handler](const Args& a, kit::Context&) { return ((*session).*handler)(a); };
  };
  auto plain = [&](StepResult (Session::*handler)()) {
    return [&session, handler](const Args&, kit::Context&) { return ((*session).*handler)(); };
  };
  driver.on_start([&](const nlohmann::json&, kit::Context& context) -> Checked<Done> {
    // The historical bug a scenario replays on purpose: refused when this build has no switches.
    if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression) {
      vstore::Status st = vstore::set_regressions(regression);
      if (!st.ok()) return failure(fmt::format("CRASHGATE_REGRESSION={}: {}", regression, st.message()));
    }
    session = std::make_unique<Session>(context);
    return done();
  });
  driver.before_store_ops([&](const Args&, kit::Context&) { return session->ensure_open(); });
  driver.on_finish([&](kit::Context&) { return session->join(); });
  driver.on("create", step(&Session::create))
      .on("add", step(&Session::add))
      .on("search", step(&Session::search))
      .on("remove", step(&Session::remove))
      .on("count", step(&Session::count))
      .on("delete", step(&Session::delete_where))
      .on("compact", plain(&Session::compact))
      .on("sync", plain(&Session::sync))
      .on("reopen", plain(&Session::reopen))
      .on("get", step(&Session::get))
      .on("verify", step(&Session::verify))
      .on("truncate", step(&Session::truncate))
      .on("corrupt", step(&Session::corrupt))
      .on("replace", step(&Session::replace))
      .on("read", step(&Session::read))
      .on("append-empty-slots", step(&Session::append_empty_slots))
      .on("fsck", plain(&Session::fsck))
      .on("failpoints", step(&Session::failpoints))
      .on("spawn-workload", step(&Session::spawn_workload))
      .on("second-process", step(&Session::second_process))
      .on("join", plain(&Session::join))
      .on("sleep", step(&Session::sleep));
  const std::vector<std::string> files = {"vectors", "attrs", "ids", "graph", "upper", "manifest"};
  driver.values("create", "metric", {"l2", "ip", "cosine"})
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"directory", "empty", "fifo", "foreign"})
      .values("read", "what", {"open", "count", "get", "search", "scan", "fsck"})
      .values("spawn-workload", "workload", {"get", "add", "remove", "compact", "search", "mixed"})
      .values("second-process", "action", {"read-loop", "count", "open-writer", "crash-writes", "phased-writes"});
  driver.layout(store_layout());
  driver.listing("failpoints", print_failpoints).listing("regressions", print_regressions);
  driver.second_process(run_second_process);
  return driver.main(argc, argv);
}
