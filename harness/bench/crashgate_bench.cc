// crashgate's speed targets (issue 4): under 5 ms of overhead per run, and
// under 250 ms to diagnose a crash with 8 threads of 50 frames. Run:
//   build/release/bin/crashgate_bench
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "crashgate/core_file.h"
#include "crashgate/runner.h"
#include "crashgate/triage.h"

extern char** environ;

namespace crashgate {
namespace {

void spawn_and_wait(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t quiet;  // the summaries would drown the figures
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &quiet, nullptr, args.data(), environ) != 0) std::abort();
  posix_spawn_file_actions_destroy(&quiet);
  int status = 0;
  waitpid(pid, &status, 0);
}

// The baseline: what running /bin/true costs without crashgate.
void BM_TrueDirect(benchmark::State& state) {
  for (auto _ : state) spawn_and_wait({"/bin/true"});
}
BENCHMARK(BM_TrueDirect)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

// The library path `crashgate run` uses: fork, ptrace, capture, classify.
void BM_TrueRunObserved(benchmark::State& state) {
  RunSpec spec;
  spec.argv = {"/bin/true"};
  for (auto _ : state) {
    Outcome o = run_observed(spec);
    if (o.kind != OutcomeKind::ok) state.SkipWithError("not ok");
  }
}
BENCHMARK(BM_TrueRunObserved)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

// The whole command line: crashgate's own startup included.
void BM_TrueCrashgateExec(benchmark::State& state) {
  for (auto _ : state) spawn_and_wait({CRASHGATE_EXEC_BIN, "exec", "--", "/bin/true"});
}
BENCHMARK(BM_TrueCrashgateExec)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

// 1,000 trivial runs at -j 2; the time reported is for all of them.
void BM_ThousandRunsJobs2(benchmark::State& state) {
  RunSpec spec;
  spec.argv = {"/bin/true"};
  std::vector<RunSpec> specs(1000, spec);
  for (auto _ : state) {
    auto outcomes = run_parallel(specs, 2);
    for (const auto& o : outcomes)
      if (o.kind != OutcomeKind::ok) state.SkipWithError("not ok");
  }
  state.counters["per_run_ms"] = benchmark::Counter(1000.0, benchmark::Counter::kIsIterationInvariantRate |
                                                               benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThousandRunsJobs2)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// Diagnosis of a crash with 8 threads, each 50 frames deep: stop every thread,
// read maps, attribute, unwind and symbolize all of them. Manual time is
// crashgate's diagnosis only, not the crasher's start-up.
void BM_DiagnoseEightThreadsFiftyFrames(benchmark::State& state) {
  RunSpec spec;
  spec.argv = {CRASHGATE_MANY_THREADS_CRASHER};
  for (auto _ : state) {
    Outcome o = run_observed(spec);
    if (o.kind != OutcomeKind::signal || o.threads.size() != 9) state.SkipWithError("unexpected outcome");
    state.SetIterationTime(o.diagnosis_ms / 1000.0);
  }
}
BENCHMARK(BM_DiagnoseEightThreadsFiftyFrames)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10)
    ->Repetitions(3)->ReportAggregatesOnly(true);

// Triage of a core file of the same crash (crashgate triage CORE): read the
// notes, attribute, unwind and symbolize 9 threads from the core's memory.
// The core is written once, by the kernel, in a temporary directory.
void BM_TriageCoreEightThreadsFiftyFrames(benchmark::State& state) {
  char dir[] = "/tmp/crashgate-bench-core-XXXXXX";
  if (!mkdtemp(dir)) return state.SkipWithError("no temporary directory");
  pid_t pid = fork();
  if (pid == 0) {
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (chdir(dir) != 0 || setrlimit(RLIMIT_CORE, &unlimited) != 0) _exit(120);
    execl(CRASHGATE_MANY_THREADS_CRASHER, CRASHGATE_MANY_THREADS_CRASHER, nullptr);
    _exit(121);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::string core;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().rfind("core", 0) == 0) core = entry.path().string();
  if (core.empty()) {
    std::filesystem::remove_all(dir);
    return state.SkipWithError("the kernel wrote no core here (see /proc/sys/kernel/core_pattern)");
  }
  for (auto _ : state) {
    auto o = outcome_from_core(core);
    if (!o || o->threads.size() != 9) state.SkipWithError("unexpected triage of the core");
    if (o) triage(*o, nullptr);
    benchmark::DoNotOptimize(o);
  }
  state.counters["core_MiB"] = static_cast<double>(std::filesystem::file_size(core)) / (1 << 20);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_TriageCoreEightThreadsFiftyFrames)->Unit(benchmark::kMillisecond)->Iterations(10)->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace crashgate

BENCHMARK_MAIN();
