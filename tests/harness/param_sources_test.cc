// Params filled from a target's own tables: `site = { from = "failpoints", ... }`
// parses into a source, and is resolved by asking the target's driver.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crashgate/param_sources.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kScenario = R"(name = "every-site"
targets = ["vstore"]
builds = ["debug", "asan"]

[params]
site = { from = "failpoints", where = ["write-path", "syscall"] }
hit = ["1", "3"]

[[step]]
op = "failpoints"
spec = "{site}={hit}*crash"

[expect]
outcome = "ok"
)";

// A driver that lists three sites, as crashgate-driver-vstore --list failpoints does.
std::string fake_root_with_lister(const std::string& build) {
  std::string root = testing::scratch_dir("lister-root");
  std::filesystem::create_directories(root + "/" + build + "/bin");
  std::string driver = root + "/" + build + "/bin/crashgate-driver-vstore";
  std::ofstream(driver) << "#!/bin/sh\n"
                           "[ \"$1 $2\" = \"--list failpoints\" ] || exit 2\n"
                           "echo '{\"name\":\"a.write\",\"syscall\":true,\"write_path\":true,\"compiled_in\":true}'\n"
                           "echo '{\"name\":\"b.read\",\"syscall\":true,\"write_path\":false,\"compiled_in\":true}'\n"
                           "echo '{\"name\":\"c.logic\",\"syscall\":false,\"write_path\":true,\"compiled_in\":true}'\n";
  ::chmod(driver.c_str(), 0755);
  return root;
}

TEST(ParamSources, ATableParamParsesIntoASourceWithAPlaceholder) {
  ScenarioParse p = parse_scenario(kScenario, "every-site.toml");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].text();
  ASSERT_EQ(p.scenario->param_sources.size(), 1u);
  EXPECT_EQ(p.scenario->param_sources[0].from, "failpoints");
  EXPECT_THAT(p.scenario->param_sources[0].where, ElementsAre("write-path", "syscall"));
  EXPECT_EQ(p.scenario->params[1].second, std::vector<std::string>{"<failpoints: write-path,syscall>"});
}

TEST(ParamSources, UnknownSourcesAndConditionsAreErrorsAtTheirPosition) {
  std::string text = kScenario;
  text.replace(text.find("\"syscall\"]"), 9, "\"sycall\"");
  ScenarioParse p = parse_scenario(text, "f.toml");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_THAT(p.errors[0].text(), HasSubstr("f.toml:6:"));
  EXPECT_THAT(p.errors[0].message, HasSubstr("unknown condition 'sycall'"));
  std::string other = kScenario;
  other.replace(other.find("\"failpoints\""), 12, "\"regressions\"");
  EXPECT_THAT(parse_scenario(other, "g.toml").errors.at(0).message, HasSubstr("'from' must be \"failpoints\""));
}

TEST(ParamSources, ResolvedFromTheDriverKeepingOnlyMatchingSitesInTableOrder) {
  ScenarioCatalog catalog;
  catalog.scenarios.push_back(*parse_scenario(kScenario, "every-site.toml").scenario);
  std::string root = fake_root_with_lister("asan");  // debug is not built: the next build answers
  std::vector<ScenarioError> errors = resolve_param_sources(catalog, {}, root);
  ASSERT_TRUE(errors.empty()) << errors[0].text();
  EXPECT_EQ(catalog.scenarios[0].params[1].second, std::vector<std::string>{"a.write"});
  std::vector<Cell> cells = expand_cells(catalog.scenarios[0]);
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[0].id, "every-site/vstore/debug[hit=1,site=a.write]");
  EXPECT_EQ(cells[0].steps[0].args["spec"], "a.write=1*crash");
}

TEST(ParamSources, NoDriverBuiltIsAnErrorThatSaysWhatToBuild) {
  ScenarioCatalog catalog;
  catalog.scenarios.push_back(*parse_scenario(kScenario, "every-site.toml").scenario);
  std::vector<ScenarioError> errors = resolve_param_sources(catalog, {}, testing::scratch_dir("empty-root"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "every-site.toml");
  EXPECT_THAT(errors[0].message, HasSubstr("ci/build debug"));
  // Each place looked in is named once: the scenario's own builds first, then the others.
  std::string debug_driver = "/debug/bin/crashgate-driver-vstore";
  const std::string& m = errors[0].message;
  EXPECT_EQ(m.find(debug_driver), m.rfind(debug_driver)) << m;
  EXPECT_LT(m.find("/asan/bin/"), m.find("/release/bin/")) << m;
}

TEST(ParamSources, TheRealDriverListsItsFailpointTableEvenWhereTheyAreCompiledOut) {
  ScenarioCatalog catalog;
  catalog.scenarios.push_back(*parse_scenario(kScenario, "every-site.toml").scenario);
  CellSelection only_this;
  only_this.builds = {testing::this_build()};
  catalog.scenarios[0].builds = {testing::this_build()};
  std::vector<ScenarioError> errors = resolve_param_sources(catalog, only_this, testing::fake_build_root());
  ASSERT_TRUE(errors.empty()) << errors[0].text();
  const auto& sites = catalog.scenarios[0].params[1].second;
  EXPECT_GT(sites.size(), 15u);
  EXPECT_THAT(sites, ::testing::Contains("mapped_file.append.pwrite"));
  EXPECT_THAT(sites, ::testing::Not(::testing::Contains("store.read.after_lookup")));  // not on the write path
}

}  // namespace
}  // namespace crashgate
