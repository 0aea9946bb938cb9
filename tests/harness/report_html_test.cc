// report.html, rendered in headless Chromium: the page as a browser builds it
// (its DOM after parsing, the computed colour of every cell), and that it asks
// the network for nothing. Chromium is a Debian package that ci/setup installs;
// without it these tests fail and say so, rather than skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include <chrono>
#include <map>
#include <regex>

#include "crashgate/report_writers.h"
#include "harness/support/crashers.h"
#include "harness/support/gate_results.h"
#include "harness/support/report_fixtures.h"

namespace crashgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::RenderedPage;
using testing::scratch_dir;

// The colours the stylesheet gives each verdict, as the browser computes them.
const std::map<std::string, std::string> kVerdictColours = {{"pass", "rgb(200, 230, 201)"},
                                                            {"flaky", "rgb(255, 224, 130)"},
                                                            {"fail", "rgb(239, 154, 154)"},
                                                            {"harness-error", "rgb(179, 157, 219)"},
                                                            {"not-run", "rgb(224, 224, 224)"}};

ReportInputs inputs_with_field_report() {
  ReportInputs inputs;
  inputs.source_root = testing::kReportSourceRoot;
  inputs.field_reports["field-reports/000_391c9c321774cbc0.txt"] =
      "# Bus Error Crash Analysis\n**Crash Type:** Bus Error (SIGBUS) <b>not bold</b>\n";
  return inputs;
}

RenderedPage render(const std::string& html, const std::string& name = "report") {
  std::string file = scratch_dir(name) + "/report.html";
  testing::write_file(file, html);
  return testing::render_in_chromium(file);
}

// The grid chips as the browser shows them: cell id -> "verdict background".
std::map<std::string, std::string> chips(const RenderedPage& page, const std::string& tag = "a") {
  std::map<std::string, std::string> out;
  std::stringstream lines(page.probe);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, '\t');) f.push_back(field);
    if (f.size() == 4 && f[2] == tag) out[f[0]] = f[1] + " " + f[3];
  }
  return out;
}

TEST(ReportHtml, ChromiumIsInstalled) {
  EXPECT_NE(testing::chromium_binary(), "")
      << "headless Chromium renders report.html in these tests: run ci/setup (Debian package `chromium`)";
}

TEST(ReportHtml, TheGridShowsEveryCellColouredByItsVerdict) {
  RunResults results = testing::report_results();
  RenderedPage page = render(write_html(results, inputs_with_field_report()));
  ASSERT_EQ(page.problem, "");
  auto grid = chips(page);
  ASSERT_EQ(grid.size(), results.cells.size()) << page.probe;
  std::map<std::string, int> seen;
  for (const auto& [id, shown] : grid) {
    std::string verdict = shown.substr(0, shown.find(' '));
    ASSERT_TRUE(kVerdictColours.count(verdict)) << id << ": " << shown;
    EXPECT_EQ(shown, verdict + " " + kVerdictColours.at(verdict)) << id;
    ++seen[verdict];
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{{"pass", 1}, {"fail", 3}, {"flaky", 1}, {"harness-error", 1}, {"not-run", 1}}));
  EXPECT_EQ(grid["truncated-vectors-bin/vstore/release[cut=end-1]"], "fail " + kVerdictColours.at("fail"));
  EXPECT_EQ(grid["readers-during-growth/vstore/tsan"], "flaky " + kVerdictColours.at("flaky"));
  EXPECT_EQ(grid["field-or-chain/vstore/release"], "not-run " + kVerdictColours.at("not-run"));
  EXPECT_THAT(page.dom, HasSubstr("<th>release</th><th>asan</th>")) << "builds are the columns, in the order they ran";
  EXPECT_THAT(page.dom, HasSubstr(">truncated-files</th>")) << "scenarios are grouped by fault class";
  EXPECT_THAT(page.dom, HasSubstr(">cut=end-1</a>")) << "params label the chips";
  EXPECT_THAT(page.dom, HasSubstr("id=\"verdict\">FAIL</span>"));
}

