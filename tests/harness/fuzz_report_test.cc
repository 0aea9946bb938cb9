// The morning report's crash list: crashes at the same frames but of another
// kind (a wild index that lands in a redzone, in freed memory or in nothing),
// and crashes that fault the same way in the same kind of mapped file from
// other frames (a trusted header that every reader runs off), are pointed at
// the first of them, and the headline counts the likely bugs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fuzz/fuzz_report.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

FuzzCrash crash(const std::string& signature, const std::string& state) {
  FuzzCrash c;
  c.target = "vstore_graph";
  c.signature = signature;
  c.inputs = {"in-" + signature};
  c.outcome.crash_state = state;
  return c;
}

TEST(fuzz_report, CrashesAtTheSameFramesOfAnotherKindPointAtTheFirst) {
  FuzzCampaign c;
  c.options.out_dir = "/tmp/out";
  c.crashes.push_back(crash("aaaa", "asan heap-buffer-overflow READ\nVisitedMarks::test_and_set\nHnswGraph::search_layer"));
  c.crashes.push_back(crash("bbbb", "signal SIGSEGV\nl2_avx512\nHnswGraph::descend"));
  c.crashes.push_back(crash("cccc", "signal SIGSEGV\nVisitedMarks::test_and_set\nHnswGraph::search_layer"));
  std::string md = fuzz_report_markdown(c);
  EXPECT_THAT(md, HasSubstr("**3 distinct crashes, likely 2 bugs.**"));
  std::string third = md.substr(md.find("crash cccc"));
  EXPECT_THAT(third, HasSubstr("same frames as crash aaaa"));
  std::string second = md.substr(md.find("crash bbbb"), md.find("crash cccc") - md.find("crash bbbb"));
  EXPECT_THAT(second, Not(HasSubstr("same frames")));
}

FuzzCrash sigbus(const std::string& signature, const std::string& state, const std::string& file, bool past_eof) {
  FuzzCrash c = crash(signature, state);
  c.outcome.signal = 7;
  c.outcome.attribution = Attribution{};
  c.outcome.attribution->file = file;
  c.outcome.attribution->past_eof = past_eof;
  return c;
}

TEST(fuzz_report, CrashesPastTheEndOfTheSameKindOfFileFromOtherFramesPointAtTheFirst) {
  FuzzCampaign c;
  c.crashes.push_back(sigbus("aaaa", "signal SIGBUS\nStoreImpl::count\nmain", "/dev/shm/fuzz-12/work/vectors-000001.bin", true));
  c.crashes.push_back(sigbus("bbbb", "signal SIGBUS\nStoreImpl::read_slot\nStoreImpl::locate", "/dev/shm/fuzz-12/work/attrs-000001.bin", true));
  c.crashes.push_back(sigbus("cccc", "signal SIGBUS\nStoreImpl::read_slot\nIdIndex::find", "/dev/shm/fuzz-40/work/vectors-000002.bin", true));
  // In the same file but not past its end: another fault.
  c.crashes.push_back(sigbus("dddd", "signal SIGBUS\nStoreImpl::scan\nmain", "/dev/shm/fuzz-12/work/vectors-000001.bin", false));
  std::string md = fuzz_report_markdown(c);
  EXPECT_THAT(md, HasSubstr("**4 distinct crashes, likely 3 bugs.**"));
  std::string third = md.substr(md.find("crash cccc"), md.find("crash dddd") - md.find("crash cccc"));
  EXPECT_THAT(third, HasSubstr("same fault as crash aaaa (SIGBUS past the end of vectors-*.bin), from other frames"));
  std::string second = md.substr(md.find("crash bbbb"), md.find("crash cccc") - md.find("crash bbbb"));
  EXPECT_THAT(second, Not(HasSubstr("same fault")));
  EXPECT_THAT(md.substr(md.find("crash dddd")), Not(HasSubstr("same fault")));
}

TEST(fuzz_report, CrashesOfAnotherTargetAreNeverLinked) {
  FuzzCampaign c;
  c.crashes.push_back(sigbus("aaaa", "signal SIGBUS\nStoreImpl::count\nmain", "/w/vectors-000001.bin", true));
  c.crashes.push_back(sigbus("bbbb", "signal SIGBUS\nStoreImpl::read_slot\nStoreImpl::locate", "/w/vectors-000001.bin", true));
  c.crashes.back().target = "vstore_open";
  std::string md = fuzz_report_markdown(c);
  EXPECT_THAT(md, HasSubstr("**2 distinct crashes.**"));
  EXPECT_THAT(md, Not(HasSubstr("same fault")));
}

TEST(fuzz_report, DistinctPlacesAreNotCountedWhenEveryCrashHasItsOwn) {
  FuzzCampaign c;
  c.crashes.push_back(crash("aaaa", "signal SIGBUS\nStoreImpl::count\nmain"));
  c.crashes.push_back(crash("bbbb", "signal SIGBUS\nStoreImpl::read_slot\nStoreImpl::locate"));
  std::string md = fuzz_report_markdown(c);
  EXPECT_THAT(md, HasSubstr("**2 distinct crashes.**"));
  EXPECT_THAT(md, Not(HasSubstr("same frames")));
}

}  // namespace
}  // namespace crashgate
