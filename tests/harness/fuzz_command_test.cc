// `crashgate fuzz` end to end, on a tiny libFuzzer target with two distinct
// crashes (crashers/fuzz_crasher.cc): one directory per signature however many
// inputs crash, minimized inputs no larger than the originals, the morning
// report in both forms, and --promote into regressions/.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/run_directory.h"
#include "crashgate/runner.h"
#include "fuzz/libfuzzer_output.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// corpora/fuzz_crasher/ with seeds one mutation away from each crash; with
// `crashing_seeds`, also a seed that is each crash, so that both are found
// whatever the fuzzer's luck within its time (a loaded machine runs it slowly).
std::string make_corpora(const std::string& root, bool crashing_seeds = false) {
  std::string corpora = root + "/corpora";
  write(corpora + "/fuzz_crasher/seed/near-crash", "CRAS");
  write(corpora + "/fuzz_crasher/seed/near-boom", "BOO");
  if (crashing_seeds) {
    write(corpora + "/fuzz_crasher/seed/crash", "CRASH!!");
    write(corpora + "/fuzz_crasher/seed/boom", "BOOM??");
  }
  write(corpora + "/fuzz_crasher/fuzz_crasher.dict", "a=\"CRASH\"\nb=\"BOOM\"\n");
  write(corpora + "/fuzz_crasher/fuzz_crasher.options", "[libfuzzer]\nmax_len = 64\n");
  return corpora;
}

std::vector<std::string> fuzz_args(const std::string& root, const std::string& corpora) {
  return {"fuzz", "--target", "fuzz_crasher", "--fuzzer-dir", fs::path(testing::crasher_path("fuzz_crasher")).parent_path().string(),
          "--corpora", corpora, "--corpus", root + "/corpus", "--out", root + "/out", "--time", "30s", "--minimize-time", "5s",
          "--seed", "3"};
}

TEST(fuzz_command, OneDirectoryPerSignatureMinimizedWithReportAndPromotion) {
  std::string root = testing::scratch_dir("fuzz-e2e");
  std::string corpora = make_corpora(root, /*crashing_seeds=*/true);
  Outcome o = testing::run_crashgate(fuzz_args(root, corpora), {.wall = std::chrono::seconds(240)});
  std::string err = o.stderr_excerpt.text();
  ASSERT_EQ(o.exit_code, 1) << "expected exit 1 (crashes found)\n" << err;

  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root + "/out/crashes")) dirs.push_back(e.path());
  std::set<std::string> signatures;
  std::size_t inputs = 0;
  for (const fs::path& d : dirs) {
    for (const char* f : {"input", "minimized", "diagnosis.txt", "result.json", "repro.sh", "crash.json", "inputs.txt"})
      EXPECT_TRUE(fs::exists(d / f)) << d / f << " missing";
    auto meta = nlohmann::json::parse(testing::read_file((d / "crash.json").string()));
    std::string sig = meta["signature"];
    EXPECT_FALSE(sig.empty()) << d << " holds a crash that did not reproduce";
    EXPECT_TRUE(signatures.insert(sig).second) << "signature " << sig << " has two directories";
    EXPECT_LE(fs::file_size(d / "minimized"), fs::file_size(d / "input")) << d;
    EXPECT_THAT(testing::read_file((d / "diagnosis.txt").string()), HasSubstr("signature: " + sig));
    std::istringstream list(testing::read_file((d / "inputs.txt").string()));
    for (std::string line; std::getline(list, line);) inputs += !line.empty();
  }
  EXPECT_EQ(signatures.size(), 2u) << "expected the abort and the null write, each once\n" << err;
  EXPECT_GE(inputs, dirs.size());
  // Each crash ends a libFuzzer run; the next run, with the next seed, goes on fuzzing.
  std::string log = testing::read_file(root + "/out/fuzz_crasher/fuzzer.log");
  EXPECT_THAT(log, HasSubstr("# run 2: "));
  EXPECT_THAT(log, HasSubstr(" -seed=4 "));

  EXPECT_THAT(testing::read_file(root + "/out/report.md"), HasSubstr("2 distinct crashes"));
  auto results = load_results(root + "/out/results.json");
  ASSERT_TRUE(results) << results.error();
  EXPECT_EQ(results->cells.size(), 3u);  // the target, then one cell per crash

  // The working corpus was merged: it exists and holds the seeds' coverage.
  EXPECT_TRUE(fs::is_directory(root + "/corpus/fuzz_crasher"));

  Outcome p = testing::run_crashgate({"fuzz", "--promote", dirs.front().string(), "--corpora", corpora});
  ASSERT_EQ(p.exit_code, 0) << p.stderr_excerpt.text();
  std::string sig = nlohmann::json::parse(testing::read_file((dirs.front() / "crash.json").string()))["signature"];
  std::string promoted = corpora + "/fuzz_crasher/regressions/" + sig;
  ASSERT_TRUE(fs::exists(promoted)) << p.stdout_excerpt.text();
  EXPECT_EQ(testing::read_file(promoted), testing::read_file((dirs.front() / "minimized").string()));
  Outcome again = testing::run_crashgate({"fuzz", "--promote", dirs.front().string(), "--corpora", corpora});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.stdout_excerpt.text(), HasSubstr("already promoted"));
}

