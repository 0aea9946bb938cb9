// Internal: the undo log behind the `crash` failpoint action. While a crash is
// armed, the I/O seam records, for every file it changes, the size at its last
// sync and the old bytes under each later write. A simulated power cut puts
// those back (as a real power cut would lose them) and then SIGKILLs the
// process. Only writes made through the seam after arming are tracked.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace vstore::internal {

class PowerCutLog {
 public:
  // A file created now: none of its content is durable yet.
  void record_created(int fd);
  // Before a write of n bytes at offset: keep the bytes it replaces.
  void record_write(int fd, uint64_t offset, uint64_t n);
  // Before a size change: remember the durable size.
  void record_truncate(int fd);
  // After fdatasync: everything in the file is durable.
  void record_sync(int fd);
  // Undo everything not durable, newest first, then SIGKILL this process.
  [[noreturn]] void cut_and_die();

 private:
  struct Region {
    uint64_t offset;
    std::vector<char> old_bytes;
  };
  struct FileUndo {
    int fd = -1;  // our own dup, valid after the caller closes its descriptor
    uint64_t durable_size = 0;
    std::vector<Region> regions;
  };
  using Key = std::pair<uint64_t, uint64_t>;  // device, inode

  FileUndo* track(int fd, bool created);  // under mu_

  std::mutex mu_;
  std::map<Key, FileUndo> files_;
};

PowerCutLog& power_cut_log();

}  // namespace vstore::internal
