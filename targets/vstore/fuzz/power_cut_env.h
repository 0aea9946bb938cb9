// An Env for in-process power cuts (vstore_ops): forwards to the POSIX Env and,
// like the engine's `crash` failpoint action (and LevelDB's fault-injection
// Env), remembers for every file it changes the size at its last sync and the
// bytes under each later write. power_cut() puts those back, as a power cut
// would lose them, without killing the process: while it is armed every write,
// sync, rename and unlink fails, so the store being abandoned writes nothing
// more; the caller destroys it, calls power_cut(), and reopens.
// Writes made through shared mappings are kept, as the engine's own power cut
// keeps them (the page cache outlives the process).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "vstore/env.h"

namespace vstore_fuzz {

class PowerCutEnv : public vstore::Env {
 public:
  explicit PowerCutEnv(vstore::Env* base) : base_(base) {}
  ~PowerCutEnv() override;

  // From now on every mutating call fails with io.
  void fail_writes() { failing_ = true; }
  // Undoes everything not synced, newest first; writes work again.
  void power_cut();
  // Forgets every file (a new store begins).
  void reset();

  vstore::Result<vstore::FileHandle> open(const std::string& path, vstore::OpenMode mode, vstore::FailSite site) override;
  vstore::Result<vstore::FileInfo> stat(int fd, std::string_view name, vstore::FailSite site) override;
  vstore::Status read_at(int fd, void* buf, size_t n, uint64_t offset, std::string_view name, vstore::FailSite site) override;
  vstore::Status write_at(int fd, const void* buf, size_t n, uint64_t offset, std::string_view name, vstore::FailSite site) override;
  vstore::Status sync(int fd, std::string_view name, vstore::FailSite site) override;
  vstore::Status truncate(int fd, uint64_t size, std::string_view name, vstore::FailSite site) override;
  vstore::Status allocate(int fd, uint64_t offset, uint64_t len, std::string_view name, vstore::FailSite site) override;
  vstore::Result<void*> map(int fd, uint64_t len, bool writable, std::string_view name, vstore::FailSite site) override;
  void unmap(void* addr, uint64_t len) override;
  vstore::Status rename(const std::string& from, const std::string& to, vstore::FailSite site) override;
  vstore::Status unlink(const std::string& path, vstore::FailSite site) override;
  vstore::Status make_dir(const std::string& path, vstore::FailSite site) override;
  vstore::Status sync_dir(const std::string& path, vstore::FailSite site) override;
  vstore::Result<std::vector<std::string>> list_dir(const std::string& path, vstore::FailSite site) override;
  vstore::Status lock_exclusive(int fd, std::string_view name, vstore::FailSite site) override;

 private:
  struct Region {
    uint64_t offset;
    std::vector<char> old_bytes;
  };
  struct FileUndo {
    int fd = -1;  // our own dup, valid after the store closes its descriptor
    uint64_t durable_size = 0;
    std::vector<Region> regions;
  };
  using Key = std::pair<uint64_t, uint64_t>;  // device, inode

  FileUndo* track(int fd, bool created);  // under mu_
  vstore::Status refused(std::string_view what) const;

  vstore::Env* base_;
  bool failing_ = false;
  std::mutex mu_;
  std::map<Key, FileUndo> files_;
  std::set<Key> created_;  // files created since the last cut: nothing in them is durable
};

}  // namespace vstore_fuzz