TEST(fuzz_command, BadArgumentsAreUsageErrorsSayingWhatWasWrong) {
  std::string root = testing::scratch_dir("fuzz-usage");
  std::string corpora = make_corpora(root);
  auto args = fuzz_args(root, corpora);
  args[2] = "no_such_target";
  Outcome o = testing::run_crashgate(args);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("unknown target 'no_such_target'"));

  args = fuzz_args(root, corpora);
  args[12] = "a while";  // --time
  o = testing::run_crashgate(args);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--time: 'a while' is not a duration"));

  args = fuzz_args(root, corpora);
  args.insert(args.end(), {"--jobs", "0"});
  o = testing::run_crashgate(args);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--jobs: '0' is not a whole number of 1 or more"));

  o = testing::run_crashgate({"fuzz", "--corpora", corpora});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--target T"));

  o = testing::run_crashgate({"fuzz", "--promote", root, "--corpora", corpora});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("no crash.json"));

  o = testing::run_crashgate({"fuzz", "--target", "fuzz_crasher", "--corpora", corpora, "--fuzzer-dir", root});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("no libFuzzer binary"));

  EXPECT_EQ(testing::run_crashgate({"fuzz", "--help"}).exit_code, 0);
  EXPECT_EQ(testing::run_crashgate({"coverage", "--help"}).exit_code, 0);
}

