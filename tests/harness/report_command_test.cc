// The reports end to end: `crashgate run` writes them beside results.json, and
// `crashgate report` writes them again from a results.json alone, with clear
// errors for a missing or broken one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "harness/support/crashers.h"
#include "harness/support/report_fixtures.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_file;
using testing::run_crashgate;
using testing::scratch_dir;
using testing::this_build;

// A real run with a failing cell and a passing one; its run directory.
std::string failing_run() {
  std::string out = scratch_dir("reports");
  Outcome o = testing::crashgate_run({"failing", "basic/fine.toml"}, testing::fake_build_root(), out, {"--build", this_build()});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  return fs::canonical(out + "/latest").string();
}

TEST(ReportCommand, CrashgateRunWritesEveryReportBesideResultsJson) {
  std::string run = failing_run();
  std::string failing = "wrong-expectation/test/" + this_build();
  for (const char* name : {"results.json", "junit.xml", "results.sarif", "report.html"})
    EXPECT_TRUE(fs::is_regular_file(run + "/" + name)) << name;
  EXPECT_EQ(testing::xml_schema_errors(testing::junit_schema(), run + "/junit.xml"), "");
  EXPECT_EQ(testing::xpath(run + "/junit.xml", "string(//testcase[@name='wrong-expectation@" + this_build() + "']/failure/@message)"),
            "ok: exited with status 0 (expected error corrupt)");
  EXPECT_EQ(testing::xpath(run + "/junit.xml", "string(//testcase[@name='wrong-expectation@" + this_build() + "']/@classname)"),
            "failing");
  auto sarif = nlohmann::json::parse(read_file(run + "/results.sarif"));
  ASSERT_EQ(sarif["runs"][0]["results"].size(), 1u);
  EXPECT_EQ(sarif["runs"][0]["results"][0]["ruleId"], "expectation-mismatch");
  EXPECT_EQ(sarif["runs"][0]["results"][0]["properties"]["cell"], failing);
  std::string html = read_file(run + "/report.html");
  EXPECT_THAT(html, HasSubstr("data-cell=\"" + failing + "\" data-verdict=\"fail\""));
  EXPECT_THAT(html, HasSubstr("data-cell=\"fine/test/" + this_build() + "\" data-verdict=\"pass\""));
  for (const auto& entry : fs::directory_iterator(run))
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".tmp"))) << "a temporary file was left behind";
}

TEST(ReportCommand, ReportRewritesTheReportsFromResultsJsonIntoOut) {
  std::string run = failing_run();
  std::string out = scratch_dir("out");
  Outcome o = run_crashgate({"report", run + "/results.json", "--out", out});
  ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
  for (const char* name : {"junit.xml", "results.sarif", "report.html"}) {
    ASSERT_TRUE(fs::is_regular_file(out + "/" + name)) << name;
    EXPECT_EQ(read_file(out + "/" + name), read_file(run + "/" + name)) << name << ": the same results, the same report";
    EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr(name));
  }
}

TEST(ReportCommand, ReportShowsTheRunsMatrixAndFieldReportsFromDirectoriesGiven) {
  std::string run = failing_run();
  testing::write_file(run + "/matrix.json", R"({"schema":"crashgate.matrix/1","verdict":"pass","regressions":[
      {"id":"stale-size","status":"caught","expected_kinds":["signal"],"caught_by":[]}]})");
  std::string reports = scratch_dir("field-reports");
  // basic/truncated.toml replays field-reports/000_391c9c321774cbc0.txt.
  std::string out = scratch_dir("reports-truncated");
  Outcome ran = testing::crashgate_run({"basic/truncated.toml"}, testing::fake_build_root(), out,
                                       {"--build", this_build(), "--filter", "*cut=100]"});
  ASSERT_EQ(ran.exit_code, 0) << testing::output_of(ran);
  testing::write_file(reports + "/000_391c9c321774cbc0.txt", "# A field report\n<b>SIGBUS</b> in count()\n");
  std::string truncated_run = fs::canonical(out + "/latest").string();
  Outcome with_matrix = run_crashgate({"report", run});
  ASSERT_EQ(with_matrix.exit_code, 0) << testing::output_of(with_matrix);
  EXPECT_THAT(read_file(run + "/report.html"), HasSubstr("data-regression=\"stale-size\" data-status=\"caught\""));

  Outcome with_reports = run_crashgate({"report", truncated_run, "--field-reports", reports});
  ASSERT_EQ(with_reports.exit_code, 0) << testing::output_of(with_reports);
  std::string html = read_file(truncated_run + "/report.html");
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;SIGBUS&lt;/b&gt; in count()"));
  EXPECT_THAT(html, Not(HasSubstr("Regression matrix")));
}

