// Sharding (shard.h, `run`/`list --shard`): N shards of the real catalog hold
// every cell exactly once, for any N; bad shard values are usage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fmt/format.h>
#include <map>
#include <set>
#include <sstream>

#include "crashgate/cell_selection.h"
#include "crashgate/shard.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> catalog_ids() {
  ScenarioCatalog catalog = load_catalog({testing::source_dir() + "/scenarios"});
  EXPECT_TRUE(catalog.errors.empty());
  std::vector<std::string> ids;
  for (const auto& c : select_cells(catalog, {}, 1)) ids.push_back(c.cell.id);
  return ids;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
 private:
  const char* name_;
};

TEST(Shard, ParsesIOfNCountingFromOne) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(*s, (Shard{1, 4}));
  EXPECT_EQ(s->text(), "2/4");
  EXPECT_EQ(*parse_shard("1/1"), (Shard{0, 1}));
}

TEST(Shard, RefusesBadValuesSayingWhatIsExpected) {
  for (auto [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"0/4", "I must be 1 .. 4"}, {"5/4", "I must be 1 .. 4"}, {"1/0", "N must be a whole number"},
           {"x", "expected I/N"}, {"1/4x", "N must be a whole number"}, {"-1/4", "I must be"},
           {"", "expected I/N"}, {"1/", "N must be"}, {"99999999999/4", "I must be"}}) {
    auto s = parse_shard(text);
    ASSERT_FALSE(s) << text;
    EXPECT_THAT(s.error(), HasSubstr(expected)) << text;
  }
}

TEST(Shard, TheUnionOfNShardsOfTheCatalogIsTheCatalogWithNoCellTwice) {
  std::vector<std::string> ids = catalog_ids();
  ASSERT_GT(ids.size(), 50u);
  for (int n = 1; n <= 7; ++n) {
    std::map<std::string, int> seen;
    std::size_t smallest = ids.size();
    for (int i = 0; i < n; ++i) {
      std::size_t in = 0;
      for (const auto& id : ids)
        if (in_shard(id, Shard{i, n})) ++seen[id], ++in;
      smallest = std::min(smallest, in);
    }
    EXPECT_EQ(seen.size(), ids.size()) << n << " shards";
    for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id << " in " << count << " of " << n << " shards";
    if (n <= 4) EXPECT_GT(smallest, ids.size() / n / 3) << "shards of " << n << " are roughly even";
  }
}

TEST(Shard, DependsOnTheCellIdAloneSoAddingScenariosMovesNoOtherCell) {
  // Pinned: changing the hash would move every cell of every CI fleet at once.
  std::vector<int> shards;
  for (const char* id : {"truncated-vectors-bin/vstore/release[cut=0]", "few-open-files/vstore/release",
                         "unvalidated-header-sigbus/vstore/debug"})
    for (int i = 0; i < 4; ++i)
      if (in_shard(id, Shard{i, 4})) shards.push_back(i);
  EXPECT_EQ(shards, (std::vector<int>{1, 2, 2}));
}

TEST(Shard, ComesFromCrashgateVariablesThenGoogleTestOnesZeroBased) {
  auto none = shard_from_environment();
  ASSERT_TRUE(none) << none.error();
  EXPECT_FALSE(*none);
  {
    ScopedEnv index("GTEST_SHARD_INDEX", "0"), total("GTEST_TOTAL_SHARDS", "3");
    auto gtest = shard_from_environment();
    ASSERT_TRUE(gtest) << gtest.error();
    EXPECT_EQ(*gtest, (Shard{0, 3}));
    ScopedEnv cindex("CRASHGATE_SHARD_INDEX", "3"), ctotal("CRASHGATE_TOTAL_SHARDS", "4");
    auto own = shard_from_environment();
    ASSERT_TRUE(own) << own.error();
    EXPECT_EQ(*own, (Shard{3, 4})) << "crashgate's own variables win";
  }
  {
    ScopedEnv index("CRASHGATE_SHARD_INDEX", "4"), total("CRASHGATE_TOTAL_SHARDS", "4");
    auto bad = shard_from_environment();
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "CRASHGATE_SHARD_INDEX=4: expected 0 .. 3 (0-based, below CRASHGATE_TOTAL_SHARDS=4)");
  }
  {
    ScopedEnv total("GTEST_TOTAL_SHARDS", "4");
    auto half = shard_from_environment();
    ASSERT_FALSE(half);
    EXPECT_EQ(half.error(), "GTEST_TOTAL_SHARDS is set but GTEST_SHARD_INDEX is not: set both, or neither");
  }
}

std::set<std::string> listed(const Outcome& o) {
  std::set<std::string> ids;
  std::istringstream lines(o.stdout_excerpt.text());
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ids.insert(line.substr(0, line.find(' ')));
  return ids;
}

TEST(Shard, ListWithShardFlagsOrVariablesSplitsTheCatalog) {
  // A part of the catalog whose listing fits in the output the test keeps
  // (the whole one is 1,767 cells, more than an excerpt holds).
  std::string scenarios = testing::source_dir() + "/scenarios/io-errors";
  Outcome all = testing::run_crashgate({"list", scenarios});
  ASSERT_EQ(all.exit_code, 0) << all.stderr_excerpt.text();
  std::set<std::string> everything = listed(all), joined;
  std::size_t total = 0;
  for (int i = 1; i <= 3; ++i) {
    Outcome part = testing::run_crashgate({"list", scenarios, "--shard", fmt::format("{}/3", i)});
    ASSERT_EQ(part.exit_code, 0) << part.stderr_excerpt.text();
    auto ids = listed(part);
    total += ids.size();
    joined.insert(ids.begin(), ids.end());
    ScopedEnv index("CRASHGATE_SHARD_INDEX", std::to_string(i - 1).c_str()), count("CRASHGATE_TOTAL_SHARDS", "3");
    EXPECT_EQ(listed(testing::run_crashgate({"list", scenarios})), ids) << "the variables select the same shard";
  }
  EXPECT_GT(everything.size(), 20u);
  EXPECT_EQ(joined, everything);
  EXPECT_EQ(total, everything.size());
}

TEST(Shard, ABadShardIsAUsageErrorNamingTheValue) {
  Outcome o = testing::run_crashgate({"list", testing::source_dir() + "/scenarios", "--shard", "5/4"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_excerpt.text(), HasSubstr("--shard '5/4': I must be 1 .. 4"));
  ScopedEnv index("GTEST_SHARD_INDEX", "x"), total("GTEST_TOTAL_SHARDS", "2");
  Outcome env = testing::run_crashgate({"run", testing::source_dir() + "/scenarios"});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_THAT(env.stderr_excerpt.text(), HasSubstr("GTEST_SHARD_INDEX=x: expected 0 .. 1"));
}

}  // namespace
}  // namespace crashgate
