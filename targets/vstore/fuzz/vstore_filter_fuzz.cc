// vstore_filter: parse, print, reparse, evaluate. The printed form must parse
// and print to itself; both trees must agree on every probe record; and a
// naive reference parser/evaluator written from the grammar alone
// (reference_filter.h) must accept the same texts and give the same answers.
// No input may crash, however deep or long.
//
// Everything runs on a 128 KiB stack: field report 003
// died on a 2 MiB worker stack, and the hardened engine promises to run deep
// filters on 64 KiB, so the call stack is part of what is tested.
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "reference_filter.h"
#include "vstore/filter.h"
#include "vstore/record.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRASHGATE_FUZZ_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#if __has_feature(thread_sanitizer)
#define CRASHGATE_FUZZ_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#endif
#ifndef CRASHGATE_FUZZ_ASAN
#define CRASHGATE_FUZZ_ASAN 0
#endif
#ifndef CRASHGATE_FUZZ_TSAN
#define CRASHGATE_FUZZ_TSAN 0
#endif

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

// What the sanitizers must hear of a switch between stacks, so that ASan
// reports an overflow of the small stack as a stack-overflow and TSan keeps
// the two stacks apart. No-ops in other builds.
struct SwitchNotes {
  void* tsan_fiber = nullptr;  // TSan's name for the stack being switched to
  void* fake_stack = nullptr;  // ASan's, for the stack being left
};
void* tsan_current_fiber() {
#if CRASHGATE_FUZZ_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
void* tsan_new_fiber() {
#if CRASHGATE_FUZZ_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
void before_switch([[maybe_unused]] SwitchNotes& n, [[maybe_unused]] const void* to_bottom, [[maybe_unused]] std::size_t to_size) {
#if CRASHGATE_FUZZ_ASAN
  __sanitizer_start_switch_fiber(&n.fake_stack, to_bottom, to_size);
#endif
#if CRASHGATE_FUZZ_TSAN
  __tsan_switch_to_fiber(n.tsan_fiber, 0);
#endif
}
void after_switch([[maybe_unused]] SwitchNotes& n, [[maybe_unused]] const void** from_bottom, [[maybe_unused]] std::size_t* from_size) {
#if CRASHGATE_FUZZ_ASAN
  __sanitizer_finish_switch_fiber(n.fake_stack, from_bottom, from_size);
#endif
}

// check_filter runs on a 128 KiB stack of its own, on the fuzzer's thread: a
// ucontext switch there and back per input. It ran on a worker thread fed
// through a pair of semaphores, and the two thread switches per input cost
// 12-17% of the run (60 s on one core, side by side: 17,783 and 18,972
// exec/s with the thread, 20,882 and 21,218 with this). A guard page below
// the stack turns an overflow into a SIGSEGV in every build.
class SmallStack {
 public:
  SmallStack() {
    long page = sysconf(_SC_PAGESIZE);
    void* mem = mmap(nullptr, kWorkerStack + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || mprotect(mem, page, PROT_NONE) != 0) std::abort();
    stack_ = static_cast<char*>(mem) + page;
    if (getcontext(&fiber_) != 0) std::abort();
    fiber_.uc_stack.ss_sp = stack_;
    fiber_.uc_stack.ss_size = kWorkerStack;
    fiber_.uc_link = nullptr;  // loop() never returns
    self_ = this;
    makecontext(&fiber_, &SmallStack::loop, 0);
    to_caller_.tsan_fiber = tsan_current_fiber();
    to_fiber_.tsan_fiber = tsan_new_fiber();
  }

  void run(std::string_view text) {
    text_ = text;
    before_switch(to_fiber_, stack_, kWorkerStack);
    if (swapcontext(&caller_, &fiber_) != 0) std::abort();
    after_switch(to_fiber_, nullptr, nullptr);
  }

 private:
  static void loop() {
    SmallStack* s = self_;
    for (;;) {
      after_switch(s->to_caller_, &s->caller_bottom_, &s->caller_size_);
      check_filter(s->text_);
      before_switch(s->to_caller_, s->caller_bottom_, s->caller_size_);
      if (swapcontext(&s->fiber_, &s->caller_) != 0) std::abort();
    }
  }

  static inline SmallStack* self_ = nullptr;  // makecontext passes only ints
  char* stack_ = nullptr;
  ucontext_t caller_{}, fiber_{};
  SwitchNotes to_fiber_, to_caller_;
  const void* caller_bottom_ = nullptr;  // the caller's stack, as ASan saw it on the way in
  std::size_t caller_size_ = 0;
  std::string_view text_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SmallStack* stack = new SmallStack();  // never destroyed: its stack is mapped for the process's life
  stack->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
