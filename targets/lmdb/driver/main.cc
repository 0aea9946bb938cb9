// crashgate-driver-lmdb: runs one scenario cell against LMDB
// (reports/driver-protocol.md), on the C++ driver kit. The kit does the
// protocol; this file says which handler runs each op, which values of the
// engine's enum keys LMDB accepts, and its file layout.
//
// What LMDB has not, or this driver does not do yet, it does not list (a cell
// with such an op is refused before it runs): delete (no filters), compact,
// append-empty-slots, the fsck op and failpoints. `read what = fsck` is ours,
// a check of data.mdb that reads the file without LMDB (fsck.cc). second-process re-executes this
// driver (--second-process ACTION ...; second_process.cc).
#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <lmdb.h>

#include "crashgate/driver_kit.h"
#include "session.h"

using namespace crashgate;
using namespace crashgate::lmdb_driver;

int main(int argc, char** argv) {
  kit::Driver driver("lmdb");
  int major = 0, minor = 0, patch = 0;
  mdb_version(&major, &minor, &patch);  // the liblmdb loaded, not the header built against
  driver.engine("lmdb", fmt::format("{}.{}.{}", major, minor, patch));
  std::unique_ptr<Session> session;
  driver.on_start([&](const nlohmann::json&, kit::Context& context) -> Checked<Done> {
    if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression)
      return failure(fmt::format("CRASHGATE_REGRESSION={}: LMDB has no regression switches", regression));
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
      .on("join", kit::member(session, &Session::join))
      .on("second-process", kit::member(session, &Session::second_process))
      .on("sleep", kit::member(session, &Session::sleep));
  const std::vector<std::string> files = {"data", "lock"};
  driver.values("create", "metric", {"none"})
      .values("create", "variant", {"default", "writemap"})
      .values("import", "metric", {"none"})
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"empty", "directory", "fifo", "foreign"})
      .values("read", "what", {"open", "count", "get", "search", "scan", "fsck"})
      .values("spawn-workload", "workload", {"get", "add", "mixed"})
      .values("second-process", "action", {"truncate-data", "rewrite-data", "read-loop", "killed-at-commit"});
  driver.second_process(run_second_process);
  driver.layout(lmdb_layout());
  // The env's default flags: mdb_txn_commit returns once the commit is synced,
  // so every step that wrote ended durable.
  driver.record_model([&] { return session->model(); }, [](std::string_view op) {
    return op == "create" || op == "add" || op == "remove" || op == "delete" || op == "sync";
  });
  return driver.main(argc, argv);
}
