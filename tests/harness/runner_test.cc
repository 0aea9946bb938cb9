// The runner's isolation: limits, environment, capture, timeouts, cancellation, parallel runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "crashgate/runner.h"
#include "crashgate/summary_text.h"
#include "harness/support/crashers.h"
#include "runner/bounded_capture.h"
#include "runner/sanitizer_env.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

RunSpec shell(const std::string& script) {
  RunSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  return spec;
}

TEST(Runner, LimitsAreAppliedToTheChild) {
  RunSpec spec = shell("ulimit -n; ulimit -s; ulimit -c");
  spec.limits.open_files = 17;
  spec.limits.stack = 2 * 1024 * 1024;
  Outcome o = run_observed(spec);
  ASSERT_EQ(o.kind, OutcomeKind::ok) << summary_text(o);
  EXPECT_EQ(o.stdout_excerpt.head, "17\n2048\n0\n");
}

TEST(Runner, TheChildRunsInItsOwnProcessGroup) {
  Outcome o = run_observed(shell("echo $$; ps -o pgid= -p $$"));
  long pid = 0, pgid = 0;
  ASSERT_EQ(sscanf(o.stdout_excerpt.head.c_str(), "%ld %ld", &pid, &pgid), 2) << o.stdout_excerpt.head;
  EXPECT_EQ(pid, pgid);
  EXPECT_NE(pgid, getpgrp());
}

TEST(Runner, EnvironmentOverridesWorkerStackAndSanitizerDefaultsReachTheChild) {
  RunSpec spec = shell("echo $GREETING; echo $CRASHGATE_WORKER_STACK; echo $RUST_MIN_STACK; echo $ASAN_OPTIONS");
  spec.env = {{"GREETING", "hello"}, {"ASAN_OPTIONS", "detect_leaks=0:color=always"}};
  spec.limits.worker_stack = 2 * 1024 * 1024;
  Outcome o = run_observed(spec);
  EXPECT_THAT(o.stdout_excerpt.head, ::testing::StartsWith("hello\n2097152\n2097152\ndetect_leaks=0:color=always:"));
  EXPECT_THAT(o.stdout_excerpt.head, HasSubstr("print_summary=1"));
  EXPECT_THAT(o.stdout_excerpt.head, ::testing::Not(HasSubstr("color=never")));  // the user's own key wins
}

TEST(Runner, StdinIsEmptyAndStdoutStderrAreSeparate) {
  Outcome o = run_observed(shell("cat; echo out; echo err >&2"));
  EXPECT_EQ(o.stdout_excerpt.head, "out\n");
  EXPECT_EQ(o.stderr_excerpt.head, "err\n");
}

TEST(Runner, AMissingCommandIsAHarnessErrorNamingIt) {
  RunSpec spec;
  spec.argv = {"crashgate-no-such-command"};
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.kind, OutcomeKind::harness_error);
  EXPECT_THAT(o.detail, HasSubstr("crashgate-no-such-command"));
}

TEST(Runner, AFileThatCannotBeExecutedIsAHarnessError) {
  RunSpec spec;
  spec.argv = {"/etc/hostname"};
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.kind, OutcomeKind::harness_error);
  EXPECT_THAT(o.detail, HasSubstr("/etc/hostname"));
}

TEST(Runner, ATimeoutKillsTheWholeGroupEvenIfSigtermIsIgnored) {
  RunSpec spec = shell("trap '' TERM; sleep 30 & sleep 30 & wait");
  spec.limits.wall = std::chrono::milliseconds(200);
  spec.kill_grace = std::chrono::milliseconds(200);
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.kind, OutcomeKind::timeout) << summary_text(o);
  EXPECT_THAT(o.detail, HasSubstr("then SIGKILL"));
  EXPECT_LT(o.duration_ms, 5000);
}

