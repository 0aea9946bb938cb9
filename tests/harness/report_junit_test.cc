// junit.xml: valid against the JUnit schema Jenkins publishes (checked by
// xmllint), one testcase per cell, and every verdict mapped as
// reports/report-formats.md says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include <filesystem>

#include "crashgate/report_writers.h"
#include "harness/support/crashers.h"
#include "harness/support/report_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::scratch_dir;
using testing::xpath;

std::string written(const RunResults& results, const std::string& name = "junit.xml") {
  std::string path = scratch_dir("junit") + "/" + name;
  testing::write_file(path, write_junit(results));
  return path;
}

// A testcase by name, as an XPath.
std::string testcase(const std::string& name) { return "//testcase[@name='" + name + "']"; }

TEST(ReportJunit, IsValidAgainstThePublishedJunitSchema) {
  std::string file = written(testing::report_results());
  EXPECT_EQ(testing::xml_schema_errors(testing::junit_schema(), file), "");
}

TEST(ReportJunit, TheSchemaCheckRejectsWhatTheSchemaForbids) {
  // So that the check above means something: a testcase without a name, a testsuite without its counts.
  std::string dir = scratch_dir("bad");
  testing::write_file(dir + "/no-name.xml", "<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\">"
                                            "<testcase classname=\"c\"/></testsuite></testsuites>");
  testing::write_file(dir + "/no-counts.xml", "<testsuites><testsuite name=\"x\"/></testsuites>");
  EXPECT_THAT(testing::xml_schema_errors(testing::junit_schema(), dir + "/no-name.xml"), HasSubstr("name"));
  EXPECT_THAT(testing::xml_schema_errors(testing::junit_schema(), dir + "/no-counts.xml"), HasSubstr("tests"));
}

TEST(ReportJunit, OneTestcasePerCellNamedScenarioParamsAtBuildInItsFaultClass) {
  std::string file = written(testing::report_results());
  EXPECT_EQ(xpath(file, "count(//testcase)"), "7");
  EXPECT_EQ(xpath(file, "count(//testsuite)"), "5") << "one suite per scenario folder";
  EXPECT_EQ(xpath(file, "string(" + testcase("truncated-vectors-bin[cut=0]@release") + "/@classname)"), "truncated-files");
  EXPECT_EQ(xpath(file, "string(//testsuite[@name='truncated-files']/@tests)"), "3");
  EXPECT_EQ(xpath(file, "string(//testsuite[@name='truncated-files']/@failures)"), "1");
  EXPECT_EQ(xpath(file, "string(//testsuite[@name='truncated-files']/@errors)"), "1");
  EXPECT_EQ(xpath(file, "string(/testsuites/@failures)"), "3");
  EXPECT_EQ(xpath(file, "string(" + testcase("truncated-vectors-bin[cut=0]@release") + "/@time)"), "0.040");
  EXPECT_EQ(xpath(file, "count(" + testcase("truncated-vectors-bin[cut=0]@release") + "/*)"), "0") << "a pass is a bare testcase";
  EXPECT_EQ(xpath(file, "string(//testsuite[@name='truncated-files']/properties/property[@name='seed']/@value)"), "1");
}

TEST(ReportJunit, AFailureCarriesTheHeadlineAsMessageAndTheDiagnosisAsBody) {
  RunResults results = testing::report_results();
  std::string file = written(results);
  std::string failure = testcase("truncated-vectors-bin[cut=end-1]@release") + "/failure";
  EXPECT_EQ(xpath(file, "string(" + failure + "/@message)"),
            "signal SIGBUS at step 1: SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin, which is 4,096 bytes "
            "long (expected error corrupt)");
  EXPECT_EQ(xpath(file, "string(" + failure + "/@type)"), "signal/SIGBUS");
  std::string body = xpath(file, "string(" + failure + ")");
  EXPECT_THAT(body, HasSubstr("expected  error corrupt"));
  EXPECT_THAT(body, HasSubstr("unmet     code: expected corrupt, got none"));
  EXPECT_THAT(body, HasSubstr("vstore::VectorFile::slot(unsigned long) const at /src/crashgate/targets/vstore/src/vector_file.cc:88"));
  EXPECT_THAT(body, HasSubstr("mapping: 7f0000000000-7f0000004000"));
  EXPECT_THAT(body, HasSubstr("signature: 1f2e3d4c5b6a7988"));
  EXPECT_THAT(body, HasSubstr("repro     crashgate repro 'truncated-vectors-bin/vstore/release[cut=end-1]' --run /r"));
  EXPECT_THAT(xpath(file, "string(" + testcase("truncated-vectors-bin[cut=end-1]@release") + "/system-err)"),
              HasSubstr("driver: opening store"));
  EXPECT_EQ(xpath(file, "string(" + testcase("disk-full-on-append@debug") + "/failure/@type)"), "expectation-mismatch");
}

