// crashgate triage's parts: telling inputs apart, finding crashes seen
// before, writing a known-issues entry, and the command as a user runs it.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/field_triage.h"
#include "crashgate/result_json.h"
#include "crashgate/run_results.h"
#include "field/known_issue_entry.h"
#include "harness/support/cores.h"
#include "harness/support/crashers.h"
#include "harness/support/refusal.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Outcome with_state(const std::string& state) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.crash_state = state;
  o.signature = crash_signature(state);
  return o;
}

PastCrash past(const std::string& id, const std::string& state, bool glob = false) {
  return PastCrash{"run R", id, "runs/R", glob ? "" : crash_signature(state), state, glob};
}

TEST(TriageInput, KindsAreToldApartByContentAndOddFilesAreRefusedByName) {
  std::string dir = testing::scratch_dir("kinds");
  testing::write_file(dir + "/crash.log", "==1==ERROR: AddressSanitizer: heap-buffer-overflow\n");
  EXPECT_EQ(detect_triage_input(dir + "/crash.log").value(), TriageInput::log);
  testing::write_file(dir + "/empty", "");
  EXPECT_THAT(detect_triage_input(dir + "/empty").error(), HasSubstr("empty (0 bytes)"));
  testing::write_file(dir + "/core.zst", std::string("\x28\xb5\x2f\xfd", 4) + "rest");
  EXPECT_THAT(detect_triage_input(dir + "/core.zst").error(), HasSubstr("compressed with zstd"));
  testing::write_file(dir + "/blob", std::string("abc\0def", 7));
  EXPECT_THAT(detect_triage_input(dir + "/blob").error(), HasSubstr("binary data"));
  EXPECT_THAT(detect_triage_input(testing::crasher_path("null_deref")).error(), HasSubstr("not a core"));
  EXPECT_EQ(detect_triage_input(dir).value(), TriageInput::store);
  EXPECT_THAT(detect_triage_input(dir + "/none").error(), StartsWith(dir + "/none: cannot be read"));
  EXPECT_THAT(parse_triage_input("store2").error(), HasSubstr("(the kinds: core, log, store)"));
}

TEST(SimilarCrashes, AnEqualSignatureComesFirstThenTheShareOfFramesInCommon) {
  Outcome now = with_state("signal SIGBUS\nmdb_page_get\nmdb_cursor_next\nmdb_count");
  std::vector<PastCrash> seen = {
      past("two-of-three", "signal SIGBUS\nmdb_page_get\nmdb_cursor_first\nmdb_count"),
      past("unrelated", "signal SIGSEGV\nparse\nmain\nstart"),
      past("same", "signal SIGBUS\nmdb_page_get\nmdb_cursor_next\nmdb_count"),
      past("one-of-three", "signal SIGBUS\nmdb_page_get\nx\ny"),
  };
  auto similar = similar_crashes(now, seen);
  ASSERT_EQ(similar.size(), 2u);
  EXPECT_EQ(similar[0].past.id, "same");
  EXPECT_EQ(similar[0].how(), "same signature");
  EXPECT_EQ(similar[1].past.id, "two-of-three");
  EXPECT_EQ(similar[1].how(), "2 of 3 frames, same type");
}

TEST(SimilarCrashes, AFrameAddedOrLostStillCountsAsTheLongestCommonSubsequence) {
  Outcome now = with_state("asan heap-buffer-overflow READ 4\nload_links\nsearch\nmain");
  auto similar = similar_crashes(now, std::vector{past("inlined", "signal SIGSEGV\nload_links\nmain")});
  ASSERT_EQ(similar.size(), 1u);
  EXPECT_EQ(similar[0].common_frames, 2);
  EXPECT_EQ(similar[0].frames, 3);
  EXPECT_FALSE(similar[0].same_type);
  EXPECT_EQ(similar[0].how(), "2 of 3 frames, another type");
}

TEST(SimilarCrashes, AKnownIssuesStateGlobsAreMatchedLineByLine) {
  auto known = KnownIssues::parse(R"([[issue]]
id = "LMDB-9"
title = "t"
states = ["signal SIGBUS\nmdb_page_get*\nmdb_cursor_*\nmdb_count"]
)",
                                  "known.toml");
  ASSERT_TRUE(known) << testing::refusal(known);
  auto similar = similar_crashes(with_state("signal SIGBUS\nmdb_page_get\nmdb_cursor_next\nmdb_stat"),
                                 past_crashes(*known, "known.toml"));
  ASSERT_EQ(similar.size(), 1u);
  EXPECT_EQ(similar[0].past.source, "known issue LMDB-9");
  EXPECT_EQ(similar[0].common_frames, 2);
}

TEST(KnownIssueEntry, APromotedCrashMatchesItselfAndOperatorBracketsAreNoGlob) {
  std::string file = testing::scratch_dir("promote") + "/known.toml";
  testing::write_file(file, "# ours\n[[issue]]\nid = \"VS-1\"\ntitle = \"old\"\nsignatures = [\"0000000000000000\"]\n");
  Outcome o = with_state("signal SIGSEGV\nvstore::Table::operator[]\nmain");
  KnownIssueEntry entry{"FIELD-1", "a \"quoted\" title", o.signature, o.crash_state, "", "from a test"};
  ASSERT_TRUE(append_known_issue(file, entry));
  auto known = KnownIssues::load(file);
  ASSERT_TRUE(known) << testing::refusal(known);
  ASSERT_EQ(known->issues().size(), 2u) << "the old entry is kept";
  EXPECT_EQ(known->issues()[1].title, "a \"quoted\" title");
  Outcome by_state = o;
  by_state.signature = "ffffffffffffffff";
  auto match = known->match(by_state);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->id, "FIELD-1");
  EXPECT_EQ(match->matched_by, "state");
}

