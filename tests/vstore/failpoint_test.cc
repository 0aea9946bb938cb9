#include "vstore/failpoint.h"

#include <cerrno>
#include <set>

#include <gtest/gtest.h>

#include "failpoint/evaluate.h"
#include "failpoint/spec.h"

namespace vstore {
namespace {

using internal::FailActionKind;
using internal::FailSpec;
using internal::parse_failpoint_spec;

TEST(FailpointTable, NamesAreUniqueAndDotted) {
  size_t n = 0;
  const FailSiteInfo* t = failpoint_table(&n);
  std::set<std::string_view> names;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(names.insert(t[i].name).second) << t[i].name;
    EXPECT_NE(t[i].name.find('.'), std::string_view::npos) << t[i].name;
    EXPECT_EQ(failpoint_name(t[i].site), t[i].name);
  }
  EXPECT_TRUE(names.count("mapped_file.grow.ftruncate")) << "DESIGN.md's example site";
}

TEST(FailpointSpec, ParsesProbabilityCountActionArgumentAndChains) {
  std::vector<FailSpec> specs;
  ASSERT_TRUE(parse_failpoint_spec("mapped_file.grow.ftruncate=1*error(ENOSPC); store.read.after_lookup=10%yield;"
                                   "mapped_file.append.pwrite=2*off->short(100)->crash", &specs).ok());
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].site, FailSite::mapped_file_grow_ftruncate);
  EXPECT_EQ(specs[0].chain[0].action, FailActionKind::error);
  EXPECT_EQ(specs[0].chain[0].arg, static_cast<uint64_t>(ENOSPC));
  EXPECT_EQ(specs[0].chain[0].max_count, 1u);
  EXPECT_DOUBLE_EQ(specs[1].chain[0].probability, 10.0);
  EXPECT_EQ(specs[1].chain[0].action, FailActionKind::yield);
  ASSERT_EQ(specs[2].chain.size(), 3u);
  EXPECT_EQ(specs[2].chain[0].action, FailActionKind::off);
  EXPECT_EQ(specs[2].chain[1].action, FailActionKind::short_io);
  EXPECT_EQ(specs[2].chain[1].arg, 100u);
  EXPECT_EQ(specs[2].chain[2].action, FailActionKind::crash);
}

TEST(FailpointSpec, ErrorsNameTheProblemAndColumn) {
  std::vector<FailSpec> specs;
  struct Bad {
    const char* spec;
    const char* says;
  } cases[] = {
      {"no.such.site=yield", "unknown failpoint 'no.such.site'"},
      {"store.read.after_lookup", "expected name=action"},
      {"store.read.after_lookup=explode", "unknown action 'explode'"},
      {"store.read.after_lookup=error", "needs an argument"},
      {"store.read.after_lookup=yield(3)", "takes no argument"},
      {"store.read.after_lookup=error(ENOTANERRNO)", "not an errno"},
      {"store.read.after_lookup=150%yield", "probability"},
      {"store.read.after_lookup=x*yield", "count must be a whole number"},
      {"store.read.after_lookup=delay(12ms)", "not a whole number"},
      {"store.read.after_lookup=yield;store.read.after_lookup=crash", "set twice"},
  };
  for (const Bad& b : cases) {
    Status st = parse_failpoint_spec(b.spec, &specs);
    EXPECT_EQ(st.code(), Code::invalid_argument) << b.spec;
    EXPECT_NE(st.message().find(b.says), std::string::npos) << b.spec << " -> " << st.message();
    EXPECT_NE(st.message().find("column"), std::string::npos) << st.message();
  }
}

TEST(Failpoints, ReleaseBuildsRefuseToConfigureButAcceptOff) {
  if (failpoints_compiled_in()) GTEST_SKIP() << "this build has failpoints";
  EXPECT_TRUE(configure_failpoints("").ok());
  Status st = configure_failpoints("store.read.after_lookup=yield");
  EXPECT_EQ(st.code(), Code::invalid_argument);
  EXPECT_NE(st.message().find("not compiled"), std::string::npos);
  EXPECT_EQ(internal::failpoint_eval(FailSite::store_read_after_lookup).kind, internal::FailOutcome::none);
}

TEST(Failpoints, ChainsCountEvaluationsAndHandOver) {
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled into this build";
  ASSERT_TRUE(configure_failpoints("store.read.after_lookup=2*off->1*error(EIO)").ok());
  using internal::FailOutcome;
  EXPECT_EQ(internal::failpoint_eval(FailSite::store_read_after_lookup).kind, FailOutcome::none);
  EXPECT_EQ(internal::failpoint_eval(FailSite::store_read_after_lookup).kind, FailOutcome::none);
  FailOutcome third = internal::failpoint_eval(FailSite::store_read_after_lookup);
  EXPECT_EQ(third.kind, FailOutcome::error);
  EXPECT_EQ(third.err, EIO);
  EXPECT_EQ(internal::failpoint_eval(FailSite::store_read_after_lookup).kind, FailOutcome::none) << "chain used up";
  EXPECT_EQ(failpoint_hits(FailSite::store_read_after_lookup), 1u);
  ASSERT_TRUE(configure_failpoints("").ok());
}

TEST(Failpoints, ProbabilityIsDeterministicPerSeed) {
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled into this build";
  auto draw = [](uint64_t seed) {
    set_failpoint_seed(seed);
    EXPECT_TRUE(configure_failpoints("store.read.after_lookup=30%error(EIO)").ok());
    std::string pattern;
    for (int i = 0; i < 200; ++i)
      pattern += internal::failpoint_eval(FailSite::store_read_after_lookup).kind == internal::FailOutcome::error ? '1' : '0';
    return pattern;
  };
  std::string a = draw(7), b = draw(7), c = draw(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  size_t ones = std::count(a.begin(), a.end(), '1');
  EXPECT_GT(ones, 30u);
  EXPECT_LT(ones, 90u);
  ASSERT_TRUE(configure_failpoints("").ok());
}

}  // namespace
}  // namespace vstore
