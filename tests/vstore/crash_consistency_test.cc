// A child crashes (a simulated power cut: unsynced writes undone, then
// SIGKILL) at each write-path failpoint in turn, enumerated from the failpoint
// table, so a new site is covered without a new test; the parent reopens the
// store and checks every synced record.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "vstore/failpoint.h"
#include "vstore/support/crash_workload.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

TEST(CrashConsistency, EveryWritePathSiteLeavesEverySyncedRecordIntact) {
  if (!failpoints_compiled_in()) GTEST_SKIP() << "failpoints are not compiled into this build (release)";
  size_t n = 0;
  const FailSiteInfo* table = failpoint_table(&n);
  int sites = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!table[i].write_path) continue;
    ++sites;
    // The first hit, and a later one where the site is passed more often.
    for (const char* when : {"", "2*off->"}) {
      testing::ScratchDir d;
      testing::prepare_crash_store(d / "s");
      std::string spec = fmt::format("{}={}crash", table[i].name, when);
      int synced = 0;
      testing::ChildResult child = testing::run_crash_workload(d / "s", d / "spare", spec, "", &synced);
      bool crashed = !child.exited && child.signal == SIGKILL;
      if (!crashed) {
        ASSERT_TRUE(child.exited && child.exit_code == 0) << spec << ": " << child.describe();
        // A later hit may not come; the first must, or the workload misses the site.
        ASSERT_STRNE(when, "") << spec << ": the workload never reaches this write-path site; extend it";
        continue;
      }
      ASSERT_NE(child.output.find("fired: crash"), std::string::npos) << spec << ": " << child.describe();
      std::string problem = testing::check_after_crash(d / "s", synced);
      EXPECT_EQ(problem, "") << spec << " (crashed after phase " << synced << ")";
    }
  }
  EXPECT_GT(sites, 15);
}

}  // namespace
}  // namespace vstore