TEST(KnownIssueEntry, ATakenIdIsRefusedAndTheFileIsLeftAsItWas) {
  std::string file = testing::scratch_dir("taken") + "/known.toml";
  std::string before = "[[issue]]\nid = \"FIELD-1\"\ntitle = \"t\"\nsignatures = [\"0000000000000000\"]\n";
  testing::write_file(file, before);
  auto added = append_known_issue(file, KnownIssueEntry{"FIELD-1", "t", "1111111111111111", "", "", "x"});
  ASSERT_FALSE(added);
  EXPECT_THAT(added.error(), HasSubstr("issue id 'FIELD-1' is taken"));
  EXPECT_EQ(testing::read_file(file), before);
}

// The command, on real cores.
class TriageCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing::cores_unavailable(); !why.empty()) GTEST_SKIP() << why;
    dir_ = testing::scratch_dir("cmd");
    auto core = testing::dump_core("mmap_past_eof", {dir_}, dir_);
    ASSERT_TRUE(core);
    core_ = *core;
    empty_known_ = dir_ + "/none.toml";
    testing::write_file(empty_known_, "");
  }
  std::string dir_, core_, empty_known_;
};

TEST_F(TriageCommand, ANewCrashIsExplainedAndExitsOne) {
  Outcome o = testing::run_crashgate({"triage", core_, "--known-issues", empty_known_});
  EXPECT_EQ(o.exit_code, 1) << o.stderr_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("(core, elf-core)"));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("read at offset 12,288 of vectors.bin, which is now 4,096 bytes long"));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("#0  read_slot(float const*, long) at "));
  EXPECT_THAT(o.stdout_excerpt.text(), HasSubstr("crash state: signal SIGBUS|read_slot|main"));
}

TEST_F(TriageCommand, PromotingTheCrashMakesTheNextTriageAKnownIssue) {
  std::string known = dir_ + "/known.toml";
  Outcome promote = testing::run_crashgate({"triage", core_, "--known-issues", known, "--promote", "--id", "VS-77"});
  EXPECT_EQ(promote.exit_code, 1) << promote.stderr_excerpt.text();
  EXPECT_THAT(promote.stderr_excerpt.text(), HasSubstr("added VS-77 to " + known));
  Outcome again = testing::run_crashgate({"triage", core_, "--known-issues", known, "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.stderr_excerpt.text();
  auto json = nlohmann::json::parse(again.stdout_excerpt.text());
  EXPECT_EQ(json["known_issue"]["id"], "VS-77");
  EXPECT_EQ(json["triage"]["kind"], "core");
  ASSERT_FALSE(json["triage"]["similar"].empty());
  EXPECT_EQ(json["triage"]["similar"][0]["how"], "same signature");
  auto inner = outcome_from_json(json);
  ASSERT_TRUE(inner) << testing::refusal(inner);
  EXPECT_EQ(inner->signal, SIGBUS);
}

TEST_F(TriageCommand, ARunsCrashesAreComparedWithAgainst) {
  // A run of the same crash under crashgate exec leaves no results.json; make one from a scenario-free outcome.
  Outcome live = testing::run_crasher("mmap_past_eof", {testing::scratch_dir("live")});
  triage(live, nullptr);
  RunResults run;
  run.run_id = "20261202T000000Z";
  CellResult cell;
  cell.cell.id = "field/vstore/sigbus";
  cell.cell.expect.outcome = {OutcomeKind::ok};
  cell.verdict = Verdict::fail;
  cell.attempts.push_back(Attempt{Verdict::fail, {}, live, ""});
  run.cells.push_back(cell);
  std::string run_dir = dir_ + "/run";
  std::filesystem::create_directories(run_dir);
  testing::write_file(run_dir + "/results.json", to_json(run).dump());
  Outcome o = testing::run_crashgate({"triage", core_, "--known-issues", empty_known_, "--against", run_dir, "--markdown"});
  EXPECT_EQ(o.exit_code, 1) << o.stderr_excerpt.text();
  EXPECT_THAT(o.stdout_excerpt.text(),
              HasSubstr("same as crash " + live.signature.substr(0, 8) + " of run 20261202T000000Z (cell field/vstore/sigbus)"));
  EXPECT_THAT(o.stdout_excerpt.text(), StartsWith("### Crash: SIGBUS"));
}

TEST_F(TriageCommand, BadInputAndBadFlagsAreUsageErrorsNamingWhatWasWrong) {
  Outcome missing = testing::run_crashgate({"triage", dir_ + "/nothing", "--known-issues", empty_known_});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr(dir_ + "/nothing: cannot be read"));
  Outcome as = testing::run_crashgate({"triage", core_, "--as", "store2"});
  EXPECT_EQ(as.exit_code, 2);
  EXPECT_THAT(as.stderr_excerpt.text(), HasSubstr("--as: 'store2' is not a kind of input"));
  Outcome exe = testing::run_crashgate({"triage", core_, "--exe", dir_ + "/no-such-program"});
  EXPECT_EQ(exe.exit_code, 2);
  EXPECT_THAT(exe.stderr_excerpt.text(), HasSubstr("--exe: " + dir_ + "/no-such-program: no such program file"));
  Outcome against = testing::run_crashgate({"triage", core_, "--known-issues", empty_known_, "--against", dir_});
  EXPECT_EQ(against.exit_code, 2);
  EXPECT_THAT(against.stderr_excerpt.text(), HasSubstr("--against: "));
  Outcome log_as_core = testing::run_crashgate({"triage", empty_known_, "--as", "core"});
  EXPECT_EQ(log_as_core.exit_code, 2);
  EXPECT_THAT(log_as_core.stderr_excerpt.text(), HasSubstr("not an ELF file"));
}

}  // namespace
}  // namespace crashgate
