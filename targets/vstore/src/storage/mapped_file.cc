#include "storage/mapped_file.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include "vstore/regression.h"

namespace vstore::internal {

namespace {
std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace

Status MapGuard::check(uint64_t offset, uint64_t len, const char* what) const {
  if (bytes(offset, len) != nullptr) return Status::Ok();
  return Status::Corrupt(fmt::format("{}: offset {}: {} of {} bytes lies beyond the {} bytes mapped",
                                     name_ ? *name_ : std::string("?"), offset, what, len, size_));
}

MappedFile::MappedFile(Env* env, std::string path, FileHandle fd, bool writable_mapping)
    : env_(env), path_(std::move(path)), name_(base_name(path_)), fd_(std::move(fd)), writable_mapping_(writable_mapping) {}

MappedFile::~MappedFile() = default;

Status MappedFile::map(uint64_t size, FailSite site) {
  Result<void*> addr = env_->map(fd_.fd(), size, writable_mapping_, name_, site);
  std::shared_ptr<Mapping> m;
  if (!addr.ok()) {
    if (!regression_enabled(Regression::unchecked_mapping)) return addr.status();
    // 004 #5: the result of mmap is used without a check.
    m = std::make_shared<Mapping>(env_, MAP_FAILED, size, /*owned=*/false, name_);
  } else {
    m = std::make_shared<Mapping>(env_, *addr, size, /*owned=*/true, name_);
  }
  std::shared_ptr<Mapping> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(current_);
    current_ = m;
    if (!regression_enabled(Regression::stale_size)) tracked_size_ = size;
  }
  if (regression_enabled(Regression::unlocked_grow)) {
    // 004 #4: remap under the readers' feet: publish the new pointer without
    // exclusion and unmap the old region at once.
    racy_data_ = m->data();
    racy_size_ = size;
    if (old) old->unmap_now();
  }
  return Status::Ok();
}

Result<std::unique_ptr<MappedFile>> MappedFile::open(Env* env, const std::string& path, bool writable, uint64_t map_size) {
  VSTORE_ASSIGN_OR_RETURN(FileHandle fd, env->open(path, writable ? OpenMode::read_write : OpenMode::read_only, FailSite::mapped_file_open));
  std::unique_ptr<MappedFile> f(new MappedFile(env, path, std::move(fd), writable));
  VSTORE_ASSIGN_OR_RETURN(FileInfo info, env->stat(f->fd(), f->name_, FailSite::mapped_file_fstat));
  if (!info.regular) return Status::Corrupt(fmt::format("{}: not a regular file", path));
  if (info.size == 0 && map_size == 0) return Status::Corrupt(fmt::format("{}: offset 0: the file is empty", path));
  f->capacity_ = info.size;
  f->tracked_size_ = map_size != 0 ? map_size : info.size;  // stale-size bug is on create/grow only
  VSTORE_RETURN_IF_ERROR(f->map(map_size != 0 ? map_size : info.size, FailSite::mapped_file_map));
  f->tracked_size_ = map_size != 0 ? map_size : info.size;
  f->mapped_size_ = f->tracked_size_;
  return f;
}

Result<std::unique_ptr<MappedFile>> MappedFile::create(Env* env, const std::string& path, std::span<const uint8_t> header,
                                                       uint64_t size, bool writable_mapping, bool preallocate) {
  VSTORE_ASSIGN_OR_RETURN(FileHandle fd, env->open(path, OpenMode::create_truncate, FailSite::mapped_file_create));
  std::unique_ptr<MappedFile> f(new MappedFile(env, path, std::move(fd), writable_mapping));
  if (preallocate) {
    VSTORE_RETURN_IF_ERROR(env->allocate(f->fd(), 0, size, f->name_, FailSite::mapped_file_fallocate));
  } else {
    VSTORE_RETURN_IF_ERROR(env->truncate(f->fd(), size, f->name_, FailSite::mapped_file_grow_ftruncate));
  }
  VSTORE_RETURN_IF_ERROR(env->write_at(f->fd(), header.data(), header.size(), 0, f->name_, FailSite::mapped_file_header_pwrite));
  f->capacity_ = size;
  VSTORE_RETURN_IF_ERROR(f->map(size, FailSite::mapped_file_map));
  f->mapped_size_ = size;
  return f;
}

MapGuard MappedFile::acquire() const {
  if (regression_enabled(Regression::unlocked_grow)) {
    if (racy_data_ != nullptr) return MapGuard(nullptr, racy_data_, racy_size_, &name_);
  }
  std::lock_guard lock(mu_);
  if (regression_enabled(Regression::view_outlives_guard)) {
    // The guard does not keep the mapping: it may be unmapped under the reader.
    return MapGuard(nullptr, current_->data(), tracked_size_, &name_);
  }
  return MapGuard(current_, current_->data(), tracked_size_, &name_);
}

Status MappedFile::grow(uint64_t min_size) { return grow_impl(min_size, FailSite::count_, false); }

Status MappedFile::grow_allocated(uint64_t min_size, FailSite allocate_site) { return grow_impl(min_size, allocate_site, true); }

Status MappedFile::grow_impl(uint64_t min_size, FailSite allocate_site, bool allocate) {
  if (min_size <= mapped_size_) return Status::Ok();
  uint64_t old_capacity = capacity_;
  if (min_size > capacity_) {
    uint64_t size = capacity_ < (1 << 16) ? (1 << 16) : capacity_;
    while (size < min_size) {
      if (size > (uint64_t{1} << 62)) return Status::Exhausted(fmt::format("{}: cannot grow to {} bytes", name_, min_size));
      size *= 2;
    }
    if (allocate) {
      VSTORE_RETURN_IF_ERROR(env_->allocate(fd_.fd(), capacity_, size - capacity_, name_, allocate_site));
    } else {
      VSTORE_RETURN_IF_ERROR(env_->truncate(fd_.fd(), size, name_, FailSite::mapped_file_grow_ftruncate));
    }
    capacity_ = size;
  }
  // If this fails the old mapping still serves all it held. The file goes back
  // to its old size (no mapping holds what was added), so that where the
  // address space ran out the store still opens; if that fails too, the next
  // grow maps again.
  if (Status mapped = map(capacity_, FailSite::mapped_file_grow_mmap); !mapped.ok()) {
    if (capacity_ != old_capacity && old_capacity >= mapped_size_ &&
        env_->truncate(fd_.fd(), old_capacity, name_, FailSite::mapped_file_grow_ftruncate).ok())
      capacity_ = old_capacity;
    return mapped;
  }
  mapped_size_ = capacity_;
  return Status::Ok();
}

Status MappedFile::write(uint64_t offset, const void* data, size_t n, FailSite site) {
  if (!within_bounds(offset, n, mapped_size_))
    return Status::Invalid(fmt::format("{}: write of {} bytes at offset {} beyond the file's {} bytes", name_, n, offset, capacity_));
  return env_->write_at(fd_.fd(), data, n, offset, name_, site);
}

void MappedFile::renamed_to(std::string path) {
  path_ = std::move(path);
  name_ = base_name(path_);
}

Status MappedFile::sync() { return env_->sync(fd_.fd(), name_, FailSite::mapped_file_sync_fsync); }

}  // namespace vstore::internal
