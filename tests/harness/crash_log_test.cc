// Crash logs from the field (crash_log.h): every format from fixtures written
// in its real shape (tests/harness/data/crash-logs/<format>/), the ones this
// machine can produce from real programs (a Python faulthandler SIGBUS, a
// Python traceback, a glibc double free, a sanitizer report, a Rust panic and
// stack overflow where rustc is installed, gdb's backtrace of a real core),
// dedup's view of each (the crash state after triage), noise, truncation and
// garbage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "crashgate/core_file.h"
#include "crashgate/crash_log.h"
#include "crashgate/triage.h"
#include "field/log_text.h"
#include "harness/support/cores.h"
#include "harness/support/crashers.h"
#include "harness/support/programs.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::read_file;
using testing::scratch_dir;
using testing::source_dir;
using testing::write_file;

std::string fixtures_dir() { return source_dir() + "/tests/harness/data/crash-logs"; }

std::string fixture(const std::string& name) {
  std::string path = fixtures_dir() + "/" + name;
  EXPECT_TRUE(std::filesystem::exists(path)) << path;
  return read_file(path);
}

ParsedCrashLog parse_fixture(const std::string& name) {
  auto parsed = parse_crash_log(fixture(name), name);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
  return parsed.ok() ? parsed.value() : ParsedCrashLog{};
}

// The crash state's frames, as dedup sees them: triage's first three frames that are not noise.
std::vector<std::string> state_frames(Outcome outcome) {
  triage(outcome, nullptr);
  std::vector<std::string> frames;
  std::string_view state = outcome.crash_state;
  auto newline = state.find('\n');
  while (newline != std::string_view::npos) {
    state = state.substr(newline + 1);
    newline = state.find('\n');
    frames.emplace_back(state.substr(0, newline));
  }
  return frames;
}

std::string state_kind(Outcome outcome) {
  triage(outcome, nullptr);
  return outcome.crash_state.substr(0, outcome.crash_state.find('\n'));
}

bool has_note(const Outcome& o, const std::string& words) {
  for (const auto& n : o.notes)
    if (n.find(words) != std::string::npos) return true;
  return false;
}

// Runs `command` through the shell and returns what it wrote to stderr.
std::string stderr_of(const std::string& command, const std::string& dir) {
  std::string err = dir + "/stderr.txt";
  int status = std::system((command + " 2>" + err + " >/dev/null").c_str());
  EXPECT_NE(status, 0) << command << " did not fail";
  return read_file(err);
}

// ---- sanitizer ----

TEST(CrashLog, AsanReportGivesTheCheckAndStacksTheRunnerWouldGive) {
  ParsedCrashLog p = parse_fixture("sanitizer/asan-heap-buffer-overflow.txt");
  EXPECT_EQ(p.format, "sanitizer");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::asan);
  EXPECT_EQ(p.outcome.check, "heap-buffer-overflow READ 4");
  ASSERT_GE(p.outcome.threads.size(), 2u);
  EXPECT_EQ(p.outcome.threads[0].role, "access");
  EXPECT_EQ(p.outcome.threads[1].role, "allocation");
  EXPECT_EQ(p.outcome.fault_address, 0x602000000020u);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("last_plus_one", "main"));
}

TEST(CrashLog, ASanitizerReportFromARealRunHasTheRunnersCrashState) {
  Outcome observed = testing::run_crasher("asan_heap_overflow");
  ASSERT_EQ(observed.kind, OutcomeKind::asan);
  auto parsed = parse_crash_log(observed.stderr_excerpt.text(), "stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->format, "sanitizer");
  EXPECT_EQ(parsed->outcome.check, observed.check);
  Outcome from_log = parsed->outcome;
  triage(observed, nullptr);
  triage(from_log, nullptr);
  EXPECT_EQ(from_log.crash_state, observed.crash_state);
}

TEST(CrashLog, LibFuzzerDeadlySignalThroughAbortIsSigabrtWithTheTargetsFrame) {
  ParsedCrashLog p = parse_fixture("sanitizer/libfuzzer-deadly-signal-abort.txt");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(p.outcome.signal, SIGABRT);
  EXPECT_EQ(p.outcome.check, "deadly-signal");
  EXPECT_THAT(p.outcome.detail, HasSubstr("SIGABRT"));
  auto frames = state_frames(p.outcome);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0], "(anonymous namespace)::crash_on_marker");
}

TEST(CrashLog, LibFuzzerTimeoutIsATimeoutWithTheLoopingFrames) {
  ParsedCrashLog p = parse_fixture("sanitizer/libfuzzer-timeout.txt");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::timeout);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("vstore::filter::Parser::parse_or", "vstore::filter::Parser::parse_primary",
                                                   "vstore::filter::Parser::parse_or"));
}

TEST(CrashLog, AsanSegvInsideACiLogWithTimestampsAndColoursIsASigsegvAtItsAddress) {
  ParsedCrashLog p = parse_fixture("sanitizer/asan-segv-in-ci-log.txt");
  EXPECT_EQ(p.format, "sanitizer");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(p.outcome.signal, SIGSEGV);
  EXPECT_EQ(p.outcome.fault_address, 0x18u);
  EXPECT_EQ(p.outcome.check, "SEGV READ");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("vstore::Graph::neighbours", "vstore::Search::expand", "vstore::Store::search"));
}

TEST(CrashLog, TsanAndUbsanReportsKeepTheirKinds) {
  ParsedCrashLog race = parse_fixture("sanitizer/tsan-data-race.txt");
  EXPECT_EQ(race.outcome.kind, OutcomeKind::tsan);
  EXPECT_EQ(race.outcome.check, "data-race WRITE 4");
  EXPECT_THAT(state_frames(race.outcome), ElementsAre("bump", "writer"));
  ParsedCrashLog ub = parse_fixture("sanitizer/ubsan-signed-overflow.txt");
  EXPECT_EQ(ub.outcome.kind, OutcomeKind::ubsan);
  EXPECT_EQ(ub.outcome.check, "signed-integer-overflow");
}

