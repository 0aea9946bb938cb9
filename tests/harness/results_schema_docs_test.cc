// reports/results-schema.md documents exactly the fields the results.json
// writer writes, and the verdicts and exit codes of the tables in the code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "crashgate/cli.h"
#include "crashgate/run_results.h"
#include "harness/support/crashers.h"
#include "harness/support/schema_docs.h"
#include "harness/support/sample_results.h"

namespace crashgate {
namespace {

std::string schema_doc() { return testing::report_doc("results-schema.md"); }

using testing::documented_fields;

std::set<std::string> written_fields(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

TEST(ResultsSchemaDocs, EveryTableListsExactlyTheFieldsTheWriterWrites) {
  std::string doc = schema_doc();
  nlohmann::json j = to_json(testing::sample_results());
  EXPECT_EQ(documented_fields(doc, "Top level"), written_fields(j));
  EXPECT_EQ(documented_fields(doc, "`cells[]`"), written_fields(j["cells"][0]));
  EXPECT_EQ(documented_fields(doc, "`cells[].reruns[]`"), written_fields(j["cells"][0]["reruns"][0]));
  EXPECT_EQ(documented_fields(doc, "`cells[].limits`"), written_fields(j["cells"][0]["limits"]));
  EXPECT_EQ(written_fields(j["cells"][0]["limits"]).size(), limit_fields().size()) << "the sample sets every limit";
}

TEST(ResultsSchemaDocs, TheChangeTableListsExactlyTheFieldsAChangeAwareRunWrites) {
  RunResults results = testing::sample_results();
  results.change = ChangeScope{};
  results.change->skipped.push_back({"a/vstore/asan", "a", "vstore", "asan", "scenarios/a.toml"});
  results.change->total = 1;
  nlohmann::json j = to_json(results);
  EXPECT_EQ(documented_fields(schema_doc(), "`change`"), written_fields(j["change"]));
  EXPECT_TRUE(to_json(testing::sample_results())["change"].is_null()) << "a run of every cell has no change";
}

TEST(ResultsSchemaDocs, ListsEveryVerdictAsTheTableDefinesIt) {
  std::string doc = schema_doc();
  std::set<std::string> names;
  for (const auto& info : verdicts()) {
    std::string row = fmt::format("| `{}` | {} |", info.name, info.meaning);
    EXPECT_NE(doc.find(row), std::string::npos) << "reports/results-schema.md lacks: " << row;
    names.insert(std::string(info.name));
  }
  EXPECT_EQ(documented_fields(doc, "Verdicts"), names);
  EXPECT_EQ(written_fields(to_json(testing::sample_results())["counts"]), names);
}

TEST(ResultsSchemaDocs, ListsRunsExitCodes) {
  std::string doc = schema_doc();
  for (int code : {0, kExitCellsFailed, kExitUsage, kExitHarnessError, kExitInterrupted})
    EXPECT_NE(doc.find(fmt::format("\n| {} | ", code)), std::string::npos) << "exit status " << code;
}

}  // namespace
}  // namespace crashgate
