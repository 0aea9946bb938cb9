// Scenarios held to what each target's driver lists: `targets = ["*"]` makes
// cells only for the targets that can run them (and `list --explain` says why
// the others were left out); a target a scenario names that cannot run a step
// is an error at that step's file:line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A build root whose release build has two targets: vstore (this build's
// driver) and handmade (a small hand-written driver: create, count, get,
// sleep, truncate of its file "data").
std::string two_target_root() {
  std::string root = testing::scratch_dir("two-targets");
  fs::create_directories(root + "/release/bin");
  fs::create_symlink(CRASHGATE_VSTORE_DRIVER, root + "/release/bin/crashgate-driver-vstore");
  fs::create_symlink(testing::crasher_path("broken_driver"), root + "/release/bin/crashgate-driver-handmade");
  return root;
}

std::string scenario_file(const std::string& name, const std::string& text) {
  std::string path = testing::scratch_dir("scenario-" + name) + "/" + name + ".toml";
  std::ofstream(path) << text;
  return path;
}

TEST(TargetSupport, EveryTargetMeansTheBuiltTargetsThatCanRunEachCell) {
  std::string root = two_target_root();
  std::string path = scenario_file("open-after-cut", R"(name = "open-after-cut"
targets = ["*"]
[[step]]
op = "create"
vectors = 10
[[step]]
op = "read"
what = "open"
[expect]
outcome = "ok"
)");
  Outcome o = testing::run_crashgate({"list", path, "--explain"}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(o.exit_code, 0) << o.stderr_excerpt.text();
  std::string out = o.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("open-after-cut/vstore/release"));
  EXPECT_THAT(out, Not(HasSubstr("open-after-cut/handmade/release")));
  EXPECT_THAT(out, HasSubstr("ruled out: open-after-cut on handmade: 1 cell not made; the first because step 1 (read): "
                             "target handmade has no op 'read'"));
}

TEST(TargetSupport, AValueTheTargetDoesNotListRulesOutOnlyThoseCells) {
  std::string root = two_target_root();
  std::string path = scenario_file("cut-each-file", R"(name = "cut-each-file"
targets = ["*"]
[params]
file = ["vectors", "data"]
[[step]]
op = "create"
[[step]]
op = "truncate"
file = "{file}"
to = "0"
[expect]
outcome = "ok|error"
)");
  Outcome o = testing::run_crashgate({"list", path, "--explain"}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(o.exit_code, 0) << o.stderr_excerpt.text();
  std::string out = o.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("cut-each-file/vstore/release[file=vectors]"));
  EXPECT_THAT(out, HasSubstr("cut-each-file/handmade/release[file=data]"));
  EXPECT_THAT(out, Not(HasSubstr("cut-each-file/vstore/release[file=data]")));
  EXPECT_THAT(out, HasSubstr("ruled out: cut-each-file on vstore: 1 cell not made; the first because step 1 (truncate): "
                             "'file' = \"data\" is not among target vstore's values"));
}

TEST(TargetSupport, ANamedTargetWithoutTheOpIsRefusedAtTheStep) {
  std::string root = two_target_root();
  std::string path = scenario_file("named", R"(name = "named"
targets = ["handmade"]
[[step]]
op = "create"
[[step]]
op = "read"
what = "open"
[expect]
outcome = "ok"
)");
  Outcome o = testing::run_crashgate({"list", path}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr(path + ":6:6: step 1 (read): target handmade has no op 'read'"));
}

TEST(TargetSupport, ANamedTargetThatDoesNotAcceptAValueIsRefusedAtTheValue) {
  std::string root = two_target_root();
  std::string path = scenario_file("replace-socket", R"(name = "replace-socket"
targets = ["vstore"]
[[step]]
op = "create"
[[step]]
op = "replace"
file = "vectors"
with = "socket"
[expect]
outcome = "error"
)");
  Outcome o = testing::run_crashgate({"run", path, "--build-root", root, "--out", testing::scratch_dir("replace-socket-out")}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr(path + ":8:8: step 1 (replace): 'with' = \"socket\" is not among target vstore's "
                                                        "values (directory, empty, fifo, foreign)"));
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("nothing was run"));
}

// `from = "layout"`: every header field of every file each target describes,
// each target's own, with the field's parts for the steps.
TEST(TargetSupport, ALayoutParamSweepsEveryHeaderFieldOfEachTarget) {
  std::string root = two_target_root();
  std::string path = scenario_file("sweep", R"(name = "sweep"
targets = ["*"]
[params]
spot = { from = "layout", file = "*", field = "*" }
[[step]]
op = "create"
[[step]]
op = "truncate"
file = "{spot.file}"
to = "{spot.offset}"
[[step]]
op = "count"
[expect]
outcome = "ok|error"
)");
  Outcome listed = testing::run_crashgate({"list", path}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(listed.exit_code, 0) << listed.stderr_excerpt.text();
  std::string out = listed.stdout_excerpt.text();
  EXPECT_THAT(out, HasSubstr("sweep/handmade/release[spot=data.count]"));
  EXPECT_THAT(out, HasSubstr("sweep/vstore/release[spot=vectors.record_size]"));
  EXPECT_THAT(out, HasSubstr("sweep/vstore/release[spot=manifest.slot_count]"));
  EXPECT_THAT(out, Not(HasSubstr("sweep/handmade/release[spot=vectors")));
  Outcome ran = testing::run_crashgate({"run", path, "--target", "handmade", "--build-root", root, "--out", testing::scratch_dir("sweep-out")}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(ran.exit_code, 0) << ran.stdout_excerpt.text() << ran.stderr_excerpt.text();
  EXPECT_THAT(ran.stderr_excerpt.text() + ran.stdout_excerpt.text(), HasSubstr("1 cells"));
}

TEST(TargetSupport, CheckFillsALayoutParamFromTheNamedTargetsDriverAndSaysWhenNoneIsBuilt) {
  std::string root = two_target_root();
  std::string path = scenario_file("named-sweep", R"(name = "named-sweep"
targets = ["handmade"]
[params]
spot = { from = "layout", file = "*", field = "*" }
[[step]]
op = "create"
[[step]]
op = "truncate"
file = "{spot.file}"
to = "{spot.offset}"
[expect]
outcome = "ok|error"
)");
  Outcome checked = testing::run_crashgate({"check", path}, {.env = {{"CRASHGATE_BUILD_ROOT", root}}});
  EXPECT_EQ(checked.exit_code, 0) << testing::output_of(checked);
  EXPECT_THAT(checked.stdout_excerpt.text(), HasSubstr("named-sweep/handmade/release[spot=data.count]"));
  Outcome unbuilt = testing::run_crashgate({"check", path}, {.env = {{"CRASHGATE_BUILD_ROOT", testing::scratch_dir("no-builds")}}});
  EXPECT_EQ(unbuilt.exit_code, 0) << testing::output_of(unbuilt);
  EXPECT_THAT(unbuilt.stdout_excerpt.text(), HasSubstr("no driver of handmade is built to fill its params from"));
}

}  // namespace
}  // namespace crashgate