TEST(Runner, CancellationStopsARunningCommandAndReportsIt) {
  Cancellation cancel;
  std::thread canceller([&] {
    usleep(200'000);
    cancel.cancel();
  });
  Outcome o = run_observed(shell("echo started; sleep 30"), RunContext{&cancel, nullptr});
  canceller.join();
  EXPECT_EQ(o.kind, OutcomeKind::harness_error);
  EXPECT_THAT(o.detail, HasSubstr("interrupted"));
  EXPECT_EQ(o.stdout_excerpt.head, "started\n");
  EXPECT_LT(o.duration_ms, 5000);
}

TEST(Runner, RunsNotStartedAfterCancellationSaySo) {
  Cancellation cancel;
  cancel.cancel();
  Outcome o = run_observed(shell("true"), RunContext{&cancel, nullptr});
  EXPECT_EQ(o.kind, OutcomeKind::harness_error);
  EXPECT_THAT(o.detail, HasSubstr("not run"));
}

TEST(Runner, ParallelRunsKeepTheirOrderAndReportEachOnce) {
  std::vector<RunSpec> specs;
  for (int i = 0; i < 12; ++i) specs.push_back(shell("echo " + std::to_string(i) + "; exit " + std::to_string(i % 3)));
  std::atomic<int> reported{0};
  auto outcomes = run_parallel(specs, 3, {}, [&](std::size_t, const Outcome&) { ++reported; });
  ASSERT_EQ(outcomes.size(), 12u);
  EXPECT_EQ(reported, 12);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(outcomes[i].stdout_excerpt.head, std::to_string(i) + "\n");
    EXPECT_EQ(outcomes[i].kind, i % 3 == 0 ? OutcomeKind::ok : OutcomeKind::exit);
  }
}

TEST(Runner, ParallelCrashesAreEachDiagnosedByTheirOwnTracer) {
  std::vector<RunSpec> specs(4);
  for (auto& s : specs) s.argv = {testing::crasher_path("null_deref")};
  auto outcomes = run_parallel(specs, 2);
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
    EXPECT_NE(testing::find_frame(o, "read_payload"), nullptr);
  }
}

TEST(Runner, ACrashInAChildOfAShellIsExplainedThroughTheShellsStatus) {
  Outcome o = run_observed(shell(testing::crasher_path("null_deref") + "; exit $?"));
  EXPECT_EQ(o.kind, OutcomeKind::signal) << summary_text(o);
  EXPECT_THAT(o.detail, HasSubstr("a descendant"));
  EXPECT_NE(testing::find_frame(o, "read_payload"), nullptr);
}

TEST(Runner, UntracedRunsStillClassifyByExitStatus) {
  RunSpec spec;
  spec.argv = {testing::crasher_path("null_deref")};
  spec.trace = false;
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.kind, OutcomeKind::signal);
  EXPECT_TRUE(o.threads.empty());
}

TEST(Runner, ReproCommandQuotesWhatTheShellWouldSplit) {
  RunSpec spec;
  spec.argv = {"./x", "two words", "it's"};
  spec.limits.stack = 2 * 1024 * 1024;
  spec.limits.wall = std::chrono::seconds(5);
  EXPECT_EQ(repro_command(spec), "crashgate exec --timeout 5s --stack 2MiB -- ./x 'two words' 'it'\\''s'");
}

TEST(BoundedCapture, KeepsHeadAndTailAcrossAnyChunking) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>('a' + i % 26);
  for (std::size_t chunk : {1u, 7u, 64u, 999u, 1000u}) {
    BoundedCapture capture({100, 50});
    for (std::size_t at = 0; at < data.size(); at += chunk) capture.append(data.data() + at, std::min(chunk, data.size() - at));
    auto e = capture.excerpt();
    EXPECT_EQ(e.head, data.substr(0, 100)) << chunk;
    EXPECT_EQ(e.tail, data.substr(950)) << chunk;
    EXPECT_EQ(e.total_bytes, 1000u);
    EXPECT_THAT(e.text(), HasSubstr("[... crashgate: 850 bytes not kept ...]"));
  }
}

TEST(BoundedCapture, ShortOutputIsKeptWhole) {
  BoundedCapture capture({100, 50});
  capture.append("hello", 5);
  EXPECT_EQ(capture.excerpt().text(), "hello");
  EXPECT_FALSE(capture.excerpt().truncated());
}

TEST(SanitizerOptions, UserKeysWinAndDefaultsFillTheRest) {
  const auto& ubsan = sanitizer_option_defaults()[1];
  std::string merged = merge_sanitizer_options("halt_on_error=0", ubsan);
  EXPECT_THAT(merged, ::testing::StartsWith("halt_on_error=0:"));
  EXPECT_THAT(merged, HasSubstr("report_error_type=1"));
  EXPECT_THAT(merged, ::testing::Not(HasSubstr("halt_on_error=1")));
}

}  // namespace
}  // namespace crashgate
