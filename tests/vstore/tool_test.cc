// The vstore tool as scripts use it: exit statuses by the documented table,
// errors on stderr naming the code, and never a death by signal on any input.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vstore/status.h"
#include "vstore/support/scratch.h"
#include "vstore/support/tool_run.h"

namespace vstore {
namespace {

using testing::run_tool;
using testing::ToolRun;

TEST(VstoreTool, CreateAddCountGetRemoveCompactFsckStatsRoundTrip) {
  testing::ScratchDir d;
  std::string s = d / "s";
  EXPECT_EQ(run_tool(fmt::format("create {} --dim 8 --metric cosine", s)).exit_code, 0);
  ToolRun add = run_tool(fmt::format("add {} --random 1500 --seed 3", s));
  EXPECT_EQ(add.exit_code, 0) << add.output;
  EXPECT_EQ(run_tool(fmt::format("count {}", s)).output, "1500\n");
  ToolRun get = run_tool(fmt::format("get {} 17", s));
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_NE(get.output.find("attr file_path=src/file_17.py"), std::string::npos) << get.output;
  EXPECT_EQ(run_tool(fmt::format("add {} --random 10", s)).exit_code, 0) << "ids continue past the largest";
  EXPECT_EQ(run_tool(fmt::format("count {}", s)).output, "1510\n");
  EXPECT_EQ(run_tool(fmt::format("remove {} 1 2 3", s)).exit_code, 0);
  EXPECT_EQ(run_tool(fmt::format("compact {}", s)).exit_code, 0);
  ToolRun fsck = run_tool(fmt::format("fsck {}", s));
  EXPECT_EQ(fsck.exit_code, 0) << fsck.output;
  EXPECT_NE(run_tool(fmt::format("stats {}", s)).output.find("live 1507"), std::string::npos);
}

// Exit statuses for every command and code: tool_status_test.cc.
TEST(VstoreTool, ACorruptStoreIsNamedByFileAndFsckPrintsWhatIsWrongWithIt) {
  testing::ScratchDir d;
  std::string s = d / "s";
  ASSERT_EQ(run_tool(fmt::format("create {} --dim 4", s)).exit_code, 0);
  ASSERT_EQ(run_tool(fmt::format("add {} --random 100", s)).exit_code, 0);
  std::filesystem::resize_file(testing::find_file(s, "vectors-"), 100);
  ToolRun corrupt = run_tool(fmt::format("count {}", s));
  EXPECT_NE(corrupt.output.find("vstore: corrupt: "), std::string::npos) << corrupt.output;
  EXPECT_NE(corrupt.output.find("vectors-000001.bin"), std::string::npos) << corrupt.output;
  ToolRun fsck = run_tool(fmt::format("fsck {}", s));
  EXPECT_EQ(fsck.exit_code, code_exit_status(Code::corrupt));
  EXPECT_NE(fsck.output.find("header page"), std::string::npos) << fsck.output;
}

TEST(VstoreTool, NeverDiesOfASignalOnDamagedStoresOrBadFiles) {
  testing::ScratchDir d;
  std::string s = d / "s";
  ASSERT_EQ(run_tool(fmt::format("create {} --dim 4", s)).exit_code, 0);
  ASSERT_EQ(run_tool(fmt::format("add {} --random 300", s)).exit_code, 0);
  std::string bad_fvecs = d / "bad.fvecs";
  testing::write_file(bad_fvecs, std::string("\x04\x00\x00\x00\x01\x02", 6));
  for (const char* file : {"vectors-", "attrs-", "ids-", "MANIFEST"}) {
    for (uint64_t cut : {0, 7, 4095, 4097, 9000}) {
      testing::copy_dir(s, d / "w");
      std::string path = testing::find_file(d / "w", file);
      if (cut >= testing::file_size(path)) continue;
      std::filesystem::resize_file(path, cut);
      for (const char* cmd : {"count", "get {} 5", "fsck", "stats", "compact", "remove {} 5"}) {
        std::string args = fmt::format(fmt::runtime(std::string(cmd).find("{}") == std::string::npos ? std::string(cmd) + " {}" : cmd), d / "w");
        ToolRun r = run_tool(args);
        EXPECT_EQ(r.signal, 0) << args << " after cutting " << path << " to " << cut << ": " << r.output;
        EXPECT_NE(r.exit_code, 0) << args << ": " << r.output;
      }
    }
  }
  ToolRun fvecs = run_tool(fmt::format("add {} --fvecs {}", s, bad_fvecs));
  EXPECT_EQ(fvecs.exit_code, 7) << fvecs.output;
  EXPECT_NE(fvecs.output.find("cut short"), std::string::npos) << fvecs.output;
}

TEST(VstoreTool, FailpointAndRegressionTablesArePrinted) {
  ToolRun fp = run_tool("failpoints");
  EXPECT_EQ(fp.exit_code, 0);
  EXPECT_NE(fp.output.find("mapped_file.grow.ftruncate"), std::string::npos);
  ToolRun rg = run_tool("regressions");
  EXPECT_EQ(rg.exit_code, 0);
  EXPECT_NE(rg.output.find("unvalidated-header"), std::string::npos);
  EXPECT_NE(rg.output.find("000, 001"), std::string::npos);
}

}  // namespace
}  // namespace vstore
