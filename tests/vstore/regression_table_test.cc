#include "vstore/regression.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace vstore {
namespace {

TEST(RegressionTable, ListsEveryIdTheIssuesRequireOnce) {
  size_t n = 0;
  const RegressionInfo* table = regression_table(&n);
  std::set<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(ids.insert(std::string(table[i].id)).second) << "duplicate id " << table[i].id;
    EXPECT_FALSE(table[i].what.empty()) << table[i].id;
  }
  for (const char* required :
       {"unvalidated-header", "stale-size", "overflowing-bounds-check", "unchecked-mapping",
        "unlocked-grow", "view-outlives-guard", "in-place-compaction", "offset32", "ack-before-sync",
        "recursive-filter", "toctou-neighbor", "unlocked-links", "unchecked-neighbor-id"}) {
    EXPECT_TRUE(ids.count(required)) << "missing regression id " << required;
  }
}

TEST(RegressionTable, UnknownIdIsRejectedByName) {
  Status st = set_regressions("stale-size,no-such-bug");
  ASSERT_EQ(st.code(), Code::invalid_argument);
  EXPECT_NE(st.message().find("no-such-bug"), std::string::npos) << st.message();
}

TEST(RegressionTable, SwitchesTurnOnOnlyWhereCompiledIn) {
  Status st = set_regressions("stale-size");
  if (regressions_compiled_in()) {
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_TRUE(regression_enabled(Regression::stale_size));
    EXPECT_FALSE(regression_enabled(Regression::offset32));
    ASSERT_TRUE(set_regressions("").ok());
    EXPECT_FALSE(regression_enabled(Regression::stale_size));
  } else {
    EXPECT_EQ(st.code(), Code::invalid_argument);
    EXPECT_FALSE(regression_enabled(Regression::stale_size));
  }
}

}  // namespace
}  // namespace vstore
