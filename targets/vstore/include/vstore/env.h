// vstore/env.h: the one seam through which every file operation of vstore goes
// (as LevelDB's Env). Each call names its failpoint site, so faults are injected
// in exactly one place; `name` is the file's name for error messages.
// Thread rule: an Env is safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vstore/failpoint.h"
#include "vstore/status.h"

namespace vstore {

// Owns a file descriptor; closes it on destruction. Move-only.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& o) noexcept : fd_(o.release()) {}
  FileHandle& operator=(FileHandle&& o) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

struct FileInfo {
  uint64_t size = 0;
  bool regular = false;
  bool directory = false;
  uint64_t device = 0;
  uint64_t inode = 0;
};

enum class OpenMode : uint8_t {
  read_only,         // existing file; never blocks (a FIFO opens and is then rejected by its type)
  read_write,        // existing file
  create_exclusive,  // new file; EEXIST if present
  create_truncate,   // new or emptied file
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens `path`; not-found, io or resource-exhausted (EMFILE) on failure.
  virtual Result<FileHandle> open(const std::string& path, OpenMode mode, FailSite site) = 0;
  virtual Result<FileInfo> stat(int fd, std::string_view name, FailSite site) = 0;
  // Reads exactly n bytes at offset; corrupt when the file ends first.
  virtual Status read_at(int fd, void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) = 0;
  // Writes exactly n bytes at offset (retrying short writes of the kernel).
  virtual Status write_at(int fd, const void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) = 0;
  // Makes the file's data and size durable (fdatasync).
  virtual Status sync(int fd, std::string_view name, FailSite site) = 0;
  virtual Status truncate(int fd, uint64_t size, std::string_view name, FailSite site) = 0;
  // Reserves blocks so later writes through a mapping cannot fail for space.
  virtual Status allocate(int fd, uint64_t offset, uint64_t len, std::string_view name, FailSite site) = 0;
  // Maps the first len bytes of the file, shared; resource-exhausted on ENOMEM.
  virtual Result<void*> map(int fd, uint64_t len, bool writable, std::string_view name, FailSite site) = 0;
  virtual void unmap(void* addr, uint64_t len) = 0;
  virtual Status rename(const std::string& from, const std::string& to, FailSite site) = 0;
  virtual Status unlink(const std::string& path, FailSite site) = 0;
  virtual Status make_dir(const std::string& path, FailSite site) = 0;
  virtual Status sync_dir(const std::string& path, FailSite site) = 0;
  virtual Result<std::vector<std::string>> list_dir(const std::string& path, FailSite site) = 0;
  // Takes an exclusive advisory lock on the open file; busy at once if another
  // open file description holds it (in this process or another).
  virtual Status lock_exclusive(int fd, std::string_view name, FailSite site) = 0;
};

// The POSIX Env, with failpoints where compiled in. Never destroyed.
Env* default_env();

}  // namespace vstore
