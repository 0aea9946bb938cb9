#include "harness/support/crashers.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace crashgate::testing {

std::string crasher_path(const std::string& name) { return std::string(CRASHGATE_CRASHERS_DIR) + "/" + name; }
std::string crashgate_binary() { return CRASHGATE_BIN; }
std::string source_dir() { return CRASHGATE_SOURCE_DIR; }

namespace {

std::filesystem::path process_scratch_root() {
  return std::filesystem::temp_directory_path() / ("crashgate-test-" + std::to_string(getpid()));
}

// This process's scratch directories go when its tests have passed; a failure
// keeps them for whoever reads the failure, and says where they are.
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::filesystem::path root = process_scratch_root();
    std::error_code ec;
    if (!std::filesystem::exists(root, ec)) return;
    if (::testing::UnitTest::GetInstance()->Passed())
      std::filesystem::remove_all(root, ec);
    else
      std::fprintf(stderr, "crashgate tests: scratch files kept in %s\n", root.c_str());
  }
};

[[maybe_unused]] auto* const scratch_cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

}  // namespace

std::string scratch_dir(const std::string& name) {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = process_scratch_root() / (std::string(info ? info->name() : "none") + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Outcome run_crasher(const std::string& name, std::vector<std::string> args, Limits limits) {
  RunSpec spec;
  spec.argv.push_back(crasher_path(name));
  for (auto& a : args) spec.argv.push_back(std::move(a));
  spec.limits = limits;
  return run_observed(spec);
}

const Frame* find_frame(const Outcome& outcome, const std::string& needle) {
  if (outcome.crashing_thread < 0 || outcome.crashing_thread >= static_cast<int>(outcome.threads.size()))
    return nullptr;
  for (const auto& frame : outcome.threads[outcome.crashing_thread].frames)
    if (frame.function.find(needle) != std::string::npos) return &frame;
  return nullptr;
}

const Thread* find_stack(const Outcome& outcome, const std::string& role) {
  for (const auto& t : outcome.threads)
    if (t.role == role) return &t;
  return nullptr;
}

bool process_gone(long pid) {
  if (kill(static_cast<pid_t>(pid), 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close == std::string::npos || (close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X'));
}

}  // namespace crashgate::testing
