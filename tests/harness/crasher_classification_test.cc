// Each crash program, and exactly how crashgate must classify it: kind,
// signal, attribution, stacks, and a function and file:line for project frames.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/summary_text.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using testing::crasher_path;
using testing::find_frame;
using testing::find_stack;
using testing::run_crasher;
using testing::scratch_dir;

// Every frame in the crasher's own source must name its function, file and line.
void expect_project_frames_resolved(const Outcome& o, const std::string& source_name) {
  int project_frames = 0;
  for (const auto& thread : o.threads)
    for (const auto& frame : thread.frames) {
      if (frame.file.find("tests/harness/crashers/" + source_name) == std::string::npos) continue;
      ++project_frames;
      EXPECT_FALSE(frame.function.empty()) << frame.file << ":" << frame.line;
      EXPECT_GT(frame.line, 0) << frame.function;
    }
  EXPECT_GT(project_frames, 0) << "no frame from " << source_name << " in:\n" << summary_text(o);
}

TEST(Crashers, NullDereferenceIsSigsegvInTheNullPage) {
  Outcome o = run_crasher("null_deref");
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_EQ(o.si_code, SEGV_MAPERR);
  EXPECT_EQ(o.fault_address, 8u * 4);  // payload[3] of a null Record
  ASSERT_TRUE(o.attribution);
  EXPECT_TRUE(o.attribution->null_page);
  const Frame* frame = find_frame(o, "read_payload");
  ASSERT_NE(frame, nullptr) << summary_text(o);
  EXPECT_THAT(frame->file, HasSubstr("null_deref.cc"));
  EXPECT_EQ(frame->line, 7);
  EXPECT_THAT(frame->module, HasSubstr("null_deref"));
  EXPECT_EQ(o.crash_state, "signal SIGSEGV\nread_payload\nmain");
  EXPECT_EQ(o.signature.size(), 16u);
  expect_project_frames_resolved(o, "null_deref.cc");
}

TEST(Crashers, ReadPastEofOfATruncatedMappingIsSigbusWithFileOffsetAndSize) {
  std::string dir = scratch_dir("store");
  Outcome o = run_crasher("mmap_past_eof", {dir});
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGBUS);
  EXPECT_EQ(o.si_code, BUS_ADRERR);
  ASSERT_TRUE(o.attribution);
  EXPECT_EQ(o.attribution->file, dir + "/vectors.bin");
  EXPECT_EQ(o.attribution->file_offset, 12288u);
  EXPECT_EQ(o.attribution->file_size, 4096u);
  EXPECT_TRUE(o.attribution->past_eof);
  EXPECT_EQ(o.attribution->access, "read");
  EXPECT_THAT(o.detail, HasSubstr("read at offset 12,288 of vectors.bin, which is 4,096 bytes long"));
  ASSERT_NE(find_frame(o, "read_slot"), nullptr) << summary_text(o);
  expect_project_frames_resolved(o, "mmap_past_eof.cc");
}

TEST(Crashers, WriteToAReadOnlyMappingIsAWriteAccessError) {
  std::string dir = scratch_dir("store");
  Outcome o = run_crasher("readonly_write", {dir});
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_EQ(o.si_code, SEGV_ACCERR);
  ASSERT_TRUE(o.attribution);
  EXPECT_EQ(o.attribution->access, "write");
  EXPECT_EQ(o.attribution->file, dir + "/index.bin");
  EXPECT_EQ(o.attribution->file_offset, 100u);
  EXPECT_FALSE(o.attribution->past_eof);
  EXPECT_NE(find_frame(o, "stamp_header"), nullptr) << summary_text(o);
}

TEST(Crashers, RecursionOnATwoMebibyteThreadIsAStackOverflowNamingThatThread) {
  Outcome o = run_crasher("thread_stack_overflow");
  ASSERT_EQ(o.kind, OutcomeKind::stack_overflow) << summary_text(o);
  EXPECT_EQ(o.signal, SIGSEGV);
  ASSERT_TRUE(o.attribution);
  EXPECT_TRUE(o.attribution->stack_guard);
  EXPECT_EQ(o.attribution->stack_thread_name, "filter-worker");
  EXPECT_EQ(o.attribution->thread_stack_size, 2u * 1024 * 1024);
  ASSERT_GE(o.crashing_thread, 0);
  EXPECT_EQ(o.threads[o.crashing_thread].name, "filter-worker");
  EXPECT_EQ(o.attribution->stack_thread, o.threads[o.crashing_thread].tid);
  EXPECT_THAT(o.detail, HasSubstr("stack guard of thread"));
  EXPECT_THAT(o.detail, HasSubstr("(stack size 2 MiB)"));
  EXPECT_EQ(o.crash_state, "stack-overflow\nparse_clause\nparse_clause\nparse_clause");
  EXPECT_GE(o.threads.size(), 2u);  // main is waiting in pthread_join
}

