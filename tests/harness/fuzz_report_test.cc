// The morning report's crash list: crashes at the same frames but of another
// kind (a wild index that lands in a redzone, in freed memory or in nothing)
// are pointed at the first of them, and the headline counts places in the code.
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
  EXPECT_THAT(md, HasSubstr("**3 distinct crashes, at 2 places in the code.**"));
  std::string third = md.substr(md.find("crash cccc"));
  EXPECT_THAT(third, HasSubstr("same frames as crash aaaa"));
  std::string second = md.substr(md.find("crash bbbb"), md.find("crash cccc") - md.find("crash bbbb"));
  EXPECT_THAT(second, Not(HasSubstr("same frames")));
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
