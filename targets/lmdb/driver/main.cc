// crashgate-driver-lmdb: runs one scenario cell against LMDB
// (reports/driver-protocol.md), on the C++ driver kit. The kit does the
// protocol; this file says which handler runs each op, which values of the
// engine's enum keys LMDB accepts, and its file layout.
//
// What LMDB has not, or this driver does not do yet, it does not list (a cell
// with such an op is refused before it runs): delete (no filters), compact,
// append-empty-slots, fsck, failpoints and second-process.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "session.h"

using namespace crashgate;
using namespace crashgate::lmdb_driver;

int main(int argc, char** argv) {
  kit::Driver driver("lmdb");
  std::unique_ptr<Session> session;
  auto step = [&](StepResult (Session::*handler)(const Args&)) {
    return [&session, handler](const Args& a, kit::Context&) { return ((*session).*handler)(a); };
  };
  auto plain = [&](StepResult (Session::*handler)()) {
    return [&session, handler](const Args&, kit::Context&) { return ((*session).*handler)(); };
  };
  driver.on_start([&](const nlohmann::json&, kit::Context& context) -> Checked<Done> {
    if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression)
      return failure(fmt::format("CRASHGATE_REGRESSION={}: LMDB has no regression switches", regression));
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
      .on("sync", plain(&Session::sync))
      .on("reopen", plain(&Session::reopen))
      .on("get", step(&Session::get))
      .on("verify", step(&Session::verify))
      .on("truncate", step(&Session::truncate))
      .on("corrupt", step(&Session::corrupt))
      .on("replace", step(&Session::replace))
      .on("read", step(&Session::read))
      .on("spawn-workload", step(&Session::spawn_workload))
      .on("join", plain(&Session::join))
      .on("sleep", step(&Session::sleep));
  const std::vector<std::string> files = {"data", "lock"};
  driver.values("create", "metric", {"none"})
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"empty", "directory", "fifo", "foreign"})
      .values("read", "what", {"open", "count", "get", "search", "scan"})
      .values("spawn-workload", "workload", {"get", "add", "mixed"});
  driver.layout(lmdb_layout());
  return driver.main(argc, argv);
}
