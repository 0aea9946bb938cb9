// Sanitizer report parsing, on verbatim report texts (clang 14 runtimes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/sanitizer_report.h"

namespace crashgate {
namespace {

constexpr const char* kAsanUseAfterFree = R"(=================================================================
==1234==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55d4 bp 0x7ffc sp 0x7ffc
READ of size 4 at 0x602000000010 thread T0
    #0 0x55d4c1 in read_node(int const*) /src/uaf.cc:4:48
    #1 0x55d4c2 in main /src/uaf.cc:9:10
    #2 0x7f0b1 in __libc_start_call_main csu/../sysdeps/nptl/libc_start_call_main.h:58:16
    #3 0x55d4c3 in _start (/build/uaf+0x2d0a4) (BuildId: 3d4b)

0x602000000010 is located 0 bytes inside of 4-byte region [0x602000000010,0x602000000014)
freed by thread T0 here:
    #0 0x55d4c4 in operator delete(void*) (/build/uaf+0x1158bd) (BuildId: 3d4b)
    #1 0x55d4c5 in drop_node(int*) /src/uaf.cc:3:45

previously allocated by thread T0 here:
    #0 0x55d4c6 in operator new(unsigned long) (/build/uaf+0x11505d) (BuildId: 3d4b)
    #1 0x55d4c7 in make_node() /src/uaf.cc:2:43

SUMMARY: AddressSanitizer: heap-use-after-free /src/uaf.cc:4:48 in read_node(int const*)
Shadow bytes around the buggy address:
  0x0c047fff7fb0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
==1234==ABORTING
)";

TEST(SanitizerReport, AsanUseAfterFreeHasCheckAccessAndThreeStacks) {
  auto reports = parse_sanitizer_reports(kAsanUseAfterFree);
  ASSERT_EQ(reports.size(), 1u);
  const auto& r = reports[0];
  EXPECT_EQ(r.tool, "AddressSanitizer");
  EXPECT_EQ(r.check_with_access(), "heap-use-after-free READ 4");
  EXPECT_EQ(r.kind, OutcomeKind::asan);
  EXPECT_EQ(r.address, 0x602000000010u);
  EXPECT_EQ(r.summary, "AddressSanitizer: heap-use-after-free /src/uaf.cc:4:48 in read_node(int const*)");
  ASSERT_EQ(r.stacks.size(), 3u);
  EXPECT_EQ(r.stacks[0].role, "access");
  EXPECT_EQ(r.stacks[0].name, "T0");
  EXPECT_EQ(r.stacks[0].frames.size(), 4u);
  EXPECT_EQ(r.stacks[1].role, "free");
  EXPECT_EQ(r.stacks[2].role, "allocation");
  EXPECT_EQ(r.stacks[2].frames[1].function, "make_node()");
}

TEST(SanitizerReport, AsanDeadlySignalIsASignalKindWithTheAccess) {
  auto reports = parse_sanitizer_reports(
      "==9==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000020 (pc 0x1 bp 0x2 sp 0x3 T0)\n"
      "==9==The signal is caused by a READ memory access.\n"
      "==9==Hint: address points to the zero page.\n"
      "    #0 0x1 in read_payload /src/n.cc:7:3\n"
      "SUMMARY: AddressSanitizer: SEGV /src/n.cc:7:3 in read_payload\n");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, OutcomeKind::signal);
  EXPECT_EQ(reports[0].signal, SIGSEGV);
  EXPECT_EQ(reports[0].check_with_access(), "SEGV READ");
  EXPECT_EQ(reports[0].address, 0x20u);
}

TEST(SanitizerReport, AsanStackOverflowAndOutOfMemoryMapToTheirKinds) {
  auto overflow = parse_sanitizer_reports(
      "==9==ERROR: AddressSanitizer: stack-overflow on address 0x7ffe (pc 0x1 bp 0x2 sp 0x3 T0)\n"
      "    #0 0x1 in recurse /src/r.cc:3\n"
      "SUMMARY: AddressSanitizer: stack-overflow /src/r.cc:3 in recurse\n");
  ASSERT_EQ(overflow.size(), 1u);
  EXPECT_EQ(overflow[0].kind, OutcomeKind::stack_overflow);
  auto oom = parse_sanitizer_reports(
      "==9==ERROR: AddressSanitizer: requested allocation size 0x10000000000 (0x10000001000 after adjustments "
      "for alignment, red zones etc.) exceeds maximum supported size of 0x10000000000 (thread T0)\n"
      "    #0 0x1 in malloc\n"
      "SUMMARY: AddressSanitizer: allocation-size-too-big (/b+0x1) in malloc\n");
  ASSERT_EQ(oom.size(), 1u);
  EXPECT_EQ(oom[0].check, "allocation-size-too-big");
  EXPECT_EQ(oom[0].kind, OutcomeKind::oom);
}

