// Where a cell's driver is: <build-root>/<build>/bin/crashgate-driver-<target>,
// the layout `ci/build PRESET` produces. A missing driver is crashgate's
// problem (harness-error) with the command that builds it, never a skip.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace crashgate {

// The build root: $CRASHGATE_BUILD_ROOT when set, else the directory above the
// one holding this crashgate's bin/ (build/ for build/release/bin/crashgate).
std::string default_build_root();

std::string driver_path(const std::string& build_root, const std::string& build, const std::string& target);

// The first of `preferred` (driver paths) that exists, else the driver of any
// build of any of `targets`: every build's driver lists the same tables.
// `tried` (when given) collects the paths that did not exist.
std::optional<std::string> first_built_driver(const std::vector<std::string>& preferred, const std::string& build_root,
                                              const std::vector<std::string>& targets, std::string* tried = nullptr);

// Why `driver` cannot run, with how to build it; nothing when it is an executable file.
std::optional<std::string> missing_driver_message(const std::string& driver, const std::string& build,
                                                  const std::string& target);

}  // namespace crashgate