TEST(ReportHtml, EachFailingCellIsDiagnosedWithItsStacksAndSourceLocations) {
  RenderedPage page = render(write_html(testing::report_results(), inputs_with_field_report()));
  ASSERT_EQ(page.problem, "");
  auto sections = chips(page, "section");
  EXPECT_EQ(sections.size(), 5u) << "three failures, a flaky cell and a harness error: " << page.probe;
  EXPECT_EQ(sections["truncated-vectors-bin/vstore/release[cut=end-1]"], "fail rgb(255, 255, 255)")
      << "a diagnosis is marked by its border, on white";
  const std::string& dom = page.dom;
  EXPECT_THAT(dom, HasSubstr("read at offset 12,288 of vectors.bin, which is 4,096 bytes long"));
  EXPECT_THAT(dom, HasSubstr("<td class=\"fn\">vstore::VectorFile::slot(unsigned long) const</td>"));
  EXPECT_THAT(dom, HasSubstr("<span class=\"src project\">targets/vstore/src/vector_file.cc:88</span>"))
      << "project paths are shown relative to the source root";
  EXPECT_THAT(dom, HasSubstr("<span class=\"src\">./string/memcpy.S:300</span>"));
  EXPECT_THAT(dom, HasSubstr("crashed (thread 4321 'crashgate-drive')"));
  EXPECT_THAT(dom, HasSubstr("signal SIGBUS|vstore::VectorFile::slot|vstore::Store::count|main"));
  EXPECT_THAT(dom, HasSubstr("code: expected corrupt, got none"));
  EXPECT_THAT(dom, HasSubstr("crashgate repro 'truncated-vectors-bin/vstore/release[cut=end-1]' --run /r"));
  EXPECT_THAT(dom, HasSubstr("/b/asan/bin/crashgate-driver-vstore does not exist"));
  EXPECT_THAT(dom, HasSubstr("exited with status 0")) << "the flaky cell's passing rerun";
  EXPECT_THAT(dom, HasSubstr("<code>field-or-chain/vstore/release</code>")) << "the interrupted cell is listed";
}

TEST(ReportHtml, TheFieldReportACellReplaysIsEmbeddedEscaped) {
  RenderedPage page = render(write_html(testing::report_results(), inputs_with_field_report()));
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.dom, HasSubstr("<a href=\"#field-report-0\">field-reports/000_391c9c321774cbc0.txt</a>"));
  EXPECT_THAT(page.dom, HasSubstr("**Crash Type:** Bus Error (SIGBUS) &lt;b&gt;not bold&lt;/b&gt;"));
}

TEST(ReportHtml, RunTimesAreShown) {
  RenderedPage page = render(write_html(testing::report_results(), inputs_with_field_report()));
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.dom, HasSubstr("wall time 4.321 s"));
  EXPECT_THAT(page.dom, HasSubstr("<th>0.812 s</th>")) << "the slowest cell first";
  EXPECT_THAT(page.dom, HasSubstr("title=\"signal SIGBUS at step 1"));
}

TEST(ReportHtml, HostileTextIsShownAsTextAndRunsNothing) {
  RunResults results = testing::report_results();
  std::string html = write_html(results, inputs_with_field_report());
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("\x1b")));
  RenderedPage page = render(html);
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.dom, Not(HasSubstr("<script")));
  EXPECT_THAT(page.dom, HasSubstr("&lt;script&gt;alert('x')&lt;/script&gt; &amp; \"quotes\" ]]&gt; \\x01\\x07\\x1b[31mred"));
  EXPECT_THAT(page.dom, HasSubstr("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD( end"));
}

TEST(ReportHtml, ThePageIsSelfContainedAndRequestsNothing) {
  std::string html = write_html(testing::report_results(), inputs_with_field_report());
  EXPECT_THAT(html, Not(HasSubstr("http:")));
  EXPECT_THAT(html, Not(HasSubstr("https:")));
  EXPECT_THAT(html, Not(HasSubstr(" src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  RenderedPage page = render(html);
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.requests, IsEmpty());
}

TEST(ReportHtml, TheNetworkCheckSeesARequestWhenThereIsOne) {
  // So that "requests nothing" above means something.
  RenderedPage page = render("<!DOCTYPE html><html><body><img src=\"http://example.invalid/pixel.png\"></body></html>");
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.requests, ElementsAre("http://example.invalid/pixel.png"));
}

TEST(ReportHtml, TheRegressionMatrixIsASecondGridWhenTheRunHasOne) {
  ReportInputs inputs = inputs_with_field_report();
  inputs.matrix = *detection_matrix_from_json(nlohmann::json::parse(R"({"schema":"crashgate.matrix/1","verdict":"fail","regressions":[
    {"id":"stale-size","status":"caught","expected_kinds":["signal"],
     "caught_by":[{"cell":"truncated/vstore/debug","kind":"signal","detail":"SIGBUS at <offset>","seconds":1.5}]},
    {"id":"unlocked-grow","status":"escaped","expected_kinds":["tsan"],"caught_by":[]},
    {"id":"offset32","status":"wrong-kind","expected_kinds":["asan"],"caught_by":[]}]})"));
  RenderedPage page = render(write_html(testing::report_results(), inputs));
  ASSERT_EQ(page.problem, "");
  auto rows = chips(page, "tr");
  EXPECT_EQ(rows["stale-size"], "caught rgb(200, 230, 201)");
  EXPECT_EQ(rows["unlocked-grow"], "escaped rgb(239, 154, 154)");
  EXPECT_EQ(rows["offset32"], "wrong-kind rgb(255, 204, 128)");
  EXPECT_THAT(page.dom, HasSubstr("SIGBUS at &lt;offset&gt;"));
  EXPECT_THAT(page.dom, HasSubstr("id=\"matrix-verdict\">fail</span>"));

  RenderedPage without = render(write_html(testing::report_results(), inputs_with_field_report()), "no-matrix");
  ASSERT_EQ(without.problem, "");
  EXPECT_THAT(without.dom, Not(HasSubstr("Regression matrix"))) << "no matrix.json: no second grid";
}