// ---- crashgate exec ----

TEST(CrashLog, ExecSummaryGivesBackKindSignalSiCodeAttributionAndTheCrashedStack) {
  ParsedCrashLog p = parse_fixture("crashgate-exec/summary-sigbus-past-eof.txt");
  EXPECT_EQ(p.format, "crashgate-exec");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.kind, OutcomeKind::signal);
  EXPECT_EQ(o.signal, SIGBUS);
  EXPECT_EQ(o.si_code, BUS_ADRERR);
  ASSERT_TRUE(o.fault_address.has_value());
  ASSERT_TRUE(o.attribution.has_value());
  EXPECT_THAT(o.attribution->description, HasSubstr("past the end of the file"));
  EXPECT_THAT(o.attribution->mapping, HasSubstr("/var/lib/vstore/vectors.bin"));
  ASSERT_EQ(o.threads.size(), 1u);
  EXPECT_EQ(o.threads[0].role, "crashed");
  EXPECT_EQ(o.threads[0].name, "mmap_past_eof");
  EXPECT_GT(o.threads[0].tid, 0);
  const Frame& top = o.threads[0].frames.at(0);
  EXPECT_EQ(top.function, "read_slot(float const*, long)");
  EXPECT_EQ(top.line, 11);
  EXPECT_EQ(top.module, "mmap_past_eof");
  EXPECT_EQ(top.module_offset, 0x3484u);
  EXPECT_EQ(o.threads[0].frames.at(4).function, "_start");  // no file: "_start (mmap_past_eof+0x33a1)"
  EXPECT_EQ(o.threads[0].frames[4].module_offset, 0x33a1u);
  EXPECT_THAT(state_frames(o), ElementsAre("read_slot", "main"));
}

TEST(CrashLog, ExecJsonIsReadByTheResultReaderAndLeavesTriageToTheCaller) {
  ParsedCrashLog p = parse_fixture("crashgate-exec/result-sigbus-past-eof.json");
  EXPECT_EQ(p.format, "crashgate-exec");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(p.outcome.si_code, BUS_ADRERR);
  ASSERT_TRUE(p.outcome.attribution.has_value());
  EXPECT_TRUE(p.outcome.attribution->past_eof);
  EXPECT_EQ(p.outcome.crash_state, "");
  EXPECT_EQ(p.outcome.signature, "");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("read_slot", "main"));
}

TEST(CrashLog, ExecSummaryOfAnAsanRunIsCrashgatesNotTheSanitizersAndKeepsTheCheck) {
  ParsedCrashLog p = parse_fixture("crashgate-exec/summary-asan-heap-overflow.txt");
  EXPECT_EQ(p.format, "crashgate-exec");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::asan);
  EXPECT_EQ(p.outcome.check, "heap-buffer-overflow READ 4");
  ASSERT_EQ(p.outcome.threads.size(), 2u);
  EXPECT_EQ(p.outcome.threads[1].role, "allocation");
  EXPECT_TRUE(has_note(p.outcome, "llvm-symbolizer"));
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("last_plus_one", "main"));
}

TEST(CrashLog, ACrashgateUsageErrorIsNoExecSummary) {
  EXPECT_FALSE(parse_crash_log("crashgate: error: no such scenario: x.toml\n", "cli.log").ok());
  auto cut = parse_crash_log("crashgate: signal: SIGSEGV (SEGV_MAPERR) at 0x0\n", "cut.log");
  ASSERT_TRUE(cut.ok()) << cut.error();
  EXPECT_EQ(cut->outcome.signal, SIGSEGV);
  EXPECT_EQ(cut->outcome.si_code, SEGV_MAPERR);
}

TEST(CrashLog, KernelBareFatalSignalLineTakesTheTaskFromTheRegisterDump) {
  auto parsed = parse_crash_log("[ 1.0] potentially unexpected fatal signal 11.\n"
                                "[ 1.0] CPU: 0 PID: 4242 Comm: vstore_tool Not tainted 6.6.0 #1\n"
                                "[ 1.0] RIP: 0033:0x55d1c0a4b2f1\n",
                                "dmesg");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->outcome.signal, SIGSEGV);
  EXPECT_EQ(parsed->outcome.threads.at(0).name, "vstore_tool");
  EXPECT_EQ(parsed->outcome.threads[0].tid, 4242);
}