TEST(Crashers, AbortIsSigabrtWithTheCallerInTheCrashState) {
  Outcome o = run_crasher("abort");
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGABRT);
  EXPECT_EQ(o.crash_state, "signal SIGABRT\ncheck_invariant\nmain");
  EXPECT_THAT(o.stderr_excerpt.head, HasSubstr("invariant broken"));
}

TEST(Crashers, IntegerDivisionByZeroIsSigfpe) {
  Outcome o = run_crasher("divide_by_zero");
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_EQ(o.signal, SIGFPE);
  EXPECT_EQ(o.si_code, FPE_INTDIV);
  const Frame* frame = find_frame(o, "average");
  ASSERT_NE(frame, nullptr) << summary_text(o);
  EXPECT_EQ(frame->line, 2);
}

TEST(Crashers, AHangIsATimeoutWithTheStackWhereItHung) {
  Limits limits;
  limits.wall = std::chrono::milliseconds(300);
  Outcome o = run_crasher("hang", {}, limits);
  ASSERT_EQ(o.kind, OutcomeKind::timeout) << summary_text(o);
  EXPECT_GE(o.duration_ms, 300);
  EXPECT_LT(o.duration_ms, 5000);
  EXPECT_NE(find_frame(o, "wait_forever"), nullptr) << summary_text(o);
}

TEST(Crashers, RunningOutOfAddressSpaceIsOom) {
  Limits limits;
  limits.address_space = 256ull * 1024 * 1024;
  Outcome o = run_crasher("memory_hog", {}, limits);
  EXPECT_EQ(o.kind, OutcomeKind::oom) << summary_text(o);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("bad_alloc"));
}

TEST(Crashers, ExitThreeIsAPlainExitNotACrash) {
  Outcome o = run_crasher("exit3");
  ASSERT_EQ(o.kind, OutcomeKind::exit) << summary_text(o);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_FALSE(o.signal);
  EXPECT_TRUE(o.threads.empty());
  EXPECT_THAT(o.stderr_excerpt.head, HasSubstr("cannot open store"));
}

TEST(Crashers, AGrandchildThatLeftTheProcessGroupDoesNotSurviveTheRun) {
  Outcome o = run_crasher("orphan_grandchild");
  ASSERT_EQ(o.kind, OutcomeKind::ok) << summary_text(o);
  long grandchild = 0;
  ASSERT_EQ(sscanf(o.stdout_excerpt.head.c_str(), "grandchild %ld", &grandchild), 1) << o.stdout_excerpt.head;
  EXPECT_TRUE(testing::process_gone(grandchild)) << "grandchild " << grandchild << " still runs";
  ASSERT_FALSE(o.notes.empty());
  EXPECT_THAT(o.notes.front(), HasSubstr(std::to_string(grandchild)));
}

TEST(Crashers, AGigabyteOfOutputIsCapturedWithinItsBound) {
  Outcome o = run_crasher("big_output");
  ASSERT_EQ(o.kind, OutcomeKind::ok) << summary_text(o);
  EXPECT_EQ(o.stdout_excerpt.total_bytes, 1ull << 30);
  EXPECT_TRUE(o.stdout_excerpt.truncated());
  EXPECT_EQ(o.stdout_excerpt.head.size(), RunSpec{}.stdout_bounds.head_bytes);
  EXPECT_EQ(o.stdout_excerpt.tail.size(), RunSpec{}.stdout_bounds.tail_bytes);
  EXPECT_EQ(o.stdout_excerpt.head.substr(0, 5), "BEGIN");
  EXPECT_EQ(o.stdout_excerpt.tail.substr(o.stdout_excerpt.tail.size() - 4), "END\n");
}

TEST(Crashers, AsanHeapBufferOverflowNamesTheCheckAccessAndAllocation) {
  Outcome o = run_crasher("asan_heap_overflow");
  ASSERT_EQ(o.kind, OutcomeKind::asan) << summary_text(o);
  EXPECT_EQ(o.check, "heap-buffer-overflow READ 4");
  EXPECT_THAT(o.sanitizer_summary, HasSubstr("AddressSanitizer: heap-buffer-overflow"));
  ASSERT_NE(find_stack(o, "access"), nullptr);
  ASSERT_NE(find_stack(o, "allocation"), nullptr);
  EXPECT_EQ(o.crash_state, "asan heap-buffer-overflow READ\nlast_plus_one\nmain");
  expect_project_frames_resolved(o, "asan_heap_overflow.cc");
}