TEST(SanitizerReport, LeakReportsEveryLeakStackAndIgnoresTheByteCountSummary) {
  auto reports = parse_sanitizer_reports(
      "\n=================================================================\n"
      "==7==ERROR: LeakSanitizer: detected memory leaks\n\n"
      "Direct leak of 4096 byte(s) in 1 object(s) allocated from:\n"
      "    #0 0x4 in malloc (/b/leak+0xda2ee) (BuildId: 11)\n"
      "    #1 0x5 in leak_buffer() /src/leak.cc:7:37\n\n"
      "Indirect leak of 8 byte(s) in 1 object(s) allocated from:\n"
      "    #0 0x6 in malloc (/b/leak+0xda2ee) (BuildId: 11)\n\n"
      "SUMMARY: AddressSanitizer: 4104 byte(s) leaked in 2 allocation(s).\n");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tool, "LeakSanitizer");
  EXPECT_EQ(reports[0].check, "direct-leak");
  EXPECT_EQ(reports[0].kind, OutcomeKind::lsan);
  ASSERT_EQ(reports[0].stacks.size(), 2u);
  EXPECT_EQ(reports[0].stacks[0].role, "leak");
  EXPECT_EQ(reports[0].stacks[1].role, "leak");
}

TEST(SanitizerReport, UbsanTakesTheCheckFromTheSummaryAndTheStack) {
  auto reports = parse_sanitizer_reports(
      "/src/o.cc:4:42: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'\n"
      "    #0 0x1 in grow(int) /src/o.cc:4:42\n"
      "    #1 0x2 in main /src/o.cc:6:10\n"
      "SUMMARY: UndefinedBehaviorSanitizer: signed-integer-overflow /src/o.cc:4:42 in \n");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].check, "signed-integer-overflow");
  EXPECT_EQ(reports[0].kind, OutcomeKind::ubsan);
  ASSERT_EQ(reports[0].stacks.size(), 1u);
  EXPECT_EQ(reports[0].stacks[0].frames.size(), 2u);
}

TEST(SanitizerReport, UbsanWithoutStackOrErrorTypeStillNamesCheckAndPlace) {
  auto reports = parse_sanitizer_reports(
      "/src/m.cc:4:63: runtime error: load of misaligned address 0x7ffd for type 'const int', which requires 4 "
      "byte alignment\n"
      "SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior /src/m.cc:4:63 in \n");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].check, "misaligned-pointer-use");
  ASSERT_EQ(reports[0].stacks.size(), 1u);
  EXPECT_EQ(reports[0].stacks[0].frames[0].file, "/src/m.cc");
  EXPECT_EQ(reports[0].stacks[0].frames[0].line, 4);
}

TEST(SanitizerReport, TsanRaceHasBothAccessesThreadsAndTheCreationStack) {
  auto reports = parse_sanitizer_reports(
      "==================\n"
      "WARNING: ThreadSanitizer: data race (pid=4252)\n"
      "  Write of size 4 at 0x562fb45676a8 by main thread:\n"
      "    #0 bump() /src/r.cc:6:11 (r+0xd43ba) (BuildId: 29)\n"
      "    #1 main /src/r.cc:16:3 (r+0xd43bb) (BuildId: 29)\n\n"
      "  Previous write of size 4 at 0x562fb45676a8 by thread T1:\n"
      "    #0 bump() /src/r.cc:6:11 (r+0xd49a4) (BuildId: 29)\n"
      "    #1 <null> <null> (libstdc++.so.6+0xd44a2) (BuildId: 28)\n\n"
      "  Location is global 'g_count' of size 4 at 0x562fb45676a8 (r+0x14fc6a8)\n\n"
      "  Thread T1 (tid=4255, finished) created by main thread at:\n"
      "    #0 pthread_create <null> (r+0x5340d) (BuildId: 29)\n\n"
      "SUMMARY: ThreadSanitizer: data race /src/r.cc:6:11 in bump()\n"
      "==================\n");
  ASSERT_EQ(reports.size(), 1u);
  const auto& r = reports[0];
  EXPECT_EQ(r.check_with_access(), "data-race WRITE 4");
  EXPECT_EQ(r.kind, OutcomeKind::tsan);
  ASSERT_EQ(r.stacks.size(), 3u);
  EXPECT_EQ(r.stacks[0].role, "access");
  EXPECT_EQ(r.stacks[0].name, "main thread");
  EXPECT_EQ(r.stacks[1].role, "previous-access");
  EXPECT_EQ(r.stacks[1].name, "T1");
  EXPECT_EQ(r.stacks[1].frames[1].function, "");
  EXPECT_EQ(r.stacks[1].frames[1].module, "libstdc++.so.6");
  EXPECT_EQ(r.stacks[2].role, "thread-creation");
  EXPECT_EQ(r.stacks[2].name, "T1");
}