TEST(CrashLog, ExecJsonCutShortFailsNamingTheLine) {
  std::string json = fixture("crashgate-exec/result-sigbus-past-eof.json");
  auto parsed = parse_crash_log("starting\n" + json.substr(0, json.size() / 2), "cut.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error(), HasSubstr("cut.json:2: "));
}

// ---- Python faulthandler ----

TEST(CrashLog, PythonFaulthandlerBusErrorFromARealProcessNamesTheFunctionAndLine) {
  std::string dir = scratch_dir("py");
  write_file(dir + "/mapped.py",
             "import faulthandler, mmap, os\n"
             "faulthandler.enable()\n"
             "def count(view):\n"
             "    return view[8192]\n"
             "def main(path):\n"
             "    with open(path, 'wb') as f:\n"
             "        f.write(b'x' * 16384)\n"
             "    fd = os.open(path, os.O_RDWR)\n"
             "    view = mmap.mmap(fd, 16384, access=mmap.ACCESS_READ)\n"
             "    os.ftruncate(fd, 100)\n"
             "    count(view)\n"
             "main(os.path.join(os.path.dirname(__file__), 'vectors.bin'))\n");
  std::string err = stderr_of("/usr/bin/python3 " + dir + "/mapped.py", dir);
  auto parsed = parse_crash_log(err, "python3 stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << err;
  EXPECT_EQ(parsed->format, "python-faulthandler");
  const Outcome& o = parsed->outcome;
  EXPECT_EQ(o.kind, OutcomeKind::signal);
  EXPECT_EQ(o.signal, SIGBUS);
  ASSERT_FALSE(o.threads.empty());
  EXPECT_EQ(o.threads[0].role, "crashed");
  ASSERT_GE(o.threads[0].frames.size(), 3u);
  EXPECT_EQ(o.threads[0].frames[0].function, "count");
  EXPECT_EQ(o.threads[0].frames[0].line, 4);
  EXPECT_EQ(o.threads[0].frames[0].file, dir + "/mapped.py");
  EXPECT_THAT(state_frames(o), ElementsAre("count", "main", "<module>"));
  EXPECT_EQ(state_kind(o), "signal SIGBUS");
}

TEST(CrashLog, PythonFaulthandlerPutsTheCurrentThreadFirstEvenWhenDumpedSecond) {
  ParsedCrashLog p = parse_fixture("python-faulthandler/chromadb-count-bus-error.txt");
  EXPECT_EQ(p.format, "python-faulthandler");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.signal, SIGBUS);
  ASSERT_EQ(o.threads.size(), 2u);
  EXPECT_EQ(o.crashing_thread, 0);
  EXPECT_EQ(o.threads[0].name, "0x00007f8b3a5f1740");
  EXPECT_EQ(o.threads[1].role, "running");
  EXPECT_EQ(o.threads[0].frames[0].file, "/home/dev/.venv/lib/python3.11/site-packages/chromadb/api/rust.py");
  EXPECT_EQ(o.threads[0].frames[0].line, 365);
  EXPECT_THAT(o.detail, HasSubstr("_count"));
  EXPECT_THAT(state_frames(o), ElementsAre("_count", "count", "check_compatibility"));
}

TEST(CrashLog, PythonFaulthandlerDumpIsFoundThroughJournalPrefixes) {
  ParsedCrashLog p = parse_fixture("python-faulthandler/segfault-in-journal.txt");
  EXPECT_EQ(p.outcome.signal, SIGSEGV);
  EXPECT_EQ(p.first_line, 2);
  ASSERT_EQ(p.outcome.threads.size(), 2u);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("_count", "count", "get_stats"));
}

TEST(CrashLog, PythonFaulthandlerAbortTakesGlibcsMessageBeforeItAsTheCheck) {
  ParsedCrashLog p = parse_fixture("python-faulthandler/glibc-abort-before-dump.txt");
  EXPECT_EQ(p.format, "python-faulthandler");
  EXPECT_EQ(p.outcome.signal, SIGABRT);
  EXPECT_EQ(p.outcome.check, "free(): invalid pointer");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("close", "__exit__", "rebuild"));
}

TEST(CrashLog, PythonFaulthandlerDumpCutMidFrameKeepsTheFramesBeforeTheCut) {
  ParsedCrashLog p = parse_fixture("python-faulthandler/truncated-mid-frame.txt");
  EXPECT_EQ(p.outcome.signal, SIGSEGV);
  ASSERT_EQ(p.outcome.threads.size(), 1u);
  EXPECT_EQ(p.outcome.threads[0].frames.at(0).function, "decode");
}

// ---- Python traceback ----

TEST(CrashLog, PythonTracebackFromARealScriptIsTheLastChainedExceptionInnermostFrameFirst) {
  std::string dir = scratch_dir("tb");
  write_file(dir + "/prices.py",
             "def lookup(table, key):\n"
             "    return table[key]\n"
             "def price_of(table, key):\n"
             "    try:\n"
             "        return lookup(table, key)\n"
             "    except KeyError as e:\n"
             "        raise LookupError(f'no product {key}') from e\n"
             "price_of({}, 'sku-4411')\n");
  std::string err = stderr_of("/usr/bin/python3 " + dir + "/prices.py", dir);
  auto parsed = parse_crash_log(err, "python3 stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << err;
  EXPECT_EQ(parsed->format, "python-traceback");
  const Outcome& o = parsed->outcome;
  EXPECT_EQ(o.kind, OutcomeKind::exit);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.check, "LookupError");
  EXPECT_THAT(o.detail, HasSubstr("no product sku-4411"));
  ASSERT_EQ(o.threads.size(), 1u);
  EXPECT_EQ(o.threads[0].frames.at(0).function, "price_of");
  EXPECT_EQ(o.threads[0].frames.at(0).line, 7);
  EXPECT_THAT(state_frames(o), ElementsAre("price_of", "<module>"));
  EXPECT_TRUE(has_note(o, "a chain of 2 exceptions"));
}

TEST(CrashLog, PythonTracebackSkipsSourceAndCaretLines) {
  ParsedCrashLog p = parse_fixture("python-traceback/chained-keyerror.txt");
  EXPECT_EQ(p.outcome.check, "LookupError");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("price_of", "main", "<module>"));
  EXPECT_EQ(p.outcome.threads[0].frames[0].line, 21);
}

TEST(CrashLog, PythonTracebackOfAPyo3PanicNamesTheRustPanicInANote) {
  ParsedCrashLog p = parse_fixture("python-traceback/pyo3-panic-exception.txt");
  EXPECT_EQ(p.format, "python-traceback");
  EXPECT_EQ(p.outcome.check, "pyo3_runtime.PanicException");
  EXPECT_TRUE(has_note(p.outcome, "thread 'lance_background_thread' panicked at"));
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("compact_files", "_compact_table", "index_project"));
}

TEST(CrashLog, PythonTracebacksLoggedBeforeTheUncaughtOneAreCountedNotExplained) {
  ParsedCrashLog p = parse_fixture("python-traceback/logged-then-uncaught.txt");
  EXPECT_EQ(p.outcome.check, "TypeError");
  EXPECT_EQ(p.first_line, 9);
  EXPECT_TRUE(has_note(p.outcome, "1 more crash in the log (line 2); this is the last one"));
}

