// Scenario files: the DESIGN.md example parses and expands; every kind of
// mistake is reported at file:line:column and yields no scenario.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "crashgate/driver_protocol.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

constexpr const char* kDesignExample = R"(name    = "truncated-vectors-bin"
summary = "count() on a store whose vectors file was cut short"
origin  = "field-reports/000_391c9c321774cbc0.txt"
targets = ["vstore"]
builds  = ["release", "asan"]

[params]
cut = ["0", "header-1", "header", "slot(17)+5", "end-1"]   # one cell per value

[limits]
wall = "20s"

[[step]]
op = "create"
dim = 64
vectors = 2000

[[step]]
op = "truncate"
file = "vectors"
to = "{cut}"

[[step]]
op = "count"

[expect]
outcome = "error"
code = "corrupt"
)";

TEST(Scenario, TheDesignExampleParses) {
  auto parsed = parse_scenario(kDesignExample, "truncated.toml");
  ASSERT_TRUE(parsed.scenario) << (parsed.errors.empty() ? "" : parsed.errors[0].text());
  const Scenario& s = *parsed.scenario;
  EXPECT_EQ(s.name, "truncated-vectors-bin");
  EXPECT_EQ(s.targets, std::vector<std::string>{"vstore"});
  EXPECT_EQ(s.builds, (std::vector<std::string>{"release", "asan"}));
  EXPECT_EQ(s.limits.wall, std::chrono::seconds(20));
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(s.steps[0].op, "create");
  EXPECT_EQ(s.steps[0].args["dim"], 64);
  EXPECT_EQ(s.steps[1].at, (SourcePosition{18, 1}));
  EXPECT_EQ(s.expect.outcome, OutcomeKinds{OutcomeKind::error});
  EXPECT_EQ(s.expect.code, "corrupt");
}

TEST(Scenario, ParamsExpandToTheCartesianProductWithSubstitution) {
  std::string text = kDesignExample;
  text.replace(text.find("[params]\n") + 9, 0, "mode = [\"a\", \"b\"]\n");
  auto parsed = parse_scenario(text, "t.toml");
  ASSERT_TRUE(parsed.scenario) << parsed.errors[0].text();
  auto cells = expand_cells(*parsed.scenario, 7);
  ASSERT_EQ(cells.size(), 1u * 2 * 5 * 2);  // targets x builds x cut x mode
  EXPECT_EQ(cells[0].id, "truncated-vectors-bin/vstore/release[cut=0,mode=a]");
  EXPECT_EQ(cells[1].id, "truncated-vectors-bin/vstore/release[cut=0,mode=b]");
  EXPECT_EQ(cells[2].steps[1].args["to"], "header-1");
  EXPECT_EQ(cells.back().build, "asan");
  EXPECT_EQ(cells.back().params.at("cut"), "end-1");
  EXPECT_NE(cells[0].seed, cells[1].seed);
  EXPECT_EQ(cells[0].seed, expand_cells(*parsed.scenario, 7)[0].seed);
  EXPECT_NE(cells[0].seed, expand_cells(*parsed.scenario, 8)[0].seed);
}

TEST(SubstituteParams, ReplacesNamesAndHonoursEscapes) {
  std::map<std::string, std::string> values{{"cut", "end-1"}};
  EXPECT_EQ(*substitute_params("at {cut}", values), "at end-1");
  EXPECT_EQ(*substitute_params("{{literal}}", values), "{literal}");
  auto unknown = substitute_params("{nope}", values);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error(), HasSubstr("'{nope}' names no param"));
  auto unclosed = substitute_params("{cut", values);
  ASSERT_FALSE(unclosed);
  EXPECT_THAT(unclosed.error(), HasSubstr("unclosed"));
}

// Each broken file, and the exact place and message its first error must have.
struct Broken {
  const char* text;
  const char* first_error;  // "line:column: message start"
};

class BrokenScenario : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenScenario, IsRejectedWithFileLineAndColumn) {
  auto parsed = parse_scenario(GetParam().text, "bad.toml");
  EXPECT_FALSE(parsed.scenario);
  ASSERT_FALSE(parsed.errors.empty());
  EXPECT_THAT(parsed.errors[0].text(), ::testing::StartsWith(std::string("bad.toml:") + GetParam().first_error));
}


INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenScenario,
    ::testing::Values(
        Broken{"name = \"n\"\ntargets = [\"vstore\"\n", "2:21: "},  // TOML syntax: the array never closes
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"explode\"\n[expect]\noutcome = \"ok\"\n",
               "4:6: step 0: unknown op 'explode'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"truncate\"\nfile = \"vectors\"\n[expect]\noutcome = \"ok\"\n",
               "3:1: step 0 (truncate): missing required key 'to'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"count\"\ndimension = 3\n[expect]\noutcome = \"ok\"\n",
               "5:13: step 0 (count): unknown key 'dimension'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sleep\"\nduration = \"{pause}\"\n[expect]\noutcome = \"ok\"\n",
               "5:12: '{pause}' names no param"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[limits]\nwall = \"20 parsecs\"\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
               "4:8: wall: '20 parsecs' is not a duration"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[limits]\nheap = \"1G\"\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
               "4:8: unknown limit 'heap'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"crashed\"\n",
               "6:11: unknown outcome 'crashed'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"signal\"\nsignal = \"SIGWTF\"\n",
               "7:10: unknown signal 'SIGWTF'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\nbuilds = [\"turbo\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
               "3:10: unknown build 'turbo'"},
        Broken{"targets = [\"vstore\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n", "1:1: missing 'name'"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\ncheck_invariants = \"yes\"\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
               "3:20: 'check_invariants' must be true or false"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\nfrobnicate = 1\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
               "3:14: unknown key 'frobnicate'"},
        // Typed values: never run with a default in place of what was written.
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"create\"\ndim = \"128x\"\n[expect]\noutcome = \"ok\"\n",
               "5:7: step 0 (create): 'dim' must be a whole number from 0 (u64), not \"128x\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"create\"\nhnsw = \"no\"\n[expect]\noutcome = \"ok\"\n",
               "5:8: step 0 (create): 'hnsw' must be true or false, not \"no\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"spawn-workload\"\nworkload = \"get\"\nthreads = 0\n"
               "[expect]\noutcome = \"ok\"\n",
               "6:11: step 0 (spawn-workload): 'threads' = 0 is out of range (from 1 to 256)"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"delete\"\nfilter = \"a = 'b'\"\nshape = \"spiral\"\n"
               "[expect]\noutcome = \"ok\"\n",
               "6:9: step 0 (delete): 'shape' = \"spiral\" is not one of: or, and, nested, not, in, not-in, and-or"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sleep\"\nduration = 100\n[expect]\noutcome = \"ok\"\n",
               "5:12: step 0 (sleep): 'duration' must be a duration with its unit"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"get\"\nids = [1, \"two\"]\n[expect]\noutcome = \"ok\"\n",
               "5:7: step 0 (get): 'ids' must hold only whole numbers from 0, not \"two\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"corrupt\"\nfile = \"vectors\"\nat = \"header+\"\n"
               "[expect]\noutcome = \"ok\"\n",
               "6:6: step 0 (corrupt): 'at': offset expression \"header+\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"corrupt\"\nfile = \"vectors\"\nat = \"0\"\nvalue = 256\n"
               "[expect]\noutcome = \"ok\"\n",
               "7:9: step 0 (corrupt): 'value' must be \"flip\", a byte from 0 to 255"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[params]\nspot = { from = \"layout\", where = \"syscall\" }\n[[step]]\n"
               "op = \"count\"\n[expect]\noutcome = \"ok\"\n",
               "4:8: param 'spot': from = \"layout\" takes file and field, not where or name"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"count\"\nexpect = \"eror\"\n[expect]\noutcome = \"ok\"\n",
               "5:10: step 0 (count): 'expect' must be \"ok\", \"error\" or \"error:CODE\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"count\"\nexpect = \"ok|eror\"\n[expect]\noutcome = \"ok\"\n",
               "5:10: step 0 (count): 'expect' must be \"ok\", \"error\" or \"error:CODE\" (CODE such as corrupt or io), or alternatives joined by | (\"ok|error:corrupt\"), not \"ok|eror\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"count\"\nexpect = \"ok|\"\n[expect]\noutcome = \"ok\"\n",
               "5:10: step 0 (count): 'expect' must be"},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"import\"\nfrom = \"\"\n[expect]\noutcome = \"ok\"\n",
               "5:8: step 0 (import): 'from' must be a path (a non-empty string), not \"\""},
        Broken{"name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"import\"\ndim = 8\n[expect]\noutcome = \"ok\"\n",
               "3:1: step 0 (import): missing required key 'from'"}));

