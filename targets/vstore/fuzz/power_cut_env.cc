#include "power_cut_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace vstore_fuzz {

using vstore::FailSite;
using vstore::Result;
using vstore::Status;

PowerCutEnv::~PowerCutEnv() { reset(); }

void PowerCutEnv::reset() {
  std::lock_guard lock(mu_);
  for (auto& [key, f] : files_) ::close(f.fd);
  files_.clear();
  created_.clear();
  failing_ = false;
}

PowerCutEnv::FileUndo* PowerCutEnv::track(int fd, bool created) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return nullptr;
  Key key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  auto it = files_.find(key);
  if (it != files_.end()) return &it->second;
  FileUndo f;
  f.fd = ::dup(fd);
  if (f.fd < 0) return nullptr;
  f.durable_size = created || created_.count(key) ? 0 : static_cast<uint64_t>(st.st_size);
  return &files_.emplace(key, std::move(f)).first->second;
}

void PowerCutEnv::power_cut() {
  std::lock_guard lock(mu_);
  for (auto& [key, f] : files_) {
    for (auto r = f.regions.rbegin(); r != f.regions.rend(); ++r)
      if (::pwrite(f.fd, r->old_bytes.data(), r->old_bytes.size(), static_cast<off_t>(r->offset)) < 0) {
        // Best effort, as a disk's own: the truncate below still drops what lies past the durable size.
      }
    if (::ftruncate(f.fd, static_cast<off_t>(f.durable_size)) != 0) {
    }
    ::close(f.fd);
  }
  files_.clear();
  created_.clear();
  failing_ = false;
}

Status PowerCutEnv::refused(std::string_view what) const {
  return Status::Io(std::string(what) + ": refused: the power is off (vstore_ops simulates a power cut)");
}

Result<vstore::FileHandle> PowerCutEnv::open(const std::string& path, vstore::OpenMode mode, FailSite site) {
  bool creates = mode == vstore::OpenMode::create_exclusive || mode == vstore::OpenMode::create_truncate;
  if (creates && failing_) return refused(path);
  Result<vstore::FileHandle> h = base_->open(path, mode, site);
  if (h.ok() && creates) {
    // Remembered by inode, not tracked (no dup) until the first change: a dup
    // would hold the LOCK file's lock past the store's close.
    struct stat st;
    std::lock_guard lock(mu_);
    if (::fstat(h->fd(), &st) == 0) {
      Key key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
      created_.insert(key);
      auto it = files_.find(key);
      if (it != files_.end()) {
        it->second.durable_size = 0;
        it->second.regions.clear();
      }
    }
  }
  return h;
}

Result<vstore::FileInfo> PowerCutEnv::stat(int fd, std::string_view name, FailSite site) { return base_->stat(fd, name, site); }

Status PowerCutEnv::read_at(int fd, void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) {
  return base_->read_at(fd, buf, n, offset, name, site);
}

Status PowerCutEnv::write_at(int fd, const void* buf, size_t n, uint64_t offset, std::string_view name, FailSite site) {
  if (failing_) return refused(name);
  {
    std::lock_guard lock(mu_);
    if (FileUndo* f = track(fd, false)) {
      struct stat st;
      uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      Region r{offset, {}};
      if (offset < size) {
        r.old_bytes.resize(std::min<uint64_t>(n, size - offset));
        ssize_t got = ::pread(fd, r.old_bytes.data(), r.old_bytes.size(), static_cast<off_t>(offset));
        r.old_bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
      }
      f->regions.push_back(std::move(r));
    }
  }
  return base_->write_at(fd, buf, n, offset, name, site);
}

Status PowerCutEnv::sync(int fd, std::string_view name, FailSite site) {
  if (failing_) return refused(name);
  Status st = base_->sync(fd, name, site);
  if (st.ok()) {
    std::lock_guard lock(mu_);
    if (FileUndo* f = track(fd, false)) {
      struct stat s;
      f->durable_size = ::fstat(fd, &s) == 0 ? static_cast<uint64_t>(s.st_size) : f->durable_size;
      f->regions.clear();
    }
  }
  return st;
}

Status PowerCutEnv::truncate(int fd, uint64_t size, std::string_view name, FailSite site) {
  if (failing_) return refused(name);
  {
    std::lock_guard lock(mu_);
    FileUndo* f = track(fd, false);
    // Bytes a shrink drops are put back by the undo only if they were written
    // since the sync; keep the old tail as a region so a cut restores it.
    struct stat st;
    if (f != nullptr && ::fstat(fd, &st) == 0 && size < static_cast<uint64_t>(st.st_size)) {
      Region r{size, std::vector<char>(static_cast<size_t>(st.st_size) - size)};
      ssize_t got = ::pread(fd, r.old_bytes.data(), r.old_bytes.size(), static_cast<off_t>(size));
      r.old_bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
      f->regions.push_back(std::move(r));
    }
  }
  return base_->truncate(fd, size, name, site);
}

Status PowerCutEnv::allocate(int fd, uint64_t offset, uint64_t len, std::string_view name, FailSite site) {
  if (failing_) return refused(name);
  {
    std::lock_guard lock(mu_);
    track(fd, false);  // growth is undone by the cut's truncate to the durable size
  }
  return base_->allocate(fd, offset, len, name, site);
}

Result<void*> PowerCutEnv::map(int fd, uint64_t len, bool writable, std::string_view name, FailSite site) {
  return base_->map(fd, len, writable, name, site);
}

void PowerCutEnv::unmap(void* addr, uint64_t len) { base_->unmap(addr, len); }

Status PowerCutEnv::rename(const std::string& from, const std::string& to, FailSite site) {
  if (failing_) return refused(from);
  return base_->rename(from, to, site);
}

Status PowerCutEnv::unlink(const std::string& path, FailSite site) {
  if (failing_) return refused(path);
  return base_->unlink(path, site);
}

Status PowerCutEnv::make_dir(const std::string& path, FailSite site) {
  if (failing_) return refused(path);
  return base_->make_dir(path, site);
}

Status PowerCutEnv::sync_dir(const std::string& path, FailSite site) {
  if (failing_) return refused(path);
  return base_->sync_dir(path, site);
}

Result<std::vector<std::string>> PowerCutEnv::list_dir(const std::string& path, FailSite site) { return base_->list_dir(path, site); }

Status PowerCutEnv::lock_exclusive(int fd, std::string_view name, FailSite site) { return base_->lock_exclusive(fd, name, site); }

}  // namespace vstore_fuzz