TEST(CrashLog, PythonTracebackLeavesTheFrozenImportMachineryOutOfTheCrashState) {
  ParsedCrashLog p = parse_fixture("python-traceback/import-error-through-importlib.txt");
  EXPECT_EQ(p.outcome.check, "ImportError");
  EXPECT_EQ(p.outcome.threads.at(0).frames.size(), 7u);
  EXPECT_EQ(p.outcome.threads[0].frames[0].file, "/opt/app/vecindex/__init__.py");
  EXPECT_EQ(p.outcome.threads[0].frames[1].file, "<frozen importlib._bootstrap>");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("<module>", "<module>"));
}

// ---- Rust ----

TEST(CrashLog, RustPanicOldStyleInATokioWorkerKeepsTheMessageLocationAndThread) {
  ParsedCrashLog p = parse_fixture("rust-panic/tokio-worker-old-style.txt");
  EXPECT_EQ(p.format, "rust-panic");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.kind, OutcomeKind::exit);
  EXPECT_EQ(o.exit_code, 101);
  EXPECT_EQ(o.check, "panic");
  EXPECT_THAT(o.detail, HasSubstr("range start index 4096 out of range"));
  EXPECT_EQ(o.threads.at(0).name, "tokio-runtime-worker");
  EXPECT_EQ(o.threads[0].frames.at(0).file, "rust/sqlite/src/db.rs");
  EXPECT_EQ(o.threads[0].frames[0].line, 157);
  EXPECT_EQ(o.threads[0].frames[0].column, 42);
  EXPECT_TRUE(has_note(o, "JoinError"));
}

TEST(CrashLog, RustPanicBacktraceLeavesThePanicMachineryOutOfTheCrashState) {
  ParsedCrashLog p = parse_fixture("rust-panic/main-with-backtrace.txt");
  EXPECT_THAT(p.outcome.detail, HasSubstr("index out of bounds: the len is 24 but the index is 31"));
  EXPECT_EQ(p.outcome.threads[0].frames.size(), 8u);
  EXPECT_EQ(p.outcome.threads[0].frames[3].file, "./src/index/hnsw.rs");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("vecindex::index::hnsw::Layer::neighbours",
                                                   "vecindex::index::hnsw::Hnsw::search_layer",
                                                   "vecindex::index::hnsw::Hnsw::search"));
}

TEST(CrashLog, RustFullBacktraceLosesItsHashesAndKeepsTheThreadId) {
  ParsedCrashLog p = parse_fixture("rust-panic/full-backtrace-with-thread-id.txt");
  const Thread& t = p.outcome.threads.at(0);
  EXPECT_EQ(t.name, "compactor");
  EXPECT_EQ(t.tid, 48211);
  EXPECT_EQ(t.frames.at(9).function, "vstore_rs::storage::segment::Segment::flush");
  EXPECT_EQ(t.frames.at(9).pc, 0x5581f38c4a17u);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("vstore_rs::storage::segment::Segment::flush",
                                                   "vstore_rs::storage::compactor::Compactor::run_once",
                                                   "vstore_rs::storage::compactor::spawn::{{closure}}"));
}

TEST(CrashLog, RustPanicThatCannotUnwindIsAnAbort) {
  ParsedCrashLog p = parse_fixture("rust-panic/non-unwinding-abort.txt");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(p.outcome.signal, SIGABRT);
  EXPECT_THAT(p.outcome.detail, HasSubstr("callback failed"));
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("src/ffi.rs:31", "vecffi::on_record"))
      << "the panic's location, then the function it could not unwind out of";
  EXPECT_FALSE(has_note(p.outcome, "more crash")) << "the second panic is the first one reaching an extern \"C\" frame";
}

TEST(CrashLog, RustStackOverflowOfATokioWorkerIsAStackOverflowNamingTheThread) {
  ParsedCrashLog p = parse_fixture("rust-stack-overflow/tokio-worker-in-journal.txt");
  EXPECT_EQ(p.format, "rust-stack-overflow");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::stack_overflow);
  EXPECT_EQ(p.outcome.signal, SIGABRT);
  ASSERT_TRUE(p.outcome.attribution.has_value());
  EXPECT_TRUE(p.outcome.attribution->stack_guard);
  EXPECT_EQ(p.outcome.attribution->stack_thread_name, "tokio-runtime-worker");
  EXPECT_EQ(p.outcome.threads.at(0).name, "tokio-runtime-worker");
  EXPECT_EQ(state_kind(p.outcome), "stack-overflow");
}

TEST(CrashLog, RustStackOverflowOfNewerRustsCarriesTheThreadId) {
  ParsedCrashLog p = parse_fixture("rust-stack-overflow/with-thread-id.txt");
  EXPECT_EQ(p.outcome.threads.at(0).name, "<unknown>");
  EXPECT_EQ(p.outcome.threads[0].tid, 29907);
  EXPECT_FALSE(has_note(p.outcome, "cut short"));
}