TEST(ReportHtml, ARunOfSeveralEnginesTabulatesEachEnginesKnownAndUnknownFailures) {
  std::vector<CellResult> cells = {testing::gate_cell("a/lmdb/release[x=1]", Verdict::fail, "00000000000000aa"),
                                   testing::gate_cell("a/lmdb/release[x=2]", Verdict::fail, "00000000000000aa"),
                                   testing::gate_cell("b/lmdb/release", Verdict::fail, "00000000000000cc"),
                                   testing::gate_cell("c/lmdb/release", Verdict::pass),
                                   testing::gate_cell("c/vstore/release", Verdict::pass)};
  for (int i = 0; i < 4; ++i) {
    cells[i].cell.target = "lmdb";
    cells[i].attempts.back().outcome.engine = EngineId{"lmdb", "0.9.24"};
  }
  for (int i = 0; i < 2; ++i) cells[i].attempts.back().outcome.known_issue = KnownIssueMatch{"LMDB-1", "t", "", "signature"};
  cells[4].cell.target = "vstore";
  RenderedPage page = render(write_html(testing::gate_run(cells)), "engines");
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.dom, HasSubstr("<tr data-engine=\"lmdb\"><th scope=\"row\">lmdb</th><td>0.9.24</td><td>4</td><td>1</td>"
                                  "<td>2 (1 distinct crash)</td><td class=\"v-fail\">1</td></tr>"));
  EXPECT_THAT(page.dom, HasSubstr("<tr data-engine=\"vstore\"><th scope=\"row\">vstore</th><td>–</td><td>1</td><td>1</td>"
                                  "<td>0 (0 distinct crashes)</td><td class=\"\">0</td></tr>"));
  EXPECT_THAT(write_html(testing::gate_run({cells[4]})), Not(HasSubstr("id=\"engines\"")))
      << "one engine: the counts above the grid say it all";
}

TEST(ReportHtml, NoCellsRendersAnEmptyReport) {
  RenderedPage page = render(write_html(testing::empty_results()));
  ASSERT_EQ(page.problem, "");
  EXPECT_THAT(page.dom, HasSubstr("This run selected no cells."));
  EXPECT_THAT(page.dom, HasSubstr("id=\"verdict\">PASS</span>"));
  EXPECT_THAT(chips(page), IsEmpty());
}

TEST(ReportHtml, FiveHundredFailingCellsRenderInReasonableSizeAndTime) {
  RunResults results = testing::many_failing_results(500);
  ReportInputs inputs;
  inputs.source_root = testing::kReportSourceRoot;
  std::string html = write_html(results, inputs);
  EXPECT_LT(html.size(), 8u << 20) << "500 failing cells with 30-frame stacks and 1 MiB of stderr each";
  auto started = std::chrono::steady_clock::now();
  RenderedPage page = render(html);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(page.problem, "");
  EXPECT_EQ(chips(page).size(), 500u);
  EXPECT_EQ(chips(page, "section").size(), 500u);
  EXPECT_THAT(page.dom, HasSubstr("bytes before this are in results.json or the work directory ...]\ntttt"));
  EXPECT_THAT(page.dom, HasSubstr("tttt\nlast line of stderr")) << "the end of stderr is kept";
  RecordProperty("html_bytes_500_failing", static_cast<int>(html.size()));
  RecordProperty("html_render_ms_500_failing", static_cast<int>(seconds * 1000));
  std::cout << "report.html for 500 failing cells: " << html.size() << " bytes, rendered in " << seconds << " s\n";
}

}  // namespace
}  // namespace crashgate
