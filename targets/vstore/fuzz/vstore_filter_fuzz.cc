// vstore_filter: parse, print, reparse, evaluate. The printed form must parse
// and print to itself; both trees must agree on every probe record; and a
// naive reference parser/evaluator written from the grammar alone
// (reference_filter.h) must accept the same texts and give the same answers.
// No input may crash, however deep or long.
//
// Everything runs on a worker thread with a 128 KiB stack: field report 003
// died on a 2 MiB worker stack, and the hardened engine promises to run deep
// filters on 64 KiB, so the call stack is part of what is tested.
#include <pthread.h>
#include <semaphore.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "reference_filter.h"
#include "vstore/filter.h"
#include "vstore/record.h"

namespace {

constexpr std::size_t kWorkerStack = 128 * 1024;
constexpr std::size_t kReferenceDepth = 64;  // deeper inputs skip the differential (the reference recurses)

vstore::FilterLimits fuzz_limits() {
  vstore::FilterLimits limits;
  limits.max_input_bytes = 1 << 16;
  limits.max_depth = 5000;
  limits.max_clauses = 20000;
  return limits;
}

const std::vector<vstore::Record>& probes() {
  static const std::vector<vstore::Record> records = [] {
    std::vector<vstore::Record> out;
    const char* paths[] = {"a", "b", "src/x.py", "", "it's", "a b", "\\", "NOT"};
    for (int i = 0; i < 16; ++i) {
      vstore::Record r;
      r.id = static_cast<uint64_t>(i);
      if (i % 4 != 3) r.attributes.push_back({"file_path", paths[i % 8]});
      if (i % 2) r.attributes.push_back({"lang", i % 3 ? "py" : "rs"});
      if (i % 5 == 0) r.attributes.push_back({"x", paths[(i + 3) % 8]});
      out.push_back(std::move(r));
    }
    return out;
  }();
  return records;
}

void check_filter(std::string_view text) {
  const vstore::FilterLimits limits = fuzz_limits();
  vstore::Result<vstore::Filter> f = vstore::Filter::parse(text, limits);
  vstore_fuzz::ReferenceParse ref = vstore_fuzz::reference_parse(text, kReferenceDepth);
  bool ref_in_limits = ref.verdict != vstore_fuzz::ReferenceParse::kTooDeep && ref.clauses <= limits.max_clauses &&
                       text.size() <= limits.max_input_bytes;
  if (!f.ok()) {
    if (f.status().code() != vstore::Code::invalid_argument && f.status().code() != vstore::Code::resource_exhausted) std::abort();
    if (ref_in_limits && ref.verdict == vstore_fuzz::ReferenceParse::kAccepted) std::abort();  // rejects valid text
    return;
  }
  if (ref.verdict == vstore_fuzz::ReferenceParse::kRejected) std::abort();  // accepts malformed text
  std::string printed = f->to_string();
  vstore::Result<vstore::Filter> again = vstore::Filter::parse(printed);
  if (!again.ok()) std::abort();                    // the canonical text must parse
  if (again->to_string() != printed) std::abort();  // and print to itself
  for (const vstore::Record& r : probes()) {
    bool m = f->matches(r);
    if (m != again->matches(r)) std::abort();  // both trees mean the same
    if (ref.root && m != vstore_fuzz::reference_matches(*ref.root, r)) std::abort();  // and what the grammar says
  }
}

// One worker thread for the whole process, fed input by input: creating a
// thread per input (with ASan's per-thread setup) cost five times the check
// itself. The handoff is a pair of semaphores, so the fuzzer's thread sleeps
// while the worker runs and coverage is the worker's alone.
class SmallStackWorker {
 public:
  SmallStackWorker() {
    if (sem_init(&go_, 0, 0) != 0 || sem_init(&done_, 0, 0) != 0) std::abort();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kWorkerStack);
    pthread_t worker;
    if (pthread_create(&worker, &attr, &SmallStackWorker::loop, this) != 0) std::abort();
    pthread_attr_destroy(&attr);
    pthread_detach(worker);  // it waits on go_ until the process exits
  }

  void run(std::string_view text) {
    text_ = text;
    post(go_);
    wait(done_);
  }

 private:
  static void post(sem_t& s) {
    if (sem_post(&s) != 0) std::abort();
  }
  static void wait(sem_t& s) {
    while (sem_wait(&s) != 0)
      if (errno != EINTR) std::abort();
  }
  static void* loop(void* self) {
    auto* w = static_cast<SmallStackWorker*>(self);
    for (;;) {
      wait(w->go_);
      check_filter(w->text_);
      post(w->done_);
    }
  }

  sem_t go_, done_;
  std::string_view text_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SmallStackWorker* worker = new SmallStackWorker();  // never destroyed: it outlives exit()
  worker->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