TEST(CrashLog, RustPanicFromARealProgramNamesTheMessageAndTheUsersFrames) {
  std::string rustc = testing::find_tool("rustc");
  if (rustc.empty()) GTEST_SKIP() << "no rustc on PATH or in ~/.cargo/bin";
  std::string dir = scratch_dir("rust-panic");
  std::string program = testing::build_rust_worker(rustc, dir);
  ASSERT_FALSE(program.empty());
  std::string err = stderr_of("cd " + dir + " && RUST_BACKTRACE=1 ./worker panic", dir);
  auto parsed = parse_crash_log(err, "worker stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << err;
  EXPECT_EQ(parsed->format, "rust-panic");
  const Outcome& o = parsed->outcome;
  EXPECT_EQ(o.kind, OutcomeKind::exit);
  EXPECT_EQ(o.exit_code, 101);
  EXPECT_EQ(o.check, "panic");
  EXPECT_THAT(o.detail, HasSubstr("record id in index"));
  ASSERT_FALSE(o.threads.empty());
  EXPECT_EQ(o.threads[0].name, "main");
  EXPECT_THAT(state_frames(o), ::testing::Contains("worker::lookup"));
  EXPECT_EQ(state_frames(o).at(0), "worker::lookup") << "the panic machinery and Option::expect are not the crash";
}

TEST(CrashLog, RustStackOverflowFromARealProgramIsAStackOverflowOfTheNamedThread) {
  std::string rustc = testing::find_tool("rustc");
  if (rustc.empty()) GTEST_SKIP() << "no rustc on PATH or in ~/.cargo/bin";
  std::string dir = scratch_dir("rust-overflow");
  std::string program = testing::build_rust_worker(rustc, dir);
  ASSERT_FALSE(program.empty());
  std::string err = stderr_of(program + " overflow", dir);
  auto parsed = parse_crash_log(err, "worker stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << err;
  EXPECT_EQ(parsed->format, "rust-stack-overflow");
  const Outcome& o = parsed->outcome;
  EXPECT_EQ(o.kind, OutcomeKind::stack_overflow);
  EXPECT_EQ(o.signal, SIGABRT);
  ASSERT_TRUE(o.attribution.has_value());
  EXPECT_TRUE(o.attribution->stack_guard);
  EXPECT_EQ(o.attribution->stack_thread_name, "filter-worker");
  EXPECT_EQ(state_kind(o), "stack-overflow");
}

// ---- glibc ----

TEST(CrashLog, GlibcDoubleFreeFromARealProgramIsSigabrtWithTheMessageAsTheCheck) {
  std::string dir = scratch_dir("glibc");
  std::string err = stderr_of(testing::crasher_path("double_free"), dir);
  auto parsed = parse_crash_log(err, "double_free stderr");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << err;
  EXPECT_EQ(parsed->format, "glibc-abort");
  EXPECT_EQ(parsed->outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(parsed->outcome.signal, SIGABRT);
  EXPECT_THAT(parsed->outcome.check, HasSubstr("double free"));
  EXPECT_EQ(state_kind(parsed->outcome), "signal SIGABRT");
}

TEST(CrashLog, GlibcStackSmashingInACiLogIsFound) {
  ParsedCrashLog p = parse_fixture("glibc-abort/stack-smashing-in-ci.txt");
  EXPECT_EQ(p.outcome.check, "stack smashing detected");
  EXPECT_EQ(p.first_line, 2);
}

TEST(CrashLog, GlibcOldStyleErrorKeepsItsBacktraceDemangled) {
  ParsedCrashLog p = parse_fixture("glibc-abort/old-style-error-in-with-backtrace.txt");
  EXPECT_EQ(p.outcome.check, "double free or corruption (fasttop)");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("vstore::Store::close", "main"));
}

TEST(CrashLog, GlibcCorruptedTopSizeAmongOtherLinesIsTheCheck) {
  ParsedCrashLog p = parse_fixture("glibc-abort/corrupted-top-size-among-noise.txt");
  EXPECT_EQ(p.outcome.check, "malloc(): corrupted top size");
  EXPECT_FALSE(has_note(p.outcome, "not SIGABRT"));
}

// ---- kernel ----

TEST(CrashLog, KernelSegfaultLineDecodesTheErrorBitsAndTheLibraryOffset) {
  ParsedCrashLog p = parse_fixture("kernel/segfault-dmesg.txt");
  EXPECT_EQ(p.format, "kernel");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.kind, OutcomeKind::signal);
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_EQ(o.si_code, SEGV_MAPERR);
  EXPECT_EQ(o.fault_address, 0x7f3a2b000000u);
  ASSERT_TRUE(o.attribution.has_value());
  EXPECT_EQ(o.attribution->access, "read");
  EXPECT_THAT(o.attribution->description, HasSubstr("no page is mapped there"));
  const Thread& t = o.threads.at(0);
  EXPECT_EQ(t.name, "python3");
  EXPECT_EQ(t.tid, 12345);
  EXPECT_EQ(t.frames.at(0).module, "libvecidx.so");
  EXPECT_EQ(t.frames[0].module_offset, 0x7f3a2c1d2e3fu - 0x7f3a2c100000u);
  EXPECT_EQ(t.frames[0].pc, 0x7f3a2c1d2e3fu);
  EXPECT_THAT(state_frames(o), ElementsAre("libvecidx.so+0xd2e3f"));
}

TEST(CrashLog, KernelSegfaultNextToTheStackPointerOfATokioWorkerIsAStackOverflow) {
  ParsedCrashLog p = parse_fixture("kernel/rust-service-stack-overflow-journal.txt");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.kind, OutcomeKind::stack_overflow);
  EXPECT_EQ(o.signal, SIGSEGV);
  ASSERT_TRUE(o.attribution.has_value());
  EXPECT_EQ(o.attribution->access, "write");
  EXPECT_TRUE(o.attribution->stack_guard);
  EXPECT_EQ(o.attribution->stack_thread_name, "tokio-runtime-w");
  EXPECT_EQ(o.threads.at(0).frames.at(0).module, "_lancedb.abi3.so");
}

TEST(CrashLog, KernelSegfaultAtASmallAddressIsANullPageWrite) {
  ParsedCrashLog p = parse_fixture("kernel/null-write-kern-log.txt");
  ASSERT_TRUE(p.outcome.attribution.has_value());
  EXPECT_TRUE(p.outcome.attribution->null_page);
  EXPECT_EQ(p.outcome.attribution->access, "write");
  EXPECT_EQ(p.outcome.fault_address, 0x18u);
  EXPECT_EQ(p.outcome.kind, OutcomeKind::signal);
  EXPECT_EQ(p.outcome.threads.at(0).name, "vstore_tool");
}

TEST(CrashLog, KernelTrapLinesGiveTheirSignals) {
  ParsedCrashLog divide = parse_fixture("kernel/traps-divide-error.txt");
  EXPECT_EQ(divide.outcome.signal, SIGFPE);
  EXPECT_EQ(divide.outcome.si_code, FPE_INTDIV);
  EXPECT_EQ(divide.outcome.threads.at(0).frames.at(0).module_offset, 0x2c1e5u);
  ParsedCrashLog gp = parse_fixture("kernel/general-protection.txt");
  EXPECT_EQ(gp.outcome.signal, SIGSEGV);
  EXPECT_EQ(gp.outcome.si_code, SI_KERNEL);
  EXPECT_EQ(gp.outcome.threads.at(0).name, "vstore_tool");
  EXPECT_EQ(gp.outcome.threads[0].frames.at(0).module, "libc.so.6");
}

