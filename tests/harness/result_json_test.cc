// The result JSON: every field survives a round trip; readers get precise errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <signal.h>

#include "crashgate/result_json.h"
#include "harness/support/refusal.h"

namespace crashgate {
namespace {

Outcome full_outcome() {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.detail = "SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin";
  o.signal = SIGBUS;
  o.si_code = 2;
  o.fault_address = 0x7f0000003000;
  o.check = "";
  Attribution a;
  a.description = "read at offset 12,288";
  a.access = "read";
  a.mapping = "7f..-7f.. r--s 00000000 fe:00 202 /data/vectors.bin";
  a.file = "/data/vectors.bin";
  a.file_offset = 12288;
  a.file_size = 4096;
  a.past_eof = true;
  a.stack_thread = 17;
  a.thread_stack_size = 2 << 20;
  o.attribution = a;
  o.threads.push_back(Thread{17, "worker", "crashed", {Frame{"f()", "/src/a.cc", 3, 4, "/bin/x", 0x10, 0x5510}}, ""});
  o.threads.push_back(Thread{18, "other", "thread", {}, "no registers"});
  o.crashing_thread = 0;
  o.crashed_pid = 16;
  o.crash_state = "signal SIGBUS\nf";
  o.signature = "0123456789abcdef";
  o.known_issue = KnownIssueMatch{"VS-1", "count on truncated store", "https://x", "signature"};
  o.engine = EngineId{"lmdb", "0.9.24"};
  o.duration_ms = 12;
  o.diagnosis_ms = 3.25;
  o.peak_rss_kb = 3456;
  o.stdout_excerpt = {"head", "tail", 100};
  o.stderr_excerpt = {"err", "", 3};
  o.command = {"./x", "arg with space"};
  o.repro = "crashgate exec -- ./x 'arg with space'";
  o.steps.push_back(StepRecord{1, "search", StepStatus::ok, "", "", 4.0, {{"recall", 0.975}, {"k", 10}, {"queries", 40}}});
  o.steps.push_back(StepRecord{2, "count", StepStatus::died, "", "", 1.5, {}});
  o.failed_step = 2;
  o.notes = {"a note"};
  return o;
}

TEST(ResultJson, EveryFieldRoundTrips) {
  Outcome o = full_outcome();
  auto back = outcome_from_json(nlohmann::json::parse(to_json(o).dump()));
  ASSERT_TRUE(back) << testing::refusal(back);
  EXPECT_EQ(*back, o);
}

TEST(ResultJson, CarriesTheSchemaAndReadableNames) {
  auto j = to_json(full_outcome());
  EXPECT_EQ(j["schema"], "crashgate.result/1");
  EXPECT_EQ(j["kind"], "signal");
  EXPECT_EQ(j["signal"], "SIGBUS");
  EXPECT_EQ(j["si_code_name"], "BUS_ADRERR");
  EXPECT_EQ(j["fault_address"], "0x7f0000003000");
  EXPECT_EQ(j["attribution"]["past_eof"], true);
  EXPECT_EQ(j["threads"][0]["frames"][0]["module_offset"], "0x10");
  EXPECT_EQ(j["stdout"]["truncated"], true);
}

TEST(ResultJson, ReadingSaysWhichFieldIsWrong) {
  std::string error;
  auto j = to_json(full_outcome());
  j["threads"][0]["frames"][0]["line"] = "three";
  error = testing::refusal(outcome_from_json(j));
  EXPECT_EQ(error, "threads[0].frames[0].line: has the wrong type");
  j = to_json(full_outcome());
  j["kind"] = "exploded";
  error = testing::refusal(outcome_from_json(j));
  EXPECT_EQ(error, "kind: 'exploded' is not an outcome kind");
  j = to_json(full_outcome());
  j["schema"] = "crashgate.result/99";
  error = testing::refusal(outcome_from_json(j));
  EXPECT_THAT(error, ::testing::HasSubstr("is not crashgate.result/1"));
  j = to_json(full_outcome());
  j.erase("repro");
  error = testing::refusal(outcome_from_json(j));
  EXPECT_EQ(error, "repro: missing");
  j = to_json(full_outcome());
  j["steps"][0]["measured"]["recall"] = "high";
  error = testing::refusal(outcome_from_json(j));
  EXPECT_EQ(error, "steps[0].measured.recall: not a number");
}

TEST(ResultJson, AStepsMeasuredFiguresAreWrittenOnlyWhenThereAreAny) {
  auto j = to_json(full_outcome());
  ASSERT_EQ(j["steps"].size(), 2u);
  EXPECT_EQ(j["steps"][0]["measured"]["recall"], 0.975);
  EXPECT_FALSE(j["steps"][1].contains("measured")) << "a step that measured nothing has no measured object";
}

RC_GTEST_PROP(ResultJson, ArbitraryOutcomesRoundTrip, ()) {
  Outcome o;
  o.kind = outcome_kinds()[*rc::gen::inRange<std::size_t>(0, outcome_kinds().size())].kind;
  o.detail = *rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
  if (*rc::gen::arbitrary<bool>()) o.exit_code = *rc::gen::arbitrary<int>();
  if (*rc::gen::arbitrary<bool>()) o.signal = *rc::gen::inRange(1, 32);
  if (*rc::gen::arbitrary<bool>()) o.fault_address = *rc::gen::arbitrary<std::uint64_t>();
  o.check = *rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
  int threads = *rc::gen::inRange(0, 3);
  for (int t = 0; t < threads; ++t) {
    Thread thread;
    thread.tid = *rc::gen::inRange<std::int64_t>(0, 1 << 22);
    int frames = *rc::gen::inRange(0, 4);
    for (int f = 0; f < frames; ++f)
      thread.frames.push_back(Frame{*rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127)), "/a.cc",
                                    *rc::gen::inRange(0, 100000), 0, "/bin/x",
                                    *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>()});
    o.threads.push_back(thread);
  }
  o.stdout_excerpt.head = *rc::gen::container<std::string>(rc::gen::inRange<char>(32, 127));
  o.stdout_excerpt.total_bytes = o.stdout_excerpt.head.size() + *rc::gen::inRange<std::uint64_t>(0, 1000);
  auto back = outcome_from_json(nlohmann::json::parse(to_json(o).dump()));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == o);
}

}  // namespace
}  // namespace crashgate
