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

// A table cell as the doc writes it: "`a b` " or "" when empty.
std::string cell(std::string_view words) { return words.empty() ? "" : "`" + std::string(words) + "` "; }

TEST(VocabularyDocs, ResultSchemaListsEveryKindWithItsExitCode) {
  std::string doc = read_doc("result-schema.md");
  for (const auto& kind : outcome_kinds()) {
    std::string row = fmt::format("| `{}` | {} | {} |", kind.name, kind.exit_code, kind.meaning);
    EXPECT_NE(doc.find(row), std::string::npos) << "reports/result-schema.md lacks: " << row;
  }
}

TEST(VocabularyDocs, DriverProtocolListsEveryOpAsTheTableDefinesIt) {
  std::string doc = read_doc("driver-protocol.md");
  for (const auto& op : scenario_ops()) {
    std::string row = fmt::format("| `{}` | {}| {}| {} |", op.name, cell(op.required), cell(op.optional), op.summary);
    EXPECT_NE(doc.find(row), std::string::npos) << "reports/driver-protocol.md lacks: " << row;
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