TEST(CrashLog, KernelPrintFatalSignalsLineGivesTheSignalAndTheUserPc) {
  ParsedCrashLog p = parse_fixture("kernel/fatal-signal-bus.txt");
  EXPECT_EQ(p.outcome.signal, SIGBUS);
  EXPECT_EQ(p.outcome.threads.at(0).name, "python3");
  EXPECT_EQ(p.outcome.threads[0].frames.at(0).pc, 0x7f3a2c1d2e3fu);
}

// ---- gdb ----

TEST(CrashLog, GdbBtThenThreadApplyAllBtIsOneThreadTheCrashedOne) {
  ParsedCrashLog p = parse_fixture("gdb/null-deref-bt-and-all-threads.txt");
  EXPECT_EQ(p.format, "gdb");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.signal, SIGSEGV);
  ASSERT_EQ(o.threads.size(), 1u);
  EXPECT_EQ(o.threads[0].tid, 9801);
  EXPECT_EQ(o.threads[0].name, "null_deref");
  EXPECT_EQ(o.threads[0].frames.at(0).function, "read_payload");
  EXPECT_EQ(o.threads[0].frames[0].line, 7);
  EXPECT_EQ(o.threads[0].frames[0].pc, 0x55555555576cu);
  EXPECT_THAT(state_frames(o), ElementsAre("read_payload", "main"));
}

// gdb's own output for a real core, as an engineer pastes it into a ticket:
// the same signal, frames and crash state as reading the core itself.
TEST(CrashLog, GdbBacktraceOfARealCoreAgreesWithTheCoreReader) {
  std::string gdb = testing::find_tool("gdb");
  if (gdb.empty()) GTEST_SKIP() << "no gdb on PATH";
  if (std::string why = testing::cores_unavailable(); !why.empty()) GTEST_SKIP() << why;
  std::string dir = scratch_dir("gdb-core");
  auto core = testing::dump_core("null_deref", {}, dir);
  ASSERT_TRUE(core) << "null_deref left no core in " << dir;
  std::string out = dir + "/gdb.txt";
  std::string command = gdb + " -batch -nx -iex 'set debuginfod enabled off' -ex bt -ex 'thread apply all bt' " +
                        testing::crasher_path("null_deref") + " " + *core + " >" + out + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(out);
  std::string text = read_file(out);
  auto parsed = parse_crash_log(text, "gdb output");
  ASSERT_TRUE(parsed.ok()) << parsed.error() << "\n" << text;
  EXPECT_EQ(parsed->format, "gdb");
  const Outcome& o = parsed->outcome;
  EXPECT_EQ(o.signal, SIGSEGV);
  ASSERT_EQ(o.threads.size(), 1u);
  EXPECT_EQ(o.threads[0].frames.at(0).function, "read_payload");
  EXPECT_EQ(o.threads[0].frames[0].line, 7);
  auto from_core = outcome_from_core(*core);
  ASSERT_TRUE(from_core) << from_core.error();
  triage(*from_core, nullptr);
  Outcome from_gdb = o;
  triage(from_gdb, nullptr);
  EXPECT_EQ(from_gdb.crash_state, from_core->crash_state);
}

TEST(CrashLog, GdbAbortLeavesLibcsFramesOutOfTheCrashState) {
  ParsedCrashLog p = parse_fixture("gdb/abort-bt.txt");
  EXPECT_EQ(p.outcome.signal, SIGABRT);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("check_invariant", "main"));
}

TEST(CrashLog, GdbThreadThatReceivedTheSignalComesFirst) {
  ParsedCrashLog p = parse_fixture("gdb/thread-9-received-sigsegv.txt");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.signal, SIGSEGV);
  ASSERT_GE(o.threads.size(), 8u);
  EXPECT_EQ(o.threads[0].role, "crashed");
  EXPECT_EQ(o.threads[0].tid, 9845);
  EXPECT_EQ(o.threads[1].role, "running");
  EXPECT_THAT(o.threads[0].frames.at(0).function, "descend");
}

TEST(CrashLog, GdbCoreOfAPythonProcessDropsTheSignalHandlerFrames) {
  ParsedCrashLog p = parse_fixture("gdb/core-python-sigbus.txt");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.signal, SIGBUS);
  ASSERT_EQ(o.threads.size(), 2u);
  EXPECT_EQ(o.threads[0].tid, 51120);
  EXPECT_EQ(o.threads[0].frames.at(0).function, "hnsw_index::HnswIndex::len");
  EXPECT_EQ(o.threads[1].frames.at(0).module, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_TRUE(has_note(o, "5 frames of a signal handler"));
  EXPECT_THAT(state_frames(o), ElementsAre("hnsw_index::HnswIndex::len", "chromadb::segment::HnswSegment::count",
                                           "chromadb_rust_bindings::Bindings::count"));
}

// ---- Go ----

TEST(CrashLog, GoNilPointerPanicIsASigsegvWithTheCrashedGoroutineFirst) {
  ParsedCrashLog p = parse_fixture("go/nil-pointer.txt");
  EXPECT_EQ(p.format, "go");
  const Outcome& o = p.outcome;
  EXPECT_EQ(o.kind, OutcomeKind::signal);
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_EQ(o.si_code, 1);
  EXPECT_EQ(o.fault_address, 0x18u);
  ASSERT_EQ(o.threads.size(), 2u);
  EXPECT_EQ(o.threads[0].name, "goroutine 41 (running)");
  EXPECT_EQ(o.threads[0].frames.at(0).function, "example.com/vecsvc/index.(*Shard).Count");
  EXPECT_EQ(o.threads[0].frames[0].file, "/src/vecsvc/index/shard.go");
  EXPECT_EQ(o.threads[0].frames[0].line, 88);
  EXPECT_EQ(o.threads[0].frames.size(), 5u);  // "created by" is where it came from, not a frame
  EXPECT_EQ(o.threads[1].name, "goroutine 1 (IO wait)");
  EXPECT_THAT(state_frames(o), ElementsAre("example.com/vecsvc/index.(*Shard).Count",
                                           "example.com/vecsvc/api.(*Server).handleCount",
                                           "net/http.HandlerFunc.ServeHTTP"));
}

