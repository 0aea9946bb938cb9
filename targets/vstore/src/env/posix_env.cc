// The POSIX implementation of the I/O seam. Where failpoints are compiled in, each
// call first evaluates its site; while a crash action is armed, every write that
// is not yet synced is recorded (old bytes, old size) so that a simulated power
// cut can undo it before the process kills itself.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "env/power_cut.h"
#include "failpoint/evaluate.h"
#include "vstore/env.h"

namespace vstore {

FileHandle& FileHandle::operator=(FileHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

using internal::FailOutcome;

std::string op_name(std::string_view op, std::string_view name) { return fmt::format("{} {}", op, name); }

// Evaluates the site; an injected error is returned as that errno's Status.
#define VSTORE_ENV_FAILPOINT(site, op, name)                                          \
  FailOutcome fail_ = internal::failpoint_eval(site);                                \
  if (fail_.kind == FailOutcome::error)                                              \
    return status_from_errno(fail_.err, fmt::format("{} (failpoint {})", op_name(op, name), failpoint_name(site)));

class PosixEnv final : public Env {
 public:
  Result<FileHandle> open(const std::string& path, OpenMode mode, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "open", path);
    int flags = O_CLOEXEC | O_NOFOLLOW;
    switch (mode) {
      case OpenMode::read_only: flags |= O_RDONLY | O_NONBLOCK; break;
      case OpenMode::read_write: flags |= O_RDWR | O_NONBLOCK; break;
      case OpenMode::create_exclusive: flags |= O_RDWR | O_CREAT | O_EXCL; break;
      case OpenMode::create_truncate: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      if (errno == EISDIR || errno == ELOOP) return Status::Corrupt(fmt::format("{}: not a regular file", path));
      return status_from_errno(errno, op_name("open", path));
    }
    // O_NONBLOCK stays on: it keeps a FIFO from hanging open, and Linux
    // ignores it for regular files, the only kind the store reads once it
    // has checked (stat's `regular`). Clearing it cost two system calls per
    // file, 30 of a small store's 150 per open-and-fsck.
    if (internal::crash_armed() && (mode == OpenMode::create_exclusive || mode == OpenMode::create_truncate))
      internal::power_cut_log().record_created(fd);
    return FileHandle(fd);
  }

  Result<FileInfo> stat(int fd, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "fstat", name);
    struct stat st;
    if (::fstat(fd, &st) != 0) return status_from_errno(errno, op_name("fstat", name));
    FileInfo info;
    info.size = static_cast<uint64_t>(st.st_size);
    info.regular = S_ISREG(st.st_mode);
    info.directory = S_ISDIR(st.st_mode);
    info.device = st.st_dev;
    info.inode = st.st_ino;
    return info;
  }

  Status read_at(int fd, void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "pread", name);
    size_t limit = fail_.kind == FailOutcome::short_io ? std::min<uint64_t>(n, fail_.bytes) : n;
    auto* p = static_cast<char*>(buf);
    size_t done = 0;
    while (done < limit) {
      ssize_t r = ::pread(fd, p + done, limit - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return status_from_errno(errno, op_name("pread", name));
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    if (done < n) {
      if (fail_.kind == FailOutcome::short_io)
        return Status::Io(fmt::format("pread {}: short read of {} of {} bytes at offset {} (failpoint {})", name, done, n, offset, failpoint_name(site)));
      return Status::Corrupt(fmt::format("{}: offset {}: file ends after {} of the {} bytes expected", name, offset, done, n));
    }
    return Status::Ok();
  }

  Status write_at(int fd, const void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "pwrite", name);
    size_t limit = fail_.kind == FailOutcome::short_io ? std::min<uint64_t>(n, fail_.bytes) : n;
    if (internal::crash_armed()) internal::power_cut_log().record_write(fd, offset, limit);
    auto* p = static_cast<const char*>(buf);
    size_t done = 0;
    while (done < limit) {
      ssize_t r = ::pwrite(fd, p + done, limit - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return status_from_errno(errno, op_name("pwrite", name));
      }
      done += static_cast<size_t>(r);
    }
    if (done < n)
      return Status::Io(fmt::format("pwrite {}: short write of {} of {} bytes at offset {} (failpoint {})", name, done, n, offset, failpoint_name(site)));
    return Status::Ok();
  }

  Status sync(int fd, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "fdatasync", name);
    if (::fdatasync(fd) != 0) return status_from_errno(errno, op_name("fdatasync", name));
    if (internal::crash_armed()) internal::power_cut_log().record_sync(fd);
    return Status::Ok();
  }

  Status truncate(int fd, uint64_t size, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "ftruncate", name);
    if (internal::crash_armed()) internal::power_cut_log().record_truncate(fd);
    int r;
    do {
      r = ::ftruncate(fd, static_cast<off_t>(size));
    } while (r != 0 && errno == EINTR);
    if (r != 0) return status_from_errno(errno, fmt::format("ftruncate {} to {} bytes", name, size));
    return Status::Ok();
  }

  Status allocate(int fd, uint64_t offset, uint64_t len, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "fallocate", name);
    if (internal::crash_armed()) internal::power_cut_log().record_truncate(fd);
    int r = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (r == EOPNOTSUPP || r == EINVAL) {
      // Some file systems (tmpfs on old kernels) cannot preallocate; a plain
      // ftruncate still gives the size, and mapped writes then rely on free space.
      if (::ftruncate(fd, static_cast<off_t>(offset + len)) == 0) return Status::Ok();
      r = errno;
    }
    if (r != 0) return status_from_errno(r, fmt::format("fallocate {} bytes of {}", len, name));
    return Status::Ok();
  }

  Result<void*> map(int fd, uint64_t len, bool writable, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "mmap", name);
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void* p = ::mmap(nullptr, static_cast<size_t>(len), prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return status_from_errno(errno, fmt::format("mmap {} bytes of {}", len, name));
    return p;
  }

  void unmap(void* addr, uint64_t len) override {
    if (addr != nullptr && len > 0) ::munmap(addr, static_cast<size_t>(len));
  }

  Status rename(const std::string& from, const std::string& to, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "rename", from);
    if (::rename(from.c_str(), to.c_str()) != 0)
      return status_from_errno(errno, fmt::format("rename {} to {}", from, to));
    return Status::Ok();
  }

  Status unlink(const std::string& path, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "unlink", path);
    if (::unlink(path.c_str()) != 0) return status_from_errno(errno, op_name("unlink", path));
    return Status::Ok();
  }

  Status make_dir(const std::string& path, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "mkdir", path);
    if (::mkdir(path.c_str(), 0755) != 0) return status_from_errno(errno, op_name("mkdir", path));
    return Status::Ok();
  }

  Status sync_dir(const std::string& path, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "fsync", path);
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return status_from_errno(errno, op_name("open directory", path));
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return status_from_errno(err, op_name("fsync directory", path));
    return Status::Ok();
  }

  Result<std::vector<std::string>> list_dir(const std::string& path, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "readdir", path);
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return status_from_errno(errno, op_name("opendir", path));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return status_from_errno(err, op_name("readdir", path));
    return names;
  }

  Status lock_exclusive(int fd, std::string_view name, FailSite site) override {
    VSTORE_ENV_FAILPOINT(site, "flock", name);
    int r;
    do {
      r = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      if (errno == EWOULDBLOCK) return Status::Busy(fmt::format("{} is held by another writer", name));
      return status_from_errno(errno, op_name("flock", name));
    }
    return Status::Ok();
  }
};

}  // namespace

Env* default_env() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

}  // namespace vstore