TEST(ReportJunit, FlakyHarnessErrorAndNotRunMapToFlakyFailureErrorAndSkipped) {
  std::string file = written(testing::report_results());
  std::string flaky = testcase("readers-during-growth@tsan");
  EXPECT_EQ(xpath(file, "count(" + flaky + "/failure)"), "0") << "a flaky cell met its expectation";
  EXPECT_EQ(xpath(file, "count(" + flaky + "/flakyFailure)"), "1");
  EXPECT_EQ(xpath(file, "string(" + flaky + "/flakyFailure/@type)"), "tsan/data-race");
  EXPECT_THAT(xpath(file, "string(" + flaky + "/flakyFailure/stackTrace)"), HasSubstr("data-race WRITE 8"));
  std::string missing = testcase("truncated-vectors-bin[cut=0]@asan");
  EXPECT_EQ(xpath(file, "string(" + missing + "/error/@type)"), "harness-error");
  EXPECT_THAT(xpath(file, "string(" + missing + "/error/@message)"), HasSubstr("build it with `ci/build asan`"));
  EXPECT_EQ(xpath(file, "count(" + missing + "/failure)"), "0") << "never blamed on the target";
  EXPECT_THAT(xpath(file, "string(" + testcase("field-or-chain@release") + "/skipped/@message)"), HasSubstr("not run"));
}

TEST(ReportJunit, HostileTextIsEscapedAndComesBackAsTextNotMarkup) {
  RunResults results = testing::report_results();
  std::string xml = write_junit(results);
  EXPECT_THAT(xml, Not(HasSubstr("<script>")));
  EXPECT_THAT(xml, Not(HasSubstr("]]>")));
  EXPECT_THAT(xml, Not(HasSubstr("\x01"))) << "XML 1.0 cannot carry control characters, even as references";
  EXPECT_THAT(xml, Not(HasSubstr("\xff")));
  std::string file = written(results);
  ASSERT_EQ(testing::xml_schema_errors(testing::junit_schema(), file), "");
  // The reader sees the text: markup as characters, controls and bad bytes made visible.
  std::string err = xpath(file, "string(" + testcase("truncated-vectors-bin[cut=end-1]@release") + "/system-err)");
  EXPECT_THAT(err, HasSubstr("<script>alert('x')</script> & \"quotes\" ]]> \\x01\\x07\\x1b[31mred"));
  EXPECT_THAT(err, HasSubstr("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD( end")) << "0xff, 0xfe and a cut-off sequence: U+FFFD each";
  EXPECT_EQ(xpath(file, "count(//testcase[starts-with(@name, 'flipped-bytes[mode=<script>')])"), "1");
}

TEST(ReportJunit, NoCellsIsAnEmptyValidReport) {
  std::string file = written(testing::empty_results());
  EXPECT_EQ(testing::xml_schema_errors(testing::junit_schema(), file), "");
  EXPECT_EQ(xpath(file, "string(/testsuites/@tests)"), "0");
}

TEST(ReportJunit, FiveHundredFailingCellsStayValidAndSane) {
  RunResults results = testing::many_failing_results(500);
  std::string xml = write_junit(results);
  std::string file = scratch_dir("many") + "/junit.xml";
  testing::write_file(file, xml);
  EXPECT_EQ(testing::xml_schema_errors(testing::junit_schema(), file), "");
  EXPECT_EQ(xpath(file, "count(//testcase/failure)"), "500");
  EXPECT_LT(xml.size(), 6u << 20) << "500 failing cells with 1 MiB of stderr each";
  EXPECT_EQ(xpath(file, "count(//testcase/system-err[contains(., 'last line of stderr')])"), "500")
      << "the end of stderr is kept";
  RecordProperty("junit_bytes_500_failing", static_cast<int>(xml.size()));
  std::cout << "junit.xml for 500 failing cells: " << xml.size() << " bytes\n";
}

}  // namespace
}  // namespace crashgate