TEST(CrashLog, GoBusErrorFaultLeavesTheRuntimeFramesOut) {
  ParsedCrashLog p = parse_fixture("go/bus-error-fault.txt");
  EXPECT_EQ(p.outcome.signal, SIGBUS);
  EXPECT_EQ(p.outcome.si_code, 2);
  EXPECT_EQ(p.outcome.fault_address, 0x7f8e3c104000u);
  EXPECT_EQ(p.outcome.check, "fault");
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("main.(*VectorFile).slot", "main.count", "main.main"));
}

TEST(CrashLog, GoPanicWithoutASignalExitsWithStatus2) {
  ParsedCrashLog p = parse_fixture("go/plain-panic.txt");
  EXPECT_EQ(p.outcome.kind, OutcomeKind::exit);
  EXPECT_EQ(p.outcome.exit_code, 2);
  EXPECT_EQ(p.outcome.check, "panic");
  EXPECT_THAT(p.outcome.detail, HasSubstr("manifest lists 12 segments"));
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("main.loadShards", "main.main"));
}

TEST(CrashLog, GoFaultInCgoCodeReadsPcSigcodeAndAddr) {
  ParsedCrashLog p = parse_fixture("go/cgo-sigsegv.txt");
  EXPECT_EQ(p.outcome.signal, SIGSEGV);
  EXPECT_EQ(p.outcome.si_code, 1);
  EXPECT_EQ(p.outcome.fault_address, 0x10u);
  EXPECT_THAT(state_frames(p.outcome), ElementsAre("github.com/example/faissgo._Cfunc_faiss_Index_search",
                                                   "github.com/example/faissgo.(*Index).Search", "main.main"));
}

// ---- the table, noise, bad input ----

TEST(CrashLog, EveryFixtureIsDetectedAsTheFormatOfItsFolderAndForcingThatFormatAgrees) {
  int checked = 0;
  for (const auto& folder : std::filesystem::directory_iterator(fixtures_dir())) {
    std::string format = folder.path().filename();
    if (format == "mixed") continue;
    bool known = false;
    for (const auto& f : crash_log_formats()) known = known || f.name == format;
    EXPECT_TRUE(known) << "fixture folder " << format << " is no format";
    for (const auto& file : std::filesystem::directory_iterator(folder.path())) {
      std::string text = read_file(file.path());
      auto detected = parse_crash_log(text, file.path().filename().string());
      ASSERT_TRUE(detected.ok()) << detected.error();
      EXPECT_EQ(detected->format, format) << file.path();
      auto forced = parse_crash_log(text, "x", format);
      ASSERT_TRUE(forced.ok()) << forced.error();
      EXPECT_EQ(forced->outcome, detected->outcome) << file.path();
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);
}

// The answer key (tests/harness/data/crash-logs-expected.tsv) was written
// from each fixture's text by someone who had not read the parsers: format,
// kind, signal, check, the first frame of the program's own (machinery
// skipped) and the fault address of the crash the log is about. Every column
// of every fixture must agree; the tally is printed for the closing figures.
TEST(CrashLog, EveryFixtureAgreesWithTheAnswerKeyWrittenFromItsText) {
  std::ifstream key(source_dir() + "/tests/harness/data/crash-logs-expected.tsv");
  ASSERT_TRUE(key) << "no answer key";
  std::string line;
  std::getline(key, line);  // header
  const char* const columns[] = {"format", "kind", "signal", "check", "top frame", "fault address"};
  std::map<std::string, std::array<int, 6>> right;  // per format: column -> fixtures right
  std::map<std::string, int> total;
  int rows = 0;
  while (std::getline(key, line)) {
    std::vector<std::string> cell;
    for (std::string_view rest = line;;) {
      auto tab = rest.find('\t');
      cell.emplace_back(rest.substr(0, tab));
      if (tab == std::string_view::npos) break;
      rest = rest.substr(tab + 1);
    }
    ASSERT_GE(cell.size(), 7u) << line;
    ++rows;
    const std::string& name = cell[0];
    auto parsed = parse_crash_log(fixture(name), name);
    if (cell[1] == "-") {
      EXPECT_FALSE(parsed.ok()) << name << " has no crash, but the parser found one";
      continue;
    }
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.error();
    Outcome o = parsed->outcome;
    triage(o, nullptr);
    std::string top = "-";
    if (!o.threads.empty()) {
      const Thread& t = o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size())
                            ? o.threads[o.crashing_thread] : o.threads.front();
      for (const Frame& f : t.frames)
        if (!frame_ignore_rule(f) && !f.function.empty()) {
          top = normalize_function(f.function);
          break;
        }
    }
    std::string got[6] = {
        parsed->format,
        std::string(to_string(o.kind)),
        o.signal ? signal_name(*o.signal) : "-",
        o.check.empty() ? "-" : o.check,
        top,
        o.fault_address ? fmt::format("{:#x}", *o.fault_address) : "-",
    };
    bool ok[6];
    for (int c = 0; c < 6; ++c) ok[c] = got[c] == cell[c + 1];
    ok[3] = cell[4] == "-" ? got[3] == "-" : got[3].rfind(cell[4], 0) == 0;  // the check may go on ("READ 4")
    ok[4] = got[4] == normalize_function(cell[5]) || (cell[5] == "-" && got[4] == "-");
    ++total[cell[1]];
    auto& tally = right[cell[1]];
    for (int c = 0; c < 6; ++c) {
      tally[c] += ok[c];
      EXPECT_TRUE(ok[c]) << name << ": " << columns[c] << " is '" << got[c] << "', the key says '" << cell[c + 1]
                         << "' (" << cell[7] << ")";
    }
  }
  EXPECT_GE(rows, 43);
  for (const auto& [format, n] : total) {
    std::string figures;
    for (int c = 0; c < 6; ++c) figures += fmt::format("  {} {}/{}", columns[c], right[format][c], n);
    std::printf("answer key %-20s%s\n", format.c_str(), figures.c_str());
  }
}

