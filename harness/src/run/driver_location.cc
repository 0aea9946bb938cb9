#include "crashgate/driver_location.h"

#include "crashgate/builds.h"

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>

namespace crashgate {

std::string default_build_root() {
  if (const char* env = std::getenv("CRASHGATE_BUILD_ROOT"); env && *env) return env;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build";
  // build/release/bin/crashgate -> build
  return exe.parent_path().parent_path().parent_path().string();
}

std::string driver_path(const std::string& build_root, const std::string& build, const std::string& target) {
  return fmt::format("{}/{}/bin/crashgate-driver-{}", build_root, build, target);
}

std::optional<std::string> first_built_driver(const std::vector<std::string>& preferred, const std::string& build_root,
                                              const std::vector<std::string>& targets, std::string* tried) {
  std::vector<std::string> candidates = preferred;
  for (const auto& target : targets)
    for (std::string_view build : kBuilds)
      if (std::string path = driver_path(build_root, std::string(build), target);
          std::find(candidates.begin(), candidates.end(), path) == candidates.end())
        candidates.push_back(std::move(path));  // each path once: the message lists what was looked for
  for (const auto& driver : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(driver, ec)) return driver;
    if (tried) *tried += (tried->empty() ? "" : ", ") + driver;
  }
  return std::nullopt;
}

std::optional<std::string> missing_driver_message(const std::string& driver, const std::string& build,
                                                  const std::string& target) {
  struct stat st {};
  bool exists = stat(driver.c_str(), &st) == 0;
  bool regular = exists && S_ISREG(st.st_mode);
  if (regular && access(driver.c_str(), X_OK) == 0) return std::nullopt;
  const char* why = !exists ? "does not exist" : !regular ? "is not a regular file" : "is not executable";
  return fmt::format("no driver for target '{}' in build '{}': {} {}; build it with `ci/build {}` "
                     "(or point --build-root / CRASHGATE_BUILD_ROOT at the directory holding {}/)",
                     target, build, driver, why, build, build);
}

}  // namespace crashgate
