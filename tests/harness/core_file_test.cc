// Core files from the field: real cores the kernel wrote for the crashers,
// read, unwound and attributed as the live runner attributes the same crash.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/core_file.h"
#include "crashgate/triage.h"
#include "harness/support/cores.h"
#include "harness/support/crashers.h"
#include "harness/support/programs.h"
#include "harness/support/refusal.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A core of crasher `name`, or the test is skipped on a machine that pipes cores away.
#define CORE_OF(var, name, args, dir)                                                        \
  if (std::string why = testing::cores_unavailable(); !why.empty()) GTEST_SKIP() << why;     \
  auto var##_path = testing::dump_core(name, args, dir);                                     \
  ASSERT_TRUE(var##_path) << name << " left no core in " << dir;                            \
  const std::string& var = *var##_path

TEST(CoreFile, ASigbusCoreNamesTheFileItsOffsetAndTheFilesSizeNow) {
  std::string dir = testing::scratch_dir("sigbus");
  CORE_OF(core, "mmap_past_eof", {dir}, dir);
  auto o = outcome_from_core(core);
  ASSERT_TRUE(o) << testing::refusal(o);
  EXPECT_EQ(o->kind, OutcomeKind::signal);
  EXPECT_EQ(o->signal, SIGBUS);
  EXPECT_EQ(o->si_code, BUS_ADRERR);
  ASSERT_TRUE(o->attribution);
  EXPECT_EQ(o->attribution->file, dir + "/vectors.bin");
  EXPECT_EQ(o->attribution->file_offset, 12288u);
  EXPECT_EQ(o->attribution->file_size, 4096u);
  EXPECT_TRUE(o->attribution->past_eof);
  EXPECT_THAT(o->detail, HasSubstr("read at offset 12,288 of vectors.bin, which is now 4,096 bytes long"));
  ASSERT_EQ(o->crashing_thread, 0);
  EXPECT_EQ(o->threads[0].role, "crashed");
  ASSERT_FALSE(o->threads[0].frames.empty());
  EXPECT_THAT(o->threads[0].frames[0].function, StartsWith("read_slot"));
  EXPECT_THAT(o->threads[0].frames[0].file, HasSubstr("mmap_past_eof.cc"));
  EXPECT_EQ(o->threads[0].frames[0].line, 11);
}

TEST(CoreFile, ACoreTriagesToTheSameSignatureAsTheLiveCrash) {
  std::string dir = testing::scratch_dir("same");
  CORE_OF(core, "mmap_past_eof", {dir}, dir);
  auto from_core = outcome_from_core(core);
  ASSERT_TRUE(from_core) << testing::refusal(from_core);
  triage(*from_core, nullptr);
  Outcome live = testing::run_crasher("mmap_past_eof", {testing::scratch_dir("live")});
  triage(live, nullptr);
  EXPECT_EQ(from_core->crash_state, "signal SIGBUS\nread_slot\nmain");
  EXPECT_EQ(from_core->signature, live.signature);
}

TEST(CoreFile, AWorkerThreadsOverflowIsNamedAStackOverflowOfThatThread) {
  std::string dir = testing::scratch_dir("overflow");
  CORE_OF(core, "thread_stack_overflow", {}, dir);
  auto o = outcome_from_core(core);
  ASSERT_TRUE(o) << testing::refusal(o);
  EXPECT_EQ(o->kind, OutcomeKind::stack_overflow);
  ASSERT_TRUE(o->attribution);
  EXPECT_TRUE(o->attribution->stack_guard);
  ASSERT_GE(o->threads.size(), 2u);
  EXPECT_EQ(o->attribution->stack_thread, o->threads[0].tid);
  EXPECT_NE(o->threads[0].tid, o->crashed_pid) << "the worker overflowed, not the main thread";
  EXPECT_THAT(o->threads[0].frames.at(0).function, StartsWith("parse_clause"));
}

TEST(CoreFile, EveryThreadIsUnwoundWithTheCrashingOneFirst) {
  std::string dir = testing::scratch_dir("threads");
  CORE_OF(core, "many_threads", {}, dir);
  auto o = outcome_from_core(core);
  ASSERT_TRUE(o) << testing::refusal(o);
  ASSERT_EQ(o->threads.size(), 9u) << "main and 8 workers";
  EXPECT_EQ(o->threads[0].role, "crashed");
  EXPECT_TRUE(o->attribution && o->attribution->null_page);
  int deep = 0;
  for (const auto& t : o->threads)
    if (t.frames.size() >= 50) ++deep;
  EXPECT_EQ(deep, 8) << "each worker is 50 frames deep in descend()";
}

// A program shipped stripped, its DWARF in a separate file under a symbol
// directory laid out like /usr/lib/debug (DIR + the program's directory +
// its .gnu_debuglink name): --debuginfo-path finds it, and without it the
// frames keep only the symbol table's function names.
TEST(CoreFile, SeparateDebuginfoIsFoundThroughTheDebuginfoPath) {
  if (std::string why = testing::cores_unavailable(); !why.empty()) GTEST_SKIP() << why;
  namespace fs = std::filesystem;
  std::string dir = testing::scratch_dir("debuginfo");
  std::string bin = dir + "/bin", symbols = dir + "/symbols", cores = dir + "/cores";
  std::string symbol_dir = symbols + bin;
  fs::create_directories(bin);
  fs::create_directories(symbol_dir);
  fs::create_directories(cores);
  std::string program = bin + "/null_deref", debug = symbol_dir + "/null_deref.debug";
  fs::copy_file(testing::crasher_path("null_deref"), program);
  ASSERT_EQ(std::system(("objcopy --only-keep-debug " + program + " " + debug).c_str()), 0);
  ASSERT_EQ(std::system(("objcopy --strip-debug --add-gnu-debuglink=" + debug + " " + program).c_str()), 0);
  auto core_path = testing::dump_core_of(program, {}, cores);
  ASSERT_TRUE(core_path) << program << " left no core in " << cores;

  auto bare = outcome_from_core(*core_path, {.executable = program});
  ASSERT_TRUE(bare) << testing::refusal(bare);
  ASSERT_FALSE(bare->threads.at(0).frames.empty());
  const Frame& bare_top = bare->threads[0].frames[0];
  EXPECT_THAT(bare_top.function, StartsWith("read_payload"));
  EXPECT_EQ(bare_top.file, "") << "the stripped program has no line table";
  EXPECT_EQ(bare_top.line, 0);

  auto found = outcome_from_core(*core_path, {.executable = program, .debuginfo_path = "/nonexistent:" + symbols});
  ASSERT_TRUE(found) << testing::refusal(found);
  ASSERT_FALSE(found->threads.at(0).frames.empty());
  const Frame& top = found->threads[0].frames[0];
  EXPECT_THAT(top.function, StartsWith("read_payload"));
  EXPECT_THAT(top.file, HasSubstr("null_deref.cc"));
  EXPECT_EQ(top.line, 7);
}

// A Rust program whose worker thread overflows its stack: Rust's handler
// catches the guard-page fault, prints "has overflowed its stack" and aborts.
// The core and the live run both say stack overflow of the worker, with the
// recursion below the handler as the crash state, in Rust's own names.
TEST(CoreFile, ARustWorkersOverflowCaughtByRustsHandlerIsAStackOverflowBelowTheHandler) {
  std::string rustc = testing::find_tool("rustc");
  if (rustc.empty()) GTEST_SKIP() << "no rustc on PATH or in ~/.cargo/bin";
  std::string dir = testing::scratch_dir("rust-core");
  std::string program = testing::build_rust_worker(rustc, dir);
  ASSERT_FALSE(program.empty());
  if (std::string why = testing::cores_unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto core = testing::dump_core_of(program, {"overflow"}, dir);
  ASSERT_TRUE(core) << program << " left no core in " << dir;
  auto o = outcome_from_core(*core);
  ASSERT_TRUE(o) << testing::refusal(o);
  EXPECT_EQ(o->signal, SIGABRT);
  EXPECT_EQ(o->kind, OutcomeKind::stack_overflow);
  ASSERT_TRUE(o->attribution);
  EXPECT_TRUE(o->attribution->stack_guard);
  EXPECT_EQ(o->attribution->stack_thread, o->threads.at(0).tid);
  EXPECT_NE(o->threads[0].tid, o->crashed_pid) << "the worker overflowed, not the main thread";
  ASSERT_NE(testing::find_frame(*o, "stack_overflow::imp::signal_handler"), nullptr) << "v0 symbols are demangled";
  triage(*o, nullptr);
  EXPECT_EQ(o->crash_state, "stack-overflow\nworker::parse_clause\nworker::parse_clause\nworker::parse_clause");

  RunSpec spec;
  spec.argv = {program, "overflow"};
  Outcome live = run_observed(spec);
  EXPECT_EQ(live.kind, OutcomeKind::stack_overflow) << live.detail;
  triage(live, nullptr);
  EXPECT_EQ(live.signature, o->signature) << live.crash_state;
}

TEST(CoreFile, ACoreCutShortInItsMemoryIsReadAndSaysSo) {
  std::string dir = testing::scratch_dir("cut");
  CORE_OF(core, "null_deref", {}, dir);
  auto whole = read_core(core);
  ASSERT_TRUE(whole) << testing::refusal(whole);
  ASSERT_FALSE(whole->truncated());
  std::filesystem::resize_file(core, whole->file_size / 2);
  auto o = outcome_from_core(core);
  ASSERT_TRUE(o) << testing::refusal(o);
  EXPECT_EQ(o->signal, SIGSEGV);
  ASSERT_FALSE(o->notes.empty());
  EXPECT_THAT(o->notes.front(), HasSubstr("the core is cut short"));
}

TEST(CoreFile, ACoreCutInsideItsNotesFailsNamingTheFile) {
  std::string dir = testing::scratch_dir("notes");
  CORE_OF(core, "null_deref", {}, dir);
  std::filesystem::resize_file(core, 600);
  auto o = outcome_from_core(core);
  ASSERT_FALSE(o);
  EXPECT_THAT(o.error(), StartsWith(core + ": "));
  EXPECT_THAT(o.error(), HasSubstr("cut off"));
}

TEST(CoreFile, FilesThatAreNoCoreFailClearly) {
  std::string dir = testing::scratch_dir("not");
  std::string text = dir + "/log.txt";
  testing::write_file(text, "just a log line\n");
  auto not_elf = read_core(text);
  ASSERT_FALSE(not_elf);
  EXPECT_EQ(not_elf.error(), text + ": not an ELF file");
  auto program = read_core(testing::crasher_path("null_deref"));
  ASSERT_FALSE(program);
  EXPECT_THAT(program.error(), HasSubstr("an ELF file, but not a core"));
  auto missing = read_core(dir + "/nothing");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("cannot be opened"));
  EXPECT_FALSE(looks_like_core("\x7f" "ELF"));
  EXPECT_FALSE(looks_like_core(testing::read_file(text)));
}

}  // namespace
}  // namespace crashgate
