// `crashgate mutate` as a user starts it: --list on a repository of its own
// (a worktree is made, the mutants listed, nothing built), and the usage
// errors that name what was wrong. A whole run builds every preset of the
// project and is measured nightly (ci/mutate), not here.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A git repository holding targets/vstore/src/store.cc, committed.
std::string scratch_repository() {
  std::string repo = testing::scratch_dir("mutate-repo");
  fs::create_directories(repo + "/targets/vstore/src/failpoint");
  fs::copy_file(testing::source_dir() + "/tests/harness/data/mutants/engine.cc", repo + "/targets/vstore/src/store.cc");
  testing::write_file(repo + "/targets/vstore/src/failpoint/sites.cc", "int site(int a) { return a < 2; }\n");
  std::string git = "git -C " + shell_quote(repo);
  EXPECT_EQ(std::system((git + " init -q && " + git + " add -A && " + git +
                         " -c user.name=t -c user.email=t@t commit -qm engine >/dev/null").c_str()),
            0);
  return repo;
}

Outcome mutate(const std::string& dir, std::vector<std::string> args) {
  RunSpec spec;
  spec.argv = {testing::crashgate_binary(), "mutate"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.work_dir = dir;
  spec.trace = false;
  spec.limits.wall = std::chrono::seconds(180);
  spec.stdout_bounds = {std::size_t{4} << 20, 0};
  spec.env = {{"ASAN_OPTIONS", "detect_leaks=0"}};
  return run_observed(spec);
}

TEST(MutateCommand, ListMakesAWorktreeAndListsASeededSampleOfTheEngine) {
  std::string repo = scratch_repository();
  Outcome o = mutate(repo, {"--list", "--count", "6", "--seed", "2", "-j", "1"});
  ASSERT_EQ(o.kind, OutcomeKind::ok) << testing::output_of(o);
  std::string out = o.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("6 mutants of 25 found (seed 2)")) << "the failpoint file is not the engine's";
  EXPECT_THAT(out, HasSubstr("@targets/vstore/src/store.cc:"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("failpoint")));
  EXPECT_TRUE(fs::exists(repo + "/build/mutate/tree/targets/vstore/src/store.cc")) << "the worktree at HEAD";
  EXPECT_FALSE(fs::exists(repo + "/build/mutate/tree/build")) << "--list builds nothing";
  Outcome again = mutate(repo, {"--list", "--count", "6", "--seed", "2", "-j", "1"});
  EXPECT_EQ(again.stdout_excerpt.text(), out) << "the same seed, the same mutants; the worktree is reused";
  Outcome one = mutate(repo, {"--list", "--mutant", "return-flip@targets/vstore/src/store.cc:valid#1", "--mutant",
                              "return-flip@targets/vstore/src/store.cc:gone#0"});
  ASSERT_EQ(one.kind, OutcomeKind::ok) << testing::output_of(one);
  EXPECT_THAT(one.stdout_excerpt.text(), HasSubstr("1 mutants of 25 found"));
  EXPECT_THAT(one.stderr_excerpt.text(), HasSubstr("1 of the mutants asked for are not in the source"));
}

TEST(MutateCommand, BadOptionsAreUsageErrorsNamingWhatWasWrong) {
  std::string repo = scratch_repository();
  auto error_of = [&](std::vector<std::string> args) {
    Outcome o = mutate(repo, args);
    EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
    return o.stderr_excerpt.text();
  };
  EXPECT_THAT(error_of({"--list", "--rules", "flip-all"}), HasSubstr("--rules: 'flip-all' is no mutation rule"));
  EXPECT_THAT(error_of({"--list", "--at", "no-such-rev"}), HasSubstr("--at: 'no-such-rev' is not a commit"));
  EXPECT_THAT(error_of({"--list", "--builds", "release,coverage"}), HasSubstr("--builds: 'coverage' is not a preset"));
  EXPECT_THAT(error_of({"--list", "no/such/dir"}), HasSubstr("no/such/dir: no such file or folder"));
  EXPECT_THAT(error_of({"--list", "--from", repo + "/nothing.json"}), HasSubstr("--from: cannot read"));
  EXPECT_THAT(error_of({"--list", "--count", "0"}), HasSubstr("--count: '0' is not a whole number of 1 or more"));
  EXPECT_THAT(error_of({"--list", "--mutant-time", "30"}), HasSubstr("--mutant-time: '30' is not a duration of at least 1m"));
  EXPECT_THAT(error_of({"--list", "--mutant-time", "59s"}), HasSubstr("--mutant-time: '59s' is not a duration of at least 1m"));
  std::string outside = testing::scratch_dir("mutate-outside");
  Outcome o = mutate(outside, {"--list"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("run it inside the repository"));
  EXPECT_EQ(mutate(repo, {"--help"}).kind, OutcomeKind::ok);
}

}  // namespace
}  // namespace crashgate
