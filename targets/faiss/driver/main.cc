// crashgate-driver-faiss: runs one scenario cell against FAISS 1.7.3 (Debian's
// libfaiss-dev, a static library built without our sanitizers)
// (reports/driver-protocol.md), on the C++ driver kit.
//
// The index type: the op table's `create` has no key for it (the op table
// needs an `index` key: "flat", "hnsw", "ivf", ...). Until it has, the type is
// create's `metric`, whose values are the engine's: flat-l2, hnsw-l2 and
// ivf-l2 (FAISS's index and its distance, L2), flat-l2 the default; hnsw =
// true means hnsw-l2 and hnsw = false flat-l2, for scenarios written for the
// other engines. A scenario sweeping the layout writes
// `metric = "{spot.file}-l2"`, the layout's file kinds being flat, hnsw, ivf.
//
// Not listed (refused before a cell runs): delete (no attributes to filter),
// compact, append-empty-slots, fsck, failpoints. replace has no `fifo`: FAISS's
// read_index opens the file with fopen and would wait for a writer forever.
//
// OpenMP: libfaiss parallelizes with OpenMP (gcc's libgomp: CMakeLists.txt);
// the driver runs it on one thread, so a cell's threads are the ones it
// starts, on a machine the cells share, and a search beside an add is the
// steps' and workloads' threads alone. libgomp reads OMP_NUM_THREADS when it
// is loaded, before main, and omp_set_num_threads sets the calling thread's
// own value: so every step (on the kit's worker thread: on_start runs on the
// main thread), each workload thread and the second process call it
// (omp_one_thread). Under TSan this matters beyond speed: with libgomp's own
// threads, TSan reports the caller reading a search's results that a libgomp
// worker wrote (faiss::heap_reorder), since libgomp's barrier is not
// instrumented: a false race, seen with CRASHGATE_FAISS_OMP_THREADS=2.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <faiss/Index.h>

#include "crashgate/driver_kit.h"
#include "session.h"

using namespace crashgate;
using namespace crashgate::faiss_driver;

// LeakSanitizer (asan builds): FAISS 1.7.3's read_index allocates each index
// with a raw new and, when a later read throws (a damaged or cut file), never
// frees what it had allocated. That leak is wholly inside libfaiss, found and
// reported once (the FAISS driver's report; faiss_read_index finds it on its
// first truncated input); without this suppression every asan cell that
// loads a damaged file would end as that same leak, and hide what else it does.
// The pattern is faiss::read_ (read_index, read_InvertedLists, ...): libfaiss
// has no frame pointers, so LSan's stacks end at the first FAISS frame, which
// is the reader that allocated. Leaks indirect from those are suppressed with them.
extern "C" const char* __lsan_default_suppressions() { return "leak:faiss::read_\n"; }

int main(int argc, char** argv) {
  kit::Driver driver("faiss");
  // libfaiss is linked statically (Debian's libfaiss.a): the headers' version is the library's.
  driver.engine("faiss", fmt::format("{}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH));
  std::unique_ptr<Session> session;
  driver.on_start([&](const nlohmann::json&, kit::Context& context) -> Checked<Done> {
    if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression)
      return failure(fmt::format("CRASHGATE_REGRESSION={}: FAISS has no regression switches", regression));
    session = std::make_unique<Session>(context);
    return done();
  });
  driver.before_store_ops([&](const Args&, kit::Context&) {
    omp_one_thread();
    return session->ensure_open();
  });
  driver.on_finish([&](kit::Context&) { return session->join(); });
  // check_invariants: after each step, the whole index against the model (verify's walk).
  driver.invariants([&](const Args& step, kit::Context&) {
    omp_one_thread();
    if (StepResult opened = session->ensure_open(); !opened.is_ok) return opened;
    return session->verify(step);
  });
  // Each handler sets OpenMP to one thread on the thread it runs on first.
  auto op = [&](auto handler) {
    kit::Handler bound = kit::member(session, handler);
    return kit::Handler([bound](const Args& a, kit::Context& c) {
      omp_one_thread();
      return bound(a, c);
    });
  };
  driver.on("create", op(&Session::create))
      .on("import", op(&Session::import_store))
      .on("add", op(&Session::add))
      .on("search", op(&Session::search))
      .on("remove", op(&Session::remove))
      .on("count", op(&Session::count))
      .on("sync", op(&Session::sync))
      .on("reopen", op(&Session::reopen))
      .on("get", op(&Session::get))
      .on("verify", op(&Session::verify))
      .on("truncate", op(&Session::truncate))
      .on("corrupt", op(&Session::corrupt))
      .on("replace", op(&Session::replace))
      .on("read", op(&Session::read))
      .on("spawn-workload", op(&Session::spawn_workload))
      .on("second-process", op(&Session::second_process))
      .on("join", op(&Session::join))
      .on("sleep", op(&Session::sleep));
  const std::vector<std::string> files = {"flat", "hnsw", "ivf"};
  driver.values("create", "metric", {"flat-l2", "hnsw-l2", "ivf-l2"})
      .values("import", "metric", {"flat-l2", "hnsw-l2", "ivf-l2"})
      .values("truncate", "file", files)
      .values("corrupt", "file", files)
      .values("replace", "file", files)
      .values("replace", "with", {"empty", "directory", "foreign"})
      .values("read", "what", {"open", "count", "get", "search", "scan"})
      .values("spawn-workload", "workload", {"search", "add", "mixed", "mixed-unlocked"})
      .values("second-process", "action", {"killed-during-save"});
  driver.layout(faiss_layout());
  // create, sync and reopen end in write_index (then fsync): the model is durable there.
  driver.record_model([&] { return session->model(); },
                      [](std::string_view op) { return op == "create" || op == "sync" || op == "reopen"; });
  driver.second_process(run_second_process);
  return driver.main(argc, argv);
}