TEST(ReportCommand, ReportReadsACellsOriginFromTheSourceTreesFieldReportPages) {
  // A source tree as a clone has it: the pages in docs/field-reports/, the run's build root in build/,
  // and a file outside those pages that no scenario may bring into the report.
  std::string src = scratch_dir("src");
  fs::create_directories(src + "/docs/field-reports");
  testing::write_file(src + "/docs/field-reports/000-sigbus-in-count.md",
                      "# 000: SIGBUS in count() on a cut index file\n<b>the page</b> tells the crash\n");
  testing::write_file(src + "/docs/secret.md", "not a field report page\n");
  std::string run = failing_run();
  auto results = nlohmann::json::parse(read_file(run + "/results.json"));
  ASSERT_EQ(results["cells"].size(), 2u);
  results["build_root"] = src + "/build";  // the source root is the directory holding it
  results["cells"][0]["origin"] = "docs/field-reports/000-sigbus-in-count.md";
  for (const std::string& outside : {std::string("docs/field-reports/../secret.md"), src + "/docs/secret.md"}) {
    results["cells"][1]["origin"] = outside;
    std::string dir = scratch_dir("run");
    testing::write_file(dir + "/results.json", results.dump());
    Outcome o = run_crashgate({"report", dir});  // no --field-reports, no --source-root
    ASSERT_EQ(o.exit_code, 0) << testing::output_of(o);
    std::string html = read_file(dir + "/report.html");
    EXPECT_THAT(html, HasSubstr("# 000: SIGBUS in count() on a cut index file\n&lt;b&gt;the page&lt;/b&gt; tells the crash"));
    EXPECT_THAT(html, Not(HasSubstr("not a field report page"))) << outside << " lies outside docs/field-reports/";
  }
}

TEST(ReportCommand, AMissingOrBrokenResultsFileIsAClearError) {
  std::string dir = scratch_dir("broken");
  Outcome missing = run_crashgate({"report", dir + "/nope.json"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr(dir + "/nope.json: no such file"));

  Outcome empty_dir = run_crashgate({"report", dir});
  EXPECT_EQ(empty_dir.exit_code, 2);
  EXPECT_THAT(empty_dir.stderr_excerpt.text(), HasSubstr(dir + ": no results.json here"));

  testing::write_file(dir + "/bad.json", "{\"schema\": \"crashgate.results/1\",\n  \"cells\": [\n}");
  Outcome bad = run_crashgate({"report", dir + "/bad.json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_excerpt.text(), HasSubstr(dir + "/bad.json: not valid JSON: parse error at line 3"));

  std::string run = failing_run();
  auto results = nlohmann::json::parse(read_file(run + "/results.json"));
  results["cells"][0]["verdict"] = "exploded";
  testing::write_file(dir + "/wrong.json", results.dump());
  Outcome wrong = run_crashgate({"report", dir + "/wrong.json"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.stderr_excerpt.text(), HasSubstr("wrong.json: not a crashgate results file: cells[0].verdict: 'exploded' is not a verdict"));
  EXPECT_FALSE(fs::exists(dir + "/junit.xml")) << "nothing is written from a broken file";

  Outcome help = run_crashgate({"report", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.stdout_excerpt.text(), HasSubstr("--field-reports"));
  EXPECT_THAT(help.stdout_excerpt.text(), HasSubstr("Exit status"));
}

}  // namespace
}  // namespace crashgate
