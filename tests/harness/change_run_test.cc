// `--changed BASE` end to end: which files git says changed since the merge
// base, what results.json keeps of the selection, and what the reports, the
// gate's summary and `baseline update` make of a run that was only a selection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "crashgate/change_scope.h"
#include "crashgate/change_selection.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A scratch git repository with a branch `base` at its first commit.
class ScratchRepo {
 public:
  explicit ScratchRepo(const std::string& name) : root(testing::scratch_dir(name)) {
    git("init -q -b main");
  }
  void git(const std::string& args) const {
    std::string command = "git -C '" + root + "' -c user.name=crashgate -c user.email=test@example.com " + args +
                          " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  void write(const std::string& path, const std::string& text) const {
    fs::create_directories(fs::path(root + "/" + path).parent_path());
    std::ofstream(root + "/" + path) << text;
  }
  void append(const std::string& path, const std::string& text) const {
    std::ofstream(root + "/" + path, std::ios::app) << text;
  }
  std::string read(const std::string& path) const {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string root;
};

TEST(ChangeSince, ListsCommittedStagedUnstagedAndUntrackedFilesButNotIgnoredOnes) {
  ScratchRepo repo("change-kinds");
  for (const char* f : {"a.txt", "b.txt", "c.txt", "same.txt"}) repo.write(f, "one\n");
  repo.write(".gitignore", "*.log\n");
  repo.git("add -A");
  repo.git("commit -q -m base");
  repo.git("branch base");
  repo.append("a.txt", "committed\n");
  repo.git("commit -q -am a");
  repo.append("b.txt", "staged\n");
  repo.git("add b.txt");
  repo.append("c.txt", "unstaged\n");
  repo.write("d.txt", "untracked\n");
  repo.write("e.log", "ignored\n");

  auto change = change_since("base", repo.root);
  ASSERT_TRUE(change) << change.error();
  EXPECT_THAT(change->files, ElementsAre("a.txt", "b.txt", "c.txt", "d.txt"));
  EXPECT_EQ(change->merge_base.size(), 40u);
  EXPECT_NE(change->merge_base, change->head) << "HEAD has a commit of its own since base";
  EXPECT_EQ(fs::canonical(change->root), fs::canonical(repo.root));
}

TEST(ChangeSince, ARenameCountsAsBothItsPaths) {
  ScratchRepo repo("change-rename");
  repo.write("old.txt", "a file long enough to be recognised as renamed\n");
  repo.git("add -A");
  repo.git("commit -q -m base");
  repo.git("mv old.txt new.txt");
  auto change = change_since("HEAD", repo.root);
  ASSERT_TRUE(change) << change.error();
  EXPECT_THAT(change->files, ElementsAre("new.txt", "old.txt"));
}

TEST(ChangeSince, MeasuresFromTheMergeBaseSoWhatLandedOnBaseSinceIsNotTheChange) {
  ScratchRepo repo("change-merge-base");
  repo.write("shared.txt", "one\n");
  repo.git("add -A");
  repo.git("commit -q -m root");
  repo.git("checkout -q -b topic");
  repo.write("mine.txt", "the change\n");
  repo.git("add -A");
  repo.git("commit -q -m mine");
  repo.git("checkout -q main");
  repo.write("theirs.txt", "landed on main after the fork\n");
  repo.git("add -A");
  repo.git("commit -q -m theirs");
  repo.git("checkout -q topic");
  auto change = change_since("main", repo.root);
  ASSERT_TRUE(change) << change.error();
  EXPECT_THAT(change->files, ElementsAre("mine.txt"));
}

TEST(ChangeSince, AnUnknownBaseOrAPlaceOutsideAnyRepositoryIsAnErrorThatSaysWhich) {
  ScratchRepo repo("change-errors");
  repo.write("a.txt", "one\n");
  repo.git("add -A");
  repo.git("commit -q -m base");
  auto unknown = change_since("no-such-branch", repo.root);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error(), HasSubstr("'no-such-branch' is not a commit"));
  auto option_like = change_since("--output=/tmp/x", repo.root);
  ASSERT_FALSE(option_like);
  EXPECT_THAT(option_like.error(), HasSubstr("is not a commit"));
  std::string outside = testing::scratch_dir("not-a-repository");
  auto nowhere = change_since("HEAD", outside);
  ASSERT_FALSE(nowhere);
  EXPECT_THAT(nowhere.error(), HasSubstr("is not in a git repository"));
}