// A bad param value is found after substitution, at the value under [params],
// naming the param and a cell that would have run with it.
TEST(Scenario, ABadParamValueNamesTheParamAndTheCellAtItsPlace) {
  auto parsed = parse_scenario(R"(name = "cuts"
targets = ["vstore"]
[params]
cut = ["0", "12x", "header"]
[[step]]
op = "create"
[[step]]
op = "truncate"
file = "vectors"
to = "{cut}"
[expect]
outcome = "ok"
)", "cuts.toml");
  EXPECT_FALSE(parsed.scenario);
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_THAT(parsed.errors[0].text(), ::testing::StartsWith("cuts.toml:4:13: step 1 (truncate): 'to': offset expression \"12x\""));
  EXPECT_THAT(parsed.errors[0].text(), HasSubstr("from param cut = \"12x\", in cell cuts/vstore/release[cut=12x]"));
}

TEST(Scenario, CellsCarryEachValueInItsTypesOneForm) {
  auto fixed = parse_scenario(R"(name = "typed"
targets = ["vstore"]
[params]
n = ["2000"]
flag = ["false"]
[[step]]
op = "create"
vectors = "{n}"
hnsw = "{flag}"
[[step]]
op = "spawn-workload"
workload = "get"
duration = "2s"
stack = "256KiB"
[[step]]
op = "corrupt"
file = "vectors"
at = 0
value = 7
[expect]
outcome = "ok"
)", "typed.toml");
  ASSERT_TRUE(fixed.scenario) << fixed.errors.at(0).text();
  Cell cell = expand_cells(*fixed.scenario).at(0);
  EXPECT_EQ(cell.steps[0].args["vectors"], 2000);
  EXPECT_EQ(cell.steps[0].args["hnsw"], false);
  EXPECT_EQ(cell.steps[1].args["duration"], 2000);
  EXPECT_EQ(cell.steps[1].args["stack"], 256 * 1024);
  EXPECT_EQ(cell.steps[2].args["at"], "0");
  EXPECT_EQ(cell.steps[2].args["value"], "7");
}

// A path's one form is absolute: the driver runs in the cell's work
// directory, so a relative one is resolved where crashgate runs.
TEST(Scenario, APathIsMadeAbsoluteFromWhereCrashgateRuns) {
  auto parsed = parse_scenario(R"(name = "paths"
targets = ["vstore"]
[params]
dir = ["field/store", "/data/./field/../store"]
[[step]]
op = "import"
from = "{dir}"
[expect]
outcome = "ok"
)", "paths.toml");
  ASSERT_TRUE(parsed.scenario) << parsed.errors.at(0).text();
  std::vector<Cell> cells = expand_cells(*parsed.scenario);
  ASSERT_EQ(cells.size(), 2u);
  std::set<std::string> from;
  for (const Cell& cell : cells) from.insert(cell.steps[0].args["from"].get<std::string>());
  EXPECT_EQ(from, (std::set<std::string>{(std::filesystem::current_path() / "field/store").string(), "/data/store"}));
}

TEST(Scenario, CheckInvariantsReachesEveryCellAndItsCellJson) {
  auto parsed = parse_scenario("name = \"n\"\ntargets = [\"vstore\"]\ncheck_invariants = true\n[params]\nx = [\"1\", \"2\"]\n"
                               "[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n",
                               "s.toml");
  ASSERT_TRUE(parsed.scenario) << parsed.errors.at(0).text();
  auto cells = expand_cells(*parsed.scenario);
  ASSERT_EQ(cells.size(), 2u);
  for (const Cell& c : cells) {
    EXPECT_TRUE(c.check_invariants) << c.id;
    EXPECT_EQ(cell_document(c, "/w")["check_invariants"], true);
  }
  auto plain = parse_scenario("name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n", "p.toml");
  ASSERT_TRUE(plain.scenario);
  Cell c = expand_cells(*plain.scenario).at(0);
  EXPECT_FALSE(c.check_invariants);
  EXPECT_FALSE(cell_document(c, "/w").contains("check_invariants")) << "absent unless set";
}

TEST(Scenario, EveryErrorIsReportedNotJustTheFirst) {
  auto parsed = parse_scenario(
      "name = \"n\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"explode\"\n[[step]]\nop = \"count\"\nx = 1\n"
      "[expect]\noutcome = \"nope\"\n",
      "bad.toml");
  EXPECT_FALSE(parsed.scenario);
  EXPECT_EQ(parsed.errors.size(), 3u);
}

TEST(ScenarioOps, TheTableHasEveryOpOfTheDesignAndUniqueNames) {
  std::set<std::string_view> names;
  for (const auto& op : scenario_ops()) EXPECT_TRUE(names.insert(op.name).second) << op.name;
  for (const char* op : {"create", "add", "search", "remove", "count", "delete", "compact", "sync", "reopen",
                         "truncate", "corrupt", "failpoints", "spawn-workload", "second-process", "sleep"})
    EXPECT_TRUE(names.count(op)) << op;
}

}  // namespace
}  // namespace crashgate
