// FuzzerPool on the tiny two-crash libFuzzer target: every run writes its
// artifacts into a folder of its own, and a folder is handed out as settled
// only once its run has ended, so nothing reads a crash input while a later
// run that crashed on the same bytes rewrites it.
#include "fuzz/fuzzer_pool.h"

#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/support/crashers.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(fuzzer_pool, EachRunWritesItsOwnArtifactFolderSettledOnlyOnceTheRunHasEnded) {
  std::string root = testing::scratch_dir("pool");
  // Both crashes are seeds, so run 1 and run 2 crash on the corpus (and move the seed out of it),
  // and every later run starts from seeds one byte away from a crash.
  fs::create_directories(root + "/seed");
  testing::write_file(root + "/seed/crash", "CRASH!!");
  testing::write_file(root + "/seed/boom", "BOOM??");
  testing::write_file(root + "/seed/near-boom", "BOO");
  testing::write_file(root + "/dict", "a=\"BOOM\"\n");
  fs::create_directories(root + "/corpus");

  FuzzerPoolConfig config;
  config.argv = {testing::crasher_path("fuzz_crasher"), "-max_len=16", "-dict=" + root + "/dict"};
  config.artifact_dir = root + "/artifacts";
  config.corpus_dirs = {root + "/corpus", root + "/seed"};
  config.quarantine_dir = root + "/quarantine";
  config.seed = 1;
  std::ostringstream log;
  FuzzerPool pool(config, log);
  ASSERT_TRUE(pool.start(FuzzerPool::Clock::now() + std::chrono::seconds(6)));

  std::vector<std::string> live_seen;
  auto backstop = FuzzerPool::Clock::now() + std::chrono::seconds(120);
  while (!pool.done() && FuzzerPool::Clock::now() < backstop) {
    for (const std::string& live : pool.live_artifact_dirs()) {
      for (const std::string& settled : pool.settled_artifact_dirs()) EXPECT_NE(live, settled) << "a running run's folder is settled";
      if (live_seen.empty() || live_seen.back() != live) live_seen.push_back(live);
    }
    pool.poll(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(pool.done()) << log.str();
  EXPECT_TRUE(pool.live_artifact_dirs().empty());

  const std::vector<std::string>& settled = pool.settled_artifact_dirs();
  ASSERT_EQ(settled.size(), pool.status().runs) << "one settled folder per run\n" << log.str();
  ASSERT_GE(settled.size(), 3u) << "two seeds that crash, then a run that fuzzes\n" << log.str();
  std::map<std::string, std::string> bytes_by_name;
  std::size_t crashes = 0;
  for (std::size_t k = 0; k < settled.size(); ++k) {
    std::string dir = fmt::format("{}/run-{}/", config.artifact_dir, k + 1);
    EXPECT_EQ(settled[k], dir);
    EXPECT_THAT(log.str(), HasSubstr(fmt::format("# run {}: ", k + 1))) << log.str();
    EXPECT_THAT(log.str(), HasSubstr("-artifact_prefix=" + dir + " ")) << "run " << k + 1 << " writes elsewhere\n" << log.str();
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      ++files;
      std::string name = e.path().filename().string();
      std::string bytes = testing::read_file(e.path().string());
      EXPECT_FALSE(bytes.empty()) << e.path() << " is empty: read while being written?";
      auto [it, fresh] = bytes_by_name.emplace(name, bytes);
      if (!fresh) EXPECT_EQ(it->second, bytes) << name << " differs between two runs' folders";
    }
    // Without --fork a run stops at its first crash: one artifact at most.
    EXPECT_LE(files, 1u) << dir;
    crashes += files;
  }
  EXPECT_GE(crashes, 2u) << log.str();
  EXPECT_TRUE(fs::exists(root + "/quarantine/crash")) << "the seed that crashes leaves the corpus";
  EXPECT_TRUE(fs::exists(root + "/quarantine/boom"));
  EXPECT_FALSE(live_seen.empty()) << "a run's folder is live while it runs";
}

TEST(fuzzer_pool, AnArtifactFolderThatCannotBeCreatedStopsTheStartSayingWhich) {
  std::string root = testing::scratch_dir("pool-bad");
  testing::write_file(root + "/not-a-folder", "x");
  FuzzerPoolConfig config;
  config.argv = {testing::crasher_path("fuzz_crasher")};
  config.artifact_dir = root + "/not-a-folder";
  config.corpus_dirs = {root};
  std::ostringstream log;
  FuzzerPool pool(config, log);
  auto started = pool.start(FuzzerPool::Clock::now() + std::chrono::seconds(5));
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error(), HasSubstr("cannot create the artifact folder " + root + "/not-a-folder/run-1/"));
  EXPECT_TRUE(pool.done());
}

}  // namespace
}  // namespace crashgate