TEST(Crashers, AsanUseAfterFreeHasAccessFreeAndAllocationStacks) {
  Outcome o = run_crasher("asan_use_after_free");
  ASSERT_EQ(o.kind, OutcomeKind::asan) << summary_text(o);
  EXPECT_EQ(o.check, "heap-use-after-free READ 4");
  const Thread* freed = find_stack(o, "free");
  const Thread* allocated = find_stack(o, "allocation");
  ASSERT_NE(freed, nullptr) << summary_text(o);
  ASSERT_NE(allocated, nullptr) << summary_text(o);
  auto has = [](const Thread* t, const std::string& fn) {
    for (const auto& f : t->frames)
      if (f.function.find(fn) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has(freed, "drop_node"));
  EXPECT_TRUE(has(allocated, "make_node"));
  EXPECT_NE(find_frame(o, "read_node"), nullptr);
  expect_project_frames_resolved(o, "asan_use_after_free.cc");
}

TEST(Crashers, AsanStackBufferOverflowIsAWrite) {
  Outcome o = run_crasher("asan_stack_buffer_overflow");
  ASSERT_EQ(o.kind, OutcomeKind::asan) << summary_text(o);
  EXPECT_EQ(o.check, "stack-buffer-overflow WRITE 1");
  EXPECT_NE(find_frame(o, "fill"), nullptr);
}

TEST(Crashers, AsanLeakIsReportedByLeakSanitizerDespiteTracing) {
  Outcome o = run_crasher("asan_leak");
  ASSERT_EQ(o.kind, OutcomeKind::lsan) << summary_text(o);
  EXPECT_EQ(o.check, "direct-leak");
  const Thread* leak = find_stack(o, "leak");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(o.crash_state, "lsan direct-leak\nleak_buffer\nmain");
}

TEST(Crashers, UbsanSignedOverflowNamesTheCheck) {
  Outcome o = run_crasher("ubsan_signed_overflow");
  ASSERT_EQ(o.kind, OutcomeKind::ubsan) << summary_text(o);
  EXPECT_EQ(o.check, "signed-integer-overflow");
  const Frame* frame = find_frame(o, "grow");
  ASSERT_NE(frame, nullptr) << summary_text(o);
  EXPECT_EQ(frame->line, 4);
}

TEST(Crashers, UbsanMisalignedLoadNamesTheCheck) {
  Outcome o = run_crasher("ubsan_misaligned");
  ASSERT_EQ(o.kind, OutcomeKind::ubsan) << summary_text(o);
  EXPECT_EQ(o.check, "misaligned-pointer-use");
  EXPECT_NE(find_frame(o, "load_count"), nullptr);
}

TEST(Crashers, TsanDataRaceHasBothStacks) {
  Outcome o = run_crasher("tsan_race");
  ASSERT_EQ(o.kind, OutcomeKind::tsan) << summary_text(o);
  EXPECT_THAT(o.check, ::testing::StartsWith("data-race"));
  const Thread* now = find_stack(o, "access");
  const Thread* before = find_stack(o, "previous-access");
  ASSERT_NE(now, nullptr) << summary_text(o);
  ASSERT_NE(before, nullptr) << summary_text(o);
  EXPECT_EQ(now->frames.front().function, "bump()");
  EXPECT_EQ(before->frames.front().function, "bump()");
  EXPECT_NE(now->name, before->name);  // two different threads
  expect_project_frames_resolved(o, "tsan_race.cc");
}

TEST(Crashers, EveryThreadOfAMultithreadedCrashIsUnwound) {
  Outcome o = run_crasher("many_threads");
  ASSERT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  ASSERT_EQ(o.threads.size(), 9u) << summary_text(o);  // main + 8 workers
  for (const auto& t : o.threads) {
    if (t.tid == o.crashed_pid) continue;  // main waits in pthread_join
    int descend = 0;
    for (const auto& f : t.frames) descend += f.function.find("descend") != std::string::npos;
    EXPECT_EQ(descend, 51) << "thread " << t.tid << " " << t.error;
  }
}

}  // namespace
}  // namespace crashgate
