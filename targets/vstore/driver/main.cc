// crashgate-driver-vstore: runs one scenario cell against the vstore engine
// (reports/driver-protocol.md). The driver kit does the protocol; this file
// says which handler runs each op, which values of the engine's enum keys
// vstore accepts, and its tables.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "entry_points.h"
#include "session.h"
#include "vstore/regression.h"

using namespace crashgate;
using namespace crashgate::vstore_driver;

int main(int argc, char** argv) {
  kit::Driver driver("vstore");
  driver.engine("vstore", VSTORE_ENGINE_VERSION);
  std::unique_ptr<Session> session;
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
  driver.invariants(kit::member(session, &Session::invariants));
  driver.on("create", kit::member(session, &Session::create))
      .on("import", kit::member(session, &Session::import_store))
      .on("add", kit::member(session, &Session::add))
      .on("search", kit::member(session, &Session::search))
      .on("remove", kit::member(session, &Session::remove))
      .on("count", kit::member(session, &Session::count))
      .on("delete", kit::member(session, &Session::delete_where))
      .on("compact", kit::member(session, &Session::compact))
      .on("sync", kit::member(session, &Session::sync))
      .on("reopen", kit::member(session, &Session::reopen))
      .on("get", kit::member(session, &Session::get))
      .on("verify", kit::member(session, &Session::verify))
      .on("truncate", kit::member(session, &Session::truncate))
      .on("corrupt", kit::member(session, &Session::corrupt))
      .on("replace", kit::member(session, &Session::replace))
      .on("read", kit::member(session, &Session::read))
      .on("append-empty-slots", kit::member(session, &Session::append_empty_slots))
      .on("fsck", kit::member(session, &Session::fsck))
      .on("failpoints", kit::member(session, &Session::failpoints))
      .on("spawn-workload", kit::member(session, &Session::spawn_workload))
      .on("second-process", kit::member(session, &Session::second_process))
      .on("join", kit::member(session, &Session::join))
      .on("sleep", kit::member(session, &Session::sleep));
  const std::vector<std::string> files = {"vectors", "attrs", "ids", "graph", "upper", "manifest"};
  driver.values("create", "metric", {"l2", "ip", "cosine"})
      .values("import", "metric", {"l2", "ip", "cosine"})
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"directory", "empty", "fifo", "foreign"})
      .values("read", "what", read_mode_names())
      .values("spawn-workload", "workload", workload_kind_names())
      .values("second-process", "action", {"read-loop", "count", "open-writer", "crash-writes", "phased-writes"});
  driver.layout(store_layout());
  // create ends in Store::sync, and sync is one: the model is durable there.
  driver.record_model([&] { return session->model(); }, [](std::string_view op) { return op == "create" || op == "sync"; });
  driver.listing("failpoints", print_failpoints).listing("regressions", print_regressions).listing("entry-points", print_entry_points);
  driver.second_process(run_second_process);
  return driver.main(argc, argv);
}