TEST(SanitizerReport, LibFuzzerReportsNameTheirCheck) {
  auto timeout = parse_sanitizer_reports("==5== ERROR: libFuzzer: timeout after 25 seconds\nSUMMARY: libFuzzer: timeout\n");
  ASSERT_EQ(timeout.size(), 1u);
  EXPECT_EQ(timeout[0].check, "timeout");
  EXPECT_EQ(timeout[0].kind, OutcomeKind::timeout);
  auto oom = parse_sanitizer_reports("==5== ERROR: libFuzzer: out-of-memory (malloc(2147483648))\n");
  ASSERT_EQ(oom.size(), 1u);
  EXPECT_EQ(oom[0].kind, OutcomeKind::oom);
  auto deadly = parse_sanitizer_reports("==5== ERROR: libFuzzer: deadly signal\n    #0 0x1 in f /a.cc:1\n");
  ASSERT_EQ(deadly.size(), 1u);
  EXPECT_EQ(deadly[0].check, "deadly-signal");
  EXPECT_EQ(deadly[0].kind, OutcomeKind::signal);
}

TEST(SanitizerReport, PlainStderrHasNoReports) {
  EXPECT_TRUE(parse_sanitizer_reports("error: cannot open file\n#include <x>\nSUMMARY: nothing\n").empty());
}

TEST(SanitizerFrame, ParsesEachSanitizersFrameShape) {
  auto asan = parse_sanitizer_frame("    #3 0x55d4c1 in ns::f(int) const /src/a.cc:12:7");
  ASSERT_TRUE(asan);
  EXPECT_EQ(asan->function, "ns::f(int) const");
  EXPECT_EQ(asan->file, "/src/a.cc");
  EXPECT_EQ(asan->line, 12);
  EXPECT_EQ(asan->column, 7);
  EXPECT_EQ(asan->pc, 0x55d4c1u);

  auto module_only = parse_sanitizer_frame("#1 0x7f in __libc_start_main (/lib/x86_64-linux-gnu/libc.so.6+0x29d8f) (BuildId: ab)");
  ASSERT_TRUE(module_only);
  EXPECT_EQ(module_only->function, "__libc_start_main");
  EXPECT_EQ(module_only->module, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(module_only->module_offset, 0x29d8fu);
  EXPECT_TRUE(module_only->file.empty());

  auto tsan = parse_sanitizer_frame("#0 operator new(unsigned long) <null> (r+0x12)");
  ASSERT_TRUE(tsan);
  EXPECT_EQ(tsan->function, "operator new(unsigned long)");
  EXPECT_TRUE(tsan->file.empty());
  EXPECT_EQ(tsan->module, "r");

  auto anonymous = parse_sanitizer_frame("#2 0x4 in (anonymous namespace)::g() /src/b.cc:3");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->function, "(anonymous namespace)::g()");
  EXPECT_EQ(anonymous->line, 3);
  EXPECT_EQ(anonymous->column, 0);

  EXPECT_FALSE(parse_sanitizer_frame("#include <vector>"));
  EXPECT_FALSE(parse_sanitizer_frame("  # 1 not a frame"));
}

TEST(SanitizerCheckRules, EveryToolHasACatchAllRowAndRowsAreReachable) {
  for (std::string_view tool : {"AddressSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer", "LeakSanitizer", "libFuzzer"})
    EXPECT_NE(kind_for_check(tool, "some-new-check"), OutcomeKind::ok) << tool;
  EXPECT_EQ(kind_for_check("ThreadSanitizer", "data-race"), OutcomeKind::tsan);
  EXPECT_EQ(kind_for_check("UndefinedBehaviorSanitizer", "anything"), OutcomeKind::ubsan);
  // A row hidden behind an earlier catch-all would never fire.
  const auto rules = sanitizer_check_rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    std::string tool = rules[i].tool == "*" ? "AddressSanitizer" : std::string(rules[i].tool);
    std::string check = rules[i].check == "*" ? "unlisted-check" : std::string(rules[i].check);
    EXPECT_EQ(kind_for_check(tool, check), rules[i].kind) << rules[i].tool << " " << rules[i].check;
  }
}

}  // namespace
}  // namespace crashgate
