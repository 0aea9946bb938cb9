// The baseline (baseline.h, reports/baseline-schema.md): made from a run,
// written in a stable order, read back the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "crashgate/baseline.h"
#include "harness/support/crashers.h"
#include "harness/support/gate_results.h"
#include "harness/support/schema_docs.h"

namespace crashgate {
namespace {

using testing::gate_cell;
using testing::gate_run;

RunResults mixed_run() {
  return gate_run({gate_cell("z/vstore/debug", Verdict::fail, "00000000000000bb"),
                   gate_cell("a/vstore/debug", Verdict::flaky, "00000000000000cc"),
                   gate_cell("m/vstore/debug", Verdict::fail, "00000000000000aa"),
                   gate_cell("k/vstore/debug", Verdict::fail, "00000000000000aa"),
                   gate_cell("i/vstore/debug", Verdict::not_run), gate_cell("c/vstore/debug", Verdict::harness_error)});
}

TEST(Baseline, HoldsEveryCellThatRanSortedByIdWithFlakyStoredAsPass) {
  Baseline b = baseline_from_results(mixed_run());
  std::vector<std::string> ids;
  for (const auto& c : b.cells) ids.push_back(c.id);
  EXPECT_THAT(ids, ::testing::ElementsAre("a/vstore/debug", "c/vstore/debug", "k/vstore/debug", "m/vstore/debug",
                                          "z/vstore/debug"));
  EXPECT_EQ(b.find("a/vstore/debug")->verdict, Verdict::pass);
  // A flaky cell's crash is accepted with the run: otherwise, since a new
  // crash blocks even when a rerun passes, it would block every run after.
  EXPECT_EQ(b.find("a/vstore/debug")->signature, "00000000000000cc");
  EXPECT_EQ(b.find("c/vstore/debug")->verdict, Verdict::harness_error);
  EXPECT_EQ(b.find("z/vstore/debug")->signature, "00000000000000bb");
  EXPECT_EQ(b.find("i/vstore/debug"), nullptr) << "a cell that did not run says nothing about the engine";
}

TEST(Baseline, HoldsTheSignaturesOfItsFailuresSortedWithTheirCells) {
  Baseline b = baseline_from_results(mixed_run());
  ASSERT_EQ(b.signatures.size(), 3u);
  EXPECT_EQ(b.signatures[0].signature, "00000000000000aa");
  EXPECT_THAT(b.signatures[0].cells, ::testing::ElementsAre("k/vstore/debug", "m/vstore/debug"));
  EXPECT_THAT(b.signatures[0].crash_state, ::testing::StartsWith("signal SIGBUS\nvstore::VectorFile::slot"));
  EXPECT_TRUE(b.holds_signature("00000000000000bb"));
  EXPECT_TRUE(b.holds_signature("00000000000000cc")) << "the flaky cell's crash";
  EXPECT_FALSE(b.holds_signature("00000000000000dd"));
}

TEST(Baseline, RoundTripsThroughItsFileByteForByte) {
  Baseline b = baseline_from_results(mixed_run());
  std::string path = testing::scratch_dir("baseline") + "/baseline.json";
  auto written = write_baseline(b, path);
  ASSERT_TRUE(written) << written.error();
  std::string first = testing::read_file(path);
  EXPECT_EQ(first.rfind("{\n  \"schema\": \"crashgate.baseline/1\",\n  \"cells\": [", 0), 0u) << first;
  auto back = load_baseline(path);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, b);
  auto rewritten = write_baseline(*back, path);
  ASSERT_TRUE(rewritten) << rewritten.error();
  EXPECT_EQ(testing::read_file(path), first) << "writing what was read changes nothing, so updates diff cleanly";
}

TEST(Baseline, BadFilesAreRefusedNamingTheFileAndTheField) {
  std::string dir = testing::scratch_dir("baseline-bad");
  auto check = [&](const std::string& text, const std::string& expected) {
    std::ofstream(dir + "/b.json") << text;
    auto loaded = load_baseline(dir + "/b.json");
    ASSERT_FALSE(loaded) << text;
    EXPECT_THAT(loaded.error(), ::testing::HasSubstr(dir + "/b.json: " + expected)) << text;
  };
  check("{", "not valid JSON");
  check(R"({"schema":"crashgate.results/1","cells":[],"signatures":[]})", "schema: 'crashgate.results/1'");
  check(R"({"schema":"crashgate.baseline/1","signatures":[]})", "cells: missing");
  check(R"({"schema":"crashgate.baseline/1","cells":[{"id":"a","verdict":"maybe"}],"signatures":[]})",
        "cells[0].verdict: 'maybe' is not a verdict");
  check(R"({"schema":"crashgate.baseline/1","cells":[{"id":"a","verdict":"pass"},{"id":"a","verdict":"fail"}],"signatures":[]})",
        "cells[1]: cell 'a' appears twice");
  auto missing = load_baseline(dir + "/missing.json");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), ::testing::HasSubstr("missing.json: cannot read the baseline"));
}

TEST(Baseline, TheCheckedInBaselineReadsBack) {
  auto b = load_baseline(testing::source_dir() + "/reports/baseline.json");
  ASSERT_TRUE(b) << b.error();
  EXPECT_GT(b->cells.size(), 50u) << "the baseline covers the catalog";
}

TEST(Baseline, ItsSchemaDocumentListsExactlyTheFieldsWritten) {
  std::string doc = testing::report_doc("baseline-schema.md");
  auto j = to_json(baseline_from_results(mixed_run()));
  EXPECT_EQ(testing::documented_fields(doc, "Top level"), testing::written_fields(j));
  EXPECT_EQ(testing::documented_fields(doc, "`cells[]`"), testing::written_fields(j["cells"][4])) << j["cells"][4].dump();
  EXPECT_EQ(testing::documented_fields(doc, "`signatures[]`"), testing::written_fields(j["signatures"][0]));
}

}  // namespace
}  // namespace crashgate