ChangeScope sample_scope() {
  ChangeScope s;
  s.base = "origin/main";
  s.merge_base = std::string(40, 'a');
  s.head = std::string(40, 'b');
  s.changed_files = {"targets/vstore/src/index/search.cc", "scenarios/x/y.toml"};
  s.footprints = "reports/footprints.json";
  s.footprints_recorded_at = std::string(40, 'c');
  s.footprints_by = "files";
  s.footprints_by_why = "the commit the footprints were recorded at, cccccccccc, is not in this clone";
  s.sample = 0.05;
  s.sample_seed = 12345678901234567ull;
  s.total = 5;
  s.by_footprint = 1;
  s.by_scenario = 1;
  s.sampled = 1;
  s.why = {{"a/vstore/release", "its footprint holds targets/vstore/src/index/search.cc"},
           {"y/vstore/asan", "its scenario file scenarios/x/y.toml changed"},
           {"z/lmdb/release", "the rotating sample (5% of the rest)"}};
  s.skipped = {{"p/vstore/debug[cut=1]", "p", "vstore", "debug", "scenarios/p/p.toml"},
               {"q/lmdb/tsan", "q", "lmdb", "tsan", "scenarios/q/q.toml"}};
  return s;
}

TEST(ChangeScopeJson, RoundTripsEveryField) {
  ChangeScope s = sample_scope();
  auto back = change_scope_from_json(change_scope_json(s));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(change_scope_json(*back), change_scope_json(s));
  EXPECT_EQ(back->selected(), 3u);
  EXPECT_EQ(back->skipped[0].build, "debug");
  EXPECT_EQ(back->sample_seed, 12345678901234567ull);
}

TEST(ChangeScopeJson, AMissingFieldOrMoreSkippedCellsThanThereWereIsRefusedByName) {
  auto j = change_scope_json(sample_scope());
  j.erase("merge_base");
  auto missing = change_scope_from_json(j);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("merge_base"));
  auto k = change_scope_json(sample_scope());
  k["total"] = 1;
  auto over = change_scope_from_json(k);
  ASSERT_FALSE(over);
  EXPECT_THAT(over.error(), HasSubstr("more than the 1 there were"));
}

TEST(ChangeScopeJson, ResultsWrittenBeforeMoreSeedsExistedReadAsNone) {
  ChangeScope s = sample_scope();
  s.more_seeds = 6;
  auto j = change_scope_json(s);
  EXPECT_EQ(j["selected_by"]["more_seeds"], 6);
  auto back = change_scope_from_json(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->more_seeds, 6u);
  j["selected_by"].erase("more_seeds");
  back = change_scope_from_json(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->more_seeds, 0u);
  j["selected_by"].erase("sampled");
  EXPECT_FALSE(change_scope_from_json(j)) << "the older counters stay required";
  s.more_seeds = 2;
  EXPECT_THAT(s.breakdown(), HasSubstr("2 more runs of concurrency cells whose footprint runs changed code, with other seeds"));
}

TEST(ChangeScope, TheBreakdownSaysEachRuleThatSelectedAndEverythingSaysWhy) {
  ChangeScope s = sample_scope();
  EXPECT_EQ(s.headline(),
            "3 of 5 cells selected for the change since origin/main (merge base aaaaaaaaaa, 2 changed files)");
  EXPECT_EQ(s.breakdown(),
            "1 whose footprint runs changed code, 1 of changed scenario files, 1 from the rotating sample (5% of the rest)");
  s.everything = true;
  s.everything_why = "harness/src/x.cc: the harness runs every cell";
  EXPECT_EQ(s.breakdown(), "every cell: harness/src/x.cc: the harness runs every cell");
}

// The run fixtures' basic/ scenarios, committed to a scratch repository as scenarios/basic/.
class RunChanged : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& entry : fs::directory_iterator(testing::run_fixture("basic"))) {
      fs::create_directories(repo.root + "/scenarios/basic");
      fs::copy_file(entry.path(), repo.root + "/scenarios/basic/" + entry.path().filename().string());
    }
    repo.git("add -A");
    repo.git("commit -q -m base");
  }
  Outcome run(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", repo.root + "/scenarios", "--build", testing::this_build(), "--build-root",
                                     testing::fake_build_root(), "--out", out, "-j", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_crashgate(args);
  }
  ScratchRepo repo{"run-changed"};
  std::string out = testing::scratch_dir("run-changed-reports");
};

