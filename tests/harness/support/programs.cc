#include "harness/support/programs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "harness/support/crashers.h"

namespace crashgate::testing {

std::string find_tool(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    }
  }
  if (const char* home = std::getenv("HOME")) dirs.push_back(std::string(home) + "/.cargo/bin");
  for (const auto& dir : dirs)
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

std::string build_rust_worker(const std::string& rustc, const std::string& dir) {
  std::filesystem::copy_file(source_dir() + "/tests/harness/data/programs/worker.rs", dir + "/worker.rs",
                             std::filesystem::copy_options::overwrite_existing);
  std::string command = "cd " + dir + " && " + rustc + " -g -C opt-level=0 -o worker worker.rs 2>rustc.txt";
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "rustc failed:\n" << read_file(dir + "/rustc.txt");
    return "";
  }
  return dir + "/worker";
}

}  // namespace crashgate::testing
