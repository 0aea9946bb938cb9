// RunPlan::cell_env: each cell's extra environment reaches that cell's driver
// and no other (crashgate footprints points each cell's coverage profile at
// its own directory with it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "crashgate/run_matrix.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

PlannedCell envecho_cell(const std::string& name) {
  PlannedCell p;
  p.cell.scenario = name;
  p.cell.target = "envecho";
  p.cell.build = "release";
  p.cell.id = name + "/envecho/release";
  return p;
}

TEST(RunMatrix, CellEnvReachesOnlyItsOwnCell) {
  std::string root = testing::scratch_dir("cell-env");
  std::string marks = root + "/marks";
  fs::create_directories(marks);
  fs::create_directories(root + "/build/release/bin");
  // A driver that copies its cell document (--cell PATH) to $MARK_FILE, when it is set.
  std::string driver = root + "/build/release/bin/crashgate-driver-envecho";
  testing::write_file(driver, "#!/bin/sh\n[ -n \"$MARK_FILE\" ] && cat \"$2\" > \"$MARK_FILE\"\nexit 0\n");
  ASSERT_EQ(chmod(driver.c_str(), 0755), 0);

  RunPlan plan;
  plan.cells = {envecho_cell("first"), envecho_cell("second"), envecho_cell("third"), envecho_cell("fourth")};
  plan.build_root = root + "/build";
  plan.run_dir = root + "/run";
  plan.jobs = 2;
  // The second cell's entry is empty, and the fourth has none.
  plan.cell_env = {{{"MARK_FILE", marks + "/a"}}, {}, {{"MARK_FILE", marks + "/c"}}};
  run_matrix(plan, RunContext{});

  std::vector<std::string> written;
  for (const auto& entry : fs::directory_iterator(marks)) written.push_back(entry.path().filename().string());
  EXPECT_THAT(written, UnorderedElementsAre("a", "c"));
  EXPECT_THAT(testing::read_file(marks + "/a"), HasSubstr("\"first/envecho/release\""));
  EXPECT_THAT(testing::read_file(marks + "/c"), HasSubstr("\"third/envecho/release\""));
}

}  // namespace
}  // namespace crashgate
