// crashgate-driver-hnswlib: runs one scenario cell against hnswlib 0.6.2
// (reports/driver-protocol.md), on the C++ driver kit. The kit does the
// protocol; this file says which handler runs each op, which values of the
// engine's enum keys hnswlib accepts, and its file layout.
//
// What hnswlib has not, it does not list (a cell with such an op is refused
// before it runs): delete (no filters), compact, append-empty-slots, fsck and
// failpoints.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "engine.h"
#include "session.h"

using namespace crashgate;
using namespace crashgate::hnswlib_driver;

int main(int argc, char** argv) {
  kit::Driver driver("hnswlib");
  driver.engine("hnswlib", HNSWLIB_VERSION);  // the headers compiled in, as their package names them
  std::unique_ptr<Session> session;
  driver.on_start([&](const nlohmann::json&, kit::Context& context) -> Checked<Done> {
    if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression)
      return failure(fmt::format("CRASHGATE_REGRESSION={}: hnswlib has no regression switches", regression));
    session = std::make_unique<Session>(context);
    return done();
  });
  driver.before_store_ops([&](const Args&, kit::Context&) { return session->ensure_open(); });
  driver.on_finish([&](kit::Context&) { return session->join(); });
  // check_invariants: after each step, the whole store against the model (verify's walk).
  driver.invariants([&](const Args& step, kit::Context&) {
    if (StepResult opened = session->ensure_open(); !opened.is_ok) return opened;
    return session->verify(step);
  });
  driver.on("create", kit::member(session, &Session::create))
      .on("import", kit::member(session, &Session::import_store))
      .on("add", kit::member(session, &Session::add))
      .on("search", kit::member(session, &Session::search))
      .on("remove", kit::member(session, &Session::remove))
      .on("count", kit::member(session, &Session::count))
      .on("sync", kit::member(session, &Session::sync))
      .on("reopen", kit::member(session, &Session::reopen))
      .on("get", kit::member(session, &Session::get))
      .on("verify", kit::member(session, &Session::verify))
      .on("truncate", kit::member(session, &Session::truncate))
      .on("corrupt", kit::member(session, &Session::corrupt))
      .on("replace", kit::member(session, &Session::replace))
      .on("read", kit::member(session, &Session::read))
      .on("spawn-workload", kit::member(session, &Session::spawn_workload))
      .on("second-process", kit::member(session, &Session::second_process))
      .on("join", kit::member(session, &Session::join))
      .on("sleep", kit::member(session, &Session::sleep));
  const std::vector<std::string> files = {"index"};
  driver.values("create", "metric", metric_names())
      .values("import", "metric", metric_names())
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"empty", "directory", "fifo", "foreign"})
      .values("read", "what", {"open", "count", "get", "search", "scan"})
      // serialized first: the one whose threads never call into hnswlib at once (driver-check runs the first value)
      .values("spawn-workload", "workload", {"serialized", "add", "search", "remove", "mixed", "resize"})
      .values("second-process", "action", {"killed-during-save"});
  driver.layout(hnswlib_layout());
  // create, sync and reopen end in a save (then fsync): the model is durable there.
  driver.record_model([&] { return session->model(); },
                      [](std::string_view op) { return op == "create" || op == "sync" || op == "reopen"; });
  driver.second_process(run_second_process);
  return driver.main(argc, argv);
}
