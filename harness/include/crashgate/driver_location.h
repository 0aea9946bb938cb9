// Where a cell's driver is: <build-root>/<build>/bin/crashgate-driver-<target>,
// the layout `ci/build PRESET` produces. A missing driver is crashgate's
// problem (harness-error) with the command that builds it, never a skip.
#pragma once

#include <optional>
#include <string>

namespace crashgate {

// The build root: $CRASHGATE_BUILD_ROOT when set, else the directory above the
// one holding this crashgate's bin/ (build/ for build/release/bin/crashgate).
std::string default_build_root();

std::string driver_path(const std::string& build_root, const std::string& build, const std::string& target);

// Why `driver` cannot run, with how to build it; nothing when it is an executable file.
std::optional<std::string> missing_driver_message(const std::string& driver, const std::string& build,
                                                  const std::string& target);

}  // namespace crashgate