TEST(fuzz_command, CtrlCStopsTheFuzzerAndStillWritesTheReport) {
  std::string root = testing::scratch_dir("fuzz-interrupt");
  std::string corpora = make_corpora(root);
  auto args = fuzz_args(root, corpora);
  args[12] = "120s";
  std::vector<std::string> argv{testing::crashgate_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  // Wait until the fuzzer runs (its log appears), then interrupt as a terminal would.
  for (int i = 0; i < 300 && !fs::exists(root + "/out/fuzz_crasher/fuzzer.log"); ++i) ::usleep(100 * 1000);
  ::usleep(1500 * 1000);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto results = load_results(root + "/out/results.json");
  ASSERT_TRUE(results) << results.error();
  EXPECT_TRUE(results->interrupted);
  EXPECT_TRUE(fs::exists(root + "/out/report.md"));
}

TEST(fuzz_command, SeedThatCrashesByItselfIsQuarantinedAndFuzzingGoesOn) {
  std::string root = testing::scratch_dir("fuzz-quarantine");
  std::string corpora = make_corpora(root);
  write(corpora + "/fuzz_crasher/seed/crashes-alone", "CRASH!");
  auto args = fuzz_args(root, corpora);
  args[12] = "15s";  // --time
  Outcome o = testing::run_crashgate(args, {.wall = std::chrono::seconds(180)});
  std::string err = o.stderr_excerpt.text();
  ASSERT_EQ(o.exit_code, 1) << err;
  // The repository's seed stays; the run's copy of it left the corpus.
  EXPECT_TRUE(fs::exists(corpora + "/fuzz_crasher/seed/crashes-alone"));
  EXPECT_EQ(testing::read_file(root + "/out/fuzz_crasher/quarantine/crashes-alone"), "CRASH!");
  EXPECT_FALSE(fs::exists(root + "/out/fuzz_crasher/seed/crashes-alone"));
  EXPECT_THAT(testing::read_file(root + "/out/report.md"), HasSubstr("crashes-alone crashes by itself"));
  // With it out of the way, the fuzzer got through the corpus and found the other crash too.
  EXPECT_THAT(testing::read_file(root + "/out/report.md"), HasSubstr("2 distinct crashes")) << err;
  // The merge at the end crashes on that seed as well; what it leaves stays in OUT.
  for (const auto& e : fs::directory_iterator(fs::current_path()))
    EXPECT_NE(e.path().filename().string().rfind("crash-", 0), 0u) << e.path() << " left in the working directory";
}

TEST(fuzz_command, JobsRunThatManyProcessesEachWithItsOwnSeed) {
  std::string root = testing::scratch_dir("fuzz-jobs");
  std::string corpora = make_corpora(root);
  auto args = fuzz_args(root, corpora);
  args.insert(args.end(), {"--jobs", "2", "--until-crash", "--no-merge"});
  Outcome o = testing::run_crashgate(args, {.wall = std::chrono::seconds(120)});
  ASSERT_EQ(o.exit_code, 1) << o.stderr_excerpt.text();
  std::string log = testing::read_file(root + "/out/fuzz_crasher/fuzzer.log");
  EXPECT_THAT(log, HasSubstr("# [0] run 1: "));
  EXPECT_THAT(log, HasSubstr("# [1] run 1: "));
  EXPECT_THAT(log, HasSubstr(" -seed=3 "));
  EXPECT_THAT(log, HasSubstr(" -seed=4 "));
  EXPECT_THAT(log, HasSubstr("\n[1] INFO: Seed: 4\n"));
}

TEST(fuzz_command, ForkRunsLibFuzzersOwnForkModeAndStillTriages) {
  std::string root = testing::scratch_dir("fuzz-fork");
  std::string corpora = make_corpora(root);
  auto args = fuzz_args(root, corpora);
  args.insert(args.end(), {"--fork", "--until-crash", "--no-merge"});
  Outcome o = testing::run_crashgate(args, {.wall = std::chrono::seconds(120)});
  ASSERT_EQ(o.exit_code, 1) << o.stderr_excerpt.text();
  EXPECT_THAT(testing::read_file(root + "/out/fuzz_crasher/fuzzer.log"), HasSubstr(" -fork=1 -ignore_crashes=1 "));
  EXPECT_THAT(testing::read_file(root + "/out/report.md"), HasSubstr("libFuzzer -fork=1"));
  EXPECT_THAT(testing::read_file(root + "/out/report.md"), HasSubstr("1 distinct crash"));
}

TEST(fuzz_command, ReadsTheArtifactAndFinalCountOfAStoppedRun) {
  EXPECT_EQ(parse_artifact_line("artifact_prefix='out/'; Test unit written to out/crash-da39a3ee"), "out/crash-da39a3ee");
  EXPECT_FALSE(parse_artifact_line("INFO: Seed: 1234"));
  EXPECT_EQ(parse_final_execs("stat::number_of_executed_units: 30517"), 30517u);
  EXPECT_FALSE(parse_final_execs("stat::average_exec_per_sec:     0"));
}

TEST(fuzz_command, ReadsLibFuzzerStatusLinesOfBothModes) {
  auto plain = parse_fuzzer_status("#2048\tpulse  cov: 120 ft: 300 corp: 20/1.1Kb lim: 21 exec/s: 1024 rss: 40Mb");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->execs, 2048u);
  EXPECT_EQ(plain->coverage, 120u);
  EXPECT_EQ(plain->corpus, 20u);
  EXPECT_EQ(plain->execs_per_s, 1024u);
  auto fork = parse_fuzzer_status("#15204: cov: 540 ft: 1466 corp: 139 exec/s 3040 oom/timeout/crash: 0/1/2 time: 5s job: 2 dft_time: 0");
  ASSERT_TRUE(fork);
  EXPECT_EQ(fork->coverage, 540u);
  EXPECT_EQ(fork->execs_per_s, 3040u);
  EXPECT_EQ(fork->crashes, 2u);
  EXPECT_FALSE(parse_fuzzer_status("INFO: Seed: 1234"));
  EXPECT_FALSE(parse_fuzzer_status("#12 not a status"));
}

TEST(fuzz_command, OptionsFilesBecomeFlagsAndBadLinesAreNamed) {
  std::string root = testing::scratch_dir("fuzz-options");
  write(root + "/t.options", "[libfuzzer]\nmax_len = 4096\ndict = t.dict\n\n[afl]\nx = 1\n");
  auto flags = read_fuzzer_options(root + "/t.options");
  ASSERT_TRUE(flags) << flags.error();
  EXPECT_EQ(*flags, (std::vector<std::string>{"-max_len=4096", "-dict=" + root + "/t.dict"}));
  write(root + "/bad.options", "[libfuzzer]\nmax_len\n");
  auto bad = read_fuzzer_options(root + "/bad.options");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error(), HasSubstr("bad.options:2: 'max_len' is not key = value"));
}

}  // namespace
}  // namespace crashgate