TEST(CrashLog, FormatNamesAreUniqueAndEachSaysWhatItLooksFor) {
  std::set<std::string_view> names;
  for (const auto& f : crash_log_formats()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_FALSE(f.description.empty());
    EXPECT_FALSE(f.looks_for.empty());
  }
  EXPECT_EQ(names.size(), 10u);
}

TEST(CrashLog, SeveralCrashesInOneLogExplainTheFirstAndCountTheOthers) {
  ParsedCrashLog p = parse_fixture("mixed/two-faulthandler-dumps.txt");
  EXPECT_EQ(p.outcome.signal, SIGSEGV);
  EXPECT_EQ(p.first_line, 1);
  EXPECT_TRUE(has_note(p.outcome, "1 more crash in the log (line 7); this is the first one"));
}

TEST(CrashLog, ALogOfThousandsOfPanicsCountsThemAndListsAFew) {
  std::string log;
  for (int i = 0; i < 3000; ++i) log += "thread 'worker' panicked at src/w.rs:1:1:\nboom\n";
  auto parsed = parse_crash_log(log, "panics.log");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(has_note(parsed->outcome, "2999 more crashes in the log (lines 3, 5, 7, 9, 11, ...); this is the first one"));
}

TEST(CrashLog, ALogWithoutACrashFailsNamingTheSourceAndTheFormatsLookedFor) {
  auto parsed = parse_crash_log(fixture("mixed/no-crash.txt"), "indexer.log");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error(), HasSubstr("indexer.log: no crash log format recognised (looked for: crashgate exec output, "
                                        "sanitizer report, gdb backtrace, Python faulthandler dump"));
  auto empty = parse_crash_log("", "empty.txt");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error(), HasSubstr("empty.txt: no crash log format recognised"));
}

TEST(CrashLog, AForcedFormatThatIsNotInTheLogOrNotAFormatFails) {
  std::string text = fixture("go/nil-pointer.txt");
  auto wrong = parse_crash_log(text, "go.log", "python-traceback");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(), "go.log: no python-traceback crash in it (looked for: Python traceback)");
  auto unknown = parse_crash_log(text, "go.log", "java");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(), HasSubstr("go.log: not a format: 'java' (the formats: crashgate-exec, sanitizer, gdb,"));
}

TEST(CrashLog, BinaryGarbageFailsWithoutCrashing) {
  std::mt19937 random(16);
  for (int round = 0; round < 200; ++round) {
    std::string bytes(static_cast<std::size_t>(random() % 4096), '\0');
    for (auto& b : bytes) b = static_cast<char>(random());
    auto parsed = parse_crash_log(bytes, "garbage.bin");
    if (!parsed.ok()) EXPECT_THAT(parsed.error(), HasSubstr("garbage.bin"));
  }
  std::string nul_and_escapes("\0\x1b[\x1b]\x1b\n\r\r\n\xff\xfe#0  \n[\n<6>\n", 22);
  EXPECT_FALSE(parse_crash_log(nul_and_escapes, "x").ok());
}

// Every fixture cut at every few bytes (a log truncated mid-line) parses or
// fails; under ASan/UBSan this is where an off-by-one would show.
TEST(CrashLog, EveryFixtureCutAnywhereParsesOrFailsButNeverCrashes) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(fixtures_dir())) {
    if (!entry.is_regular_file()) continue;
    std::string text = read_file(entry.path());
    for (std::size_t cut = 0; cut < text.size(); cut += 5) {
      auto parsed = parse_crash_log(std::string_view(text).substr(0, cut), "cut");
      if (parsed.ok()) {
        Outcome o = parsed->outcome;
        triage(o, nullptr);  // and what the caller does next holds too
      }
    }
  }
}

TEST(CrashLog, CleaningRemovesColoursAndTheCollectorsPrefixesButKeepsIndentation) {
  using field::clean_line;
  EXPECT_EQ(clean_line("Dec 02 03:14:07 host app[123]:   File \"x.py\", line 3 in f"), "  File \"x.py\", line 3 in f");
  EXPECT_EQ(clean_line("Dec  2 03:14:07 db-03 kernel: [512004.771203] prog[1]: segfault at 0"), "prog[1]: segfault at 0");
  EXPECT_EQ(clean_line("2026-12-02T03:14:07+0000 host app[1]: Fatal Python error: Aborted"), "Fatal Python error: Aborted");
  EXPECT_EQ(clean_line("2026-12-02T03:14:05.1130456Z \tmain.go:3"), "\tmain.go:3");
  EXPECT_EQ(clean_line("[ 8127.101355] python3[1]: segfault"), "python3[1]: segfault");
  EXPECT_EQ(clean_line("[Tue Dec  2 03:14:07 2026] python3[1]: segfault"), "python3[1]: segfault");
  EXPECT_EQ(clean_line("\x1b[1m\x1b[31m==1==ERROR\x1b[0m\r"), "==1==ERROR");
  EXPECT_EQ(clean_line("progress 10%\rprogress 100%\rdone"), "done");
  // Not prefixes: a message that starts with a date-like word, a bracketed non-time.
  EXPECT_EQ(clean_line("[worker 3] opened"), "[worker 3] opened");
  EXPECT_EQ(clean_line("thread 'main' panicked at src/x.rs:1:1:"), "thread 'main' panicked at src/x.rs:1:1:");
}

}  // namespace
}  // namespace crashgate
