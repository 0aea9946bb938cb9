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

struct Job {
  std::string_view text;
};

void* run_job(void* arg) {
  check_filter(static_cast<Job*>(arg)->text);
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Job job{std::string_view(reinterpret_cast<const char*>(data), size)};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kWorkerStack);
  pthread_t worker;
  if (pthread_create(&worker, &attr, run_job, &job) != 0) std::abort();
  pthread_join(worker, nullptr);
  pthread_attr_destroy(&attr);
  return 0;
}
