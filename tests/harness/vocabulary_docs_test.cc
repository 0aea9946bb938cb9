// The docs in reports/ list the same vocabularies as the tables in the code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "crashgate/driver_protocol.h"
#include "crashgate/outcome_kind.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

std::string read_doc(const std::string& name) {
  std::ifstream in(testing::source_dir() + "/reports/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}


TEST(VocabularyDocs, ResultSchemaListsEveryKindWithItsExitCode) {
  std::string doc = read_doc("result-schema.md");
  for (const auto& kind : outcome_kinds()) {
    std::string row = fmt::format("| `{}` | {} | {} |", kind.name, kind.exit_code, kind.meaning);
    EXPECT_NE(doc.find(row), std::string::npos) << "reports/result-schema.md lacks: " << row;
  }
}

TEST(VocabularyDocs, DriverProtocolHoldsTheOpTableAsTheCodeDefinesIt) {
  std::string doc = read_doc("driver-protocol.md");
  const std::string begin = "<!-- ops table: `crashgate ops --markdown` -->\n", end = "<!-- end of ops table -->";
  auto from = doc.find(begin), to = doc.find(end);
  ASSERT_NE(from, std::string::npos) << "reports/driver-protocol.md lacks the marker: " << begin;
  ASSERT_NE(to, std::string::npos) << "reports/driver-protocol.md lacks the marker: " << end;
  EXPECT_EQ(doc.substr(from + begin.size(), to - from - begin.size()), op_table_markdown())
      << "regenerate it: build/release/bin/crashgate ops --markdown";
}

TEST(OpTable, EveryOpHasUniqueKeysWithAMeaningAndEveryFixedEnumListsValues) {
  std::set<std::string_view> ops;
  for (const auto& op : scenario_ops()) {
    EXPECT_TRUE(ops.insert(op.name).second) << op.name;
    EXPECT_FALSE(op.summary.empty()) << op.name;
    std::set<std::string_view> keys;
    for (const auto& key : op.keys) {
      EXPECT_TRUE(keys.insert(key.name).second) << op.name << "." << key.name;
      EXPECT_FALSE(key.meaning.empty()) << op.name << "." << key.name;
      EXPECT_LE(key.min, key.max) << op.name << "." << key.name;
      for (const auto& common : common_step_keys()) EXPECT_NE(key.name, common.name) << op.name;
    }
  }
}

TEST(OutcomeKinds, NamesAndExitCodesAreUniqueAndAvoidReservedCodes) {
  std::set<std::string_view> names;
  std::set<int> codes;
  for (const auto& kind : outcome_kinds()) {
    EXPECT_TRUE(names.insert(kind.name).second) << kind.name;
    EXPECT_TRUE(codes.insert(kind.exit_code).second) << kind.exit_code;
    EXPECT_NE(kind.exit_code, 1);
    EXPECT_NE(kind.exit_code, 2);
    EXPECT_EQ(parse_outcome_kind(kind.name), kind.kind);
  }
  EXPECT_EQ(parse_outcome_kind("crashed"), std::nullopt);
}

TEST(DriverProtocol, ADriverThatCannotRunTheCellIsAHarnessError) {
  RunSpec spec;
  spec.argv = {testing::crasher_path("test_driver"), "--cell", "/nonexistent/cell.json"};
  spec.driver_protocol = true;
  Outcome o = run_observed(spec);
  EXPECT_EQ(o.kind, OutcomeKind::harness_error);
  EXPECT_THAT(o.stderr_excerpt.text(), ::testing::HasSubstr("not a protocol-1 cell"));
}

}  // namespace
}  // namespace crashgate