TEST_F(RunChanged, RunsOnlyTheCellsOfAChangedScenarioAndEveryReportSaysWhatItSkipped) {
  repo.append("scenarios/basic/fine.toml", "# edited\n");
  Outcome o = run({"--changed", "HEAD", "--change-sample", "0"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("cells selected for the change since HEAD"));
  auto results = testing::latest_results(out);
  const auto& change = results["change"];
  ASSERT_TRUE(change.is_object()) << results.dump(1);
  ASSERT_GE(results["cells"].size(), 1u);
  EXPECT_EQ(change["total"].get<std::size_t>(), results["cells"].size() + change["skipped"].size());
  EXPECT_GE(change["skipped"].size(), 1u);
  EXPECT_EQ(change["selected_by"]["scenario"].get<std::size_t>(), results["cells"].size());
  EXPECT_THAT(change["changed_files"], ElementsAre("scenarios/basic/fine.toml"));
  for (const auto& cell : results["cells"]) {
    EXPECT_EQ(cell["scenario"], "fine");
    EXPECT_EQ(change["why"][cell["id"].get<std::string>()], "its scenario file scenarios/basic/fine.toml changed");
  }
  for (const auto& skipped : change["skipped"]) EXPECT_NE(skipped["scenario"], "fine");

  std::string run_dir = out + "/latest";
  EXPECT_THAT(repo.read(run_dir + "/summary.md"), HasSubstr(fmt::format("pass (selected: {} of {} cells)",
                                                                        results["cells"].size(), change["total"].get<std::size_t>())));
  std::string junit = repo.read(run_dir + "/junit.xml");
  EXPECT_THAT(junit, HasSubstr("<skipped message=\"not selected: no change since HEAD reaches it (--all runs it)\"/>"));
  EXPECT_THAT(junit, HasSubstr(fmt::format("skipped=\"{}\"", change["skipped"].size())));
  EXPECT_THAT(repo.read(run_dir + "/report.html"), HasSubstr("PASS (SELECTED)"));
  EXPECT_THAT(repo.read(run_dir + "/report.html"), HasSubstr("id=\"skipped\""));

  Outcome gate = testing::run_crashgate({"gate", run_dir, "--baseline", "none"});
  EXPECT_EQ(gate.exit_code, 0) << testing::output_of(gate);
  EXPECT_THAT(gate.stdout_excerpt.text(), HasSubstr("pass (selected:"));
  EXPECT_THAT(gate.stdout_excerpt.text(), HasSubstr("Selected, not the whole catalog"));

  Outcome baseline = testing::run_crashgate({"baseline", "update", run_dir, "--out", out + "/baseline.json"});
  EXPECT_EQ(baseline.exit_code, 2) << testing::output_of(baseline);
  EXPECT_THAT(baseline.stderr_excerpt.text(), HasSubstr("would forget the"));
  EXPECT_FALSE(fs::exists(out + "/baseline.json"));
}

TEST_F(RunChanged, AHarnessChangeRunsEveryCellAndAllIgnoresTheChange) {
  repo.write("harness/src/new_part.cc", "// new\n");
  Outcome o = run({"--changed", "HEAD", "--change-sample", "0"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = testing::latest_results(out);
  EXPECT_TRUE(results["change"]["everything"].get<bool>());
  EXPECT_THAT(results["change"]["everything_why"].get<std::string>(), HasSubstr("harness/src/new_part.cc"));
  EXPECT_EQ(results["change"]["skipped"].size(), 0u);
  std::size_t every = results["cells"].size();

  Outcome all = run({"--changed", "HEAD", "--all"});
  ASSERT_EQ(all.exit_code, 0) << testing::output_of(all);
  auto whole = testing::latest_results(out);
  EXPECT_TRUE(whole["change"].is_null());
  EXPECT_EQ(whole["cells"].size(), every);
}

TEST_F(RunChanged, AChangeThatReachesNoCellRunsNoneAndPasses) {
  repo.write("docs/notes.md", "only prose\n");
  Outcome o = run({"--changed", "HEAD", "--change-sample", "0"});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = testing::latest_results(out);
  EXPECT_EQ(results["cells"].size(), 0u);
  EXPECT_EQ(results["change"]["skipped"].size(), results["change"]["total"].get<std::size_t>());
  EXPECT_GE(results["change"]["total"].get<std::size_t>(), 1u);
}

TEST_F(RunChanged, AnUnknownBaseOrABrokenFootprintsFileStopsTheRunBeforeAnyCell) {
  Outcome unknown = run({"--changed", "no-such-branch"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.stderr_excerpt.text(), HasSubstr("--changed no-such-branch: 'no-such-branch' is not a commit"));
  repo.write("broken-footprints.json", "{\"format\": \"something else\"}");
  Outcome broken = run({"--changed", "HEAD", "--footprints", repo.root + "/broken-footprints.json"});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_THAT(broken.stderr_excerpt.text(), HasSubstr("broken-footprints.json: format is \"something else\""));
  EXPECT_FALSE(fs::exists(out + "/latest")) << "nothing ran";
}

// Engine code of the fixture's `test` target, with footprints recorded at one
// commit: fine/ ran first(), truncated/ ran second(). A later commit on main
// moved every line down by two before the change under test was made.
class RunChangedByFunction : public RunChanged {
 protected:
  static constexpr const char* kCode = "targets/test/src/code.cc";
  void SetUp() override {
    RunChanged::SetUp();
    repo.write(kCode, "int first() {\n  return 1;\n}\n\nint second() {\n  return 2;\n}\n");
    repo.git("add -A");
    repo.git("commit -q -m code");
    recorded = head();
    write_footprints(recorded);
    repo.write(kCode, "// two lines\n// added later\n" + repo.read(repo.root + "/" + kCode));
    repo.git("commit -q -am moved");
  }
  std::string head() {
    std::string file = repo.root + "/../head-" + std::to_string(::getpid());
    EXPECT_EQ(std::system(("git -C '" + repo.root + "' rev-parse HEAD > '" + file + "'").c_str()), 0);
    std::string text = repo.read(file);
    return text.substr(0, text.find('\n'));
  }
  void write_footprints(const std::string& at) {
    std::ofstream(footprints) << (R"j({"format": "crashgate.footprints/2", "recorded_at": ")j" + at + R"j(",
      "files": ["targets/test/src/code.cc"],
      "functions": [[0, 1, 3, "first()"], [0, 5, 7, "second()"]],
      "footprints": [[0], [1]],
      "cells": {"fine/test/*": 0, "truncated/test/*[cut=0]": 1, "truncated/test/*[cut=100]": 1}})j");
  }
  // Replaces line `line` (1-based) of the code.
  void edit_line(int line, const std::string& text) {
    std::string code = repo.read(repo.root + "/" + kCode), out;
    std::istringstream in(code);
    int n = 0;
    for (std::string l; std::getline(in, l);) out += (++n == line ? text : l) + "\n";
    repo.write(kCode, out);
  }
  Outcome run_changed() {
    return run({"--changed", "HEAD", "--change-sample", "0", "--footprints", footprints});
  }
  std::string recorded;
  std::string footprints = testing::scratch_dir("run-changed-footprints") + "/footprints.json";  // outside the repository
};

TEST_F(RunChangedByFunction, ALineEditedInOneFunctionRunsOnlyTheCellsThatRanItCarriedPastLaterCommits) {
  edit_line(8, "  return 3;");  // second()'s body, recorded as line 6
  Outcome o = run_changed();
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = testing::latest_results(out);
  const auto& change = results["change"];
  EXPECT_EQ(change["footprints_by"], "functions") << change.dump(1);
  EXPECT_EQ(change["footprints_by_why"], "");
  ASSERT_EQ(results["cells"].size(), 2u) << change.dump(1);
  for (const auto& cell : results["cells"]) {
    EXPECT_EQ(cell["scenario"], "truncated");
    EXPECT_EQ(change["why"][cell["id"].get<std::string>()],
              "its footprint runs second() (targets/test/src/code.cc:5-7), which changed");
  }
  EXPECT_EQ(change["selected_by"]["footprint"].get<std::size_t>(), 2u);
}

TEST_F(RunChangedByFunction, ALineBetweenFunctionsRunsEveryCellThatRanTheFile) {
  edit_line(6, "int added_between = 0;");  // the blank line between the two functions
  Outcome o = run_changed();
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  auto results = testing::latest_results(out);
  ASSERT_EQ(results["cells"].size(), 3u);
  for (const auto& cell : results["cells"])
    EXPECT_THAT(results["change"]["why"][cell["id"].get<std::string>()].get<std::string>(),
                HasSubstr("its footprint holds targets/test/src/code.cc (line 6 is in no function)"));
}

TEST_F(RunChangedByFunction, FootprintsOfACommitThisCloneLacksAreMetByFilesAndTheRunSaysWhy) {
  write_footprints(std::string(40, 'd'));
  edit_line(8, "  return 3;");
  Outcome o = run_changed();
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("changed engine code is met by files, not functions"));
  auto results = testing::latest_results(out);
  EXPECT_EQ(results["change"]["footprints_by"], "files");
  EXPECT_THAT(results["change"]["footprints_by_why"].get<std::string>(), HasSubstr("dddddddddd, is not in this clone"));
  EXPECT_EQ(results["cells"].size(), 3u) << "every cell whose footprint holds the file";
}

}  // namespace
}  // namespace crashgate
