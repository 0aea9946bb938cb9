// An application's half of a durable save (driver_kit.h: sync_to_disk).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"

namespace crashgate::kit {
namespace {

StepResult fsync_one(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return StepResult::error("io", fmt::format("open {} to fsync it: {}", path, std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return StepResult::error("io", fmt::format("fsync {}: {}", path, std::strerror(err)));
  return StepResult::ok();
}

}  // namespace

StepResult sync_to_disk(const std::string& file) {
  if (StepResult r = fsync_one(file, O_RDONLY); !r.is_ok) return r;
  std::string dir = std::filesystem::path(file).parent_path().string();
  return fsync_one(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace crashgate::kit
