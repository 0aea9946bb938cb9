// Internal: a file read through a memory mapping, with its size tracked
// explicitly. Growing the file maps a new, larger generation; readers that hold
// a guard on the old generation keep reading it until they release the guard.
// No pointer into a mapping outlives the guard that keeps it mapped.
// Thread rule: acquire() from any thread; grow/write/sync from one writer at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "storage/bounds.h"
#include "vstore/env.h"
#include "vstore/status.h"

namespace vstore::internal {

// One mmap of a file's first `size` bytes; unmapped when the last guard drops.
class Mapping {
 public:
  Mapping(Env* env, void* addr, uint64_t size, bool owned, std::string name)
      : env_(env), addr_(addr), size_(size), owned_(owned), name_(std::move(name)) {}
  ~Mapping() {
    if (owned_) env_->unmap(addr_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  uint8_t* writable_data() const { return static_cast<uint8_t*>(addr_); }
  uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }
  // Regression unlocked-grow only: unmap now, whoever still reads it.
  void unmap_now() {
    if (owned_) env_->unmap(addr_, size_);
    owned_ = false;
  }

 private:
  Env* env_;
  void* addr_;
  uint64_t size_;
  bool owned_;
  std::string name_;  // the file's base name, for messages
};

// A reader's hold on one mapping generation. Every access is bounds-checked.
class MapGuard {
 public:
  MapGuard() = default;
  // `name` must outlive the guard; pass the mapping's own name where it is kept.
  MapGuard(std::shared_ptr<const Mapping> keep, const uint8_t* data, uint64_t size, const std::string* name)
      : keep_(std::move(keep)), data_(data), size_(size), name_(keep_ ? &keep_->name() : name) {}
  // The bytes [offset, offset + len), or nullptr when they are not all mapped.
  const uint8_t* bytes(uint64_t offset, uint64_t len) const {
    return within_bounds(offset, len, size_) ? data_ + offset : nullptr;
  }
  // The first mapped byte, for callers that bound-check each access against
  // size() themselves; writable only for files mapped writable.
  uint8_t* base() const { return const_cast<uint8_t*>(data_); }
  // As bytes(), with a corrupt Status naming the file and range when out of bounds.
  Status check(uint64_t offset, uint64_t len, const char* what) const;
  uint64_t size() const { return size_; }
  const std::string& name() const { return *name_; }
  // Drops the hold (the mapping may be unmapped once no guard holds it).
  void release() { keep_.reset(); }

 private:
  std::shared_ptr<const Mapping> keep_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  const std::string* name_ = nullptr;
};

class MappedFile {
 public:
  // Opens and maps an existing file whole. `map_size` != 0 maps that many bytes
  // instead of the real size (only the unvalidated-header regression does this).
  static Result<std::unique_ptr<MappedFile>> open(Env* env, const std::string& path, bool writable,
                                                  uint64_t map_size = 0);
  // Creates a file of `size` bytes starting with `header`, and maps it.
  // `preallocate` reserves its blocks (for files written through the mapping).
  static Result<std::unique_ptr<MappedFile>> create(Env* env, const std::string& path,
                                                    std::span<const uint8_t> header, uint64_t size,
                                                    bool writable_mapping, bool preallocate);
  ~MappedFile();

  MapGuard acquire() const;
  // The file's size as tracked (its real size unless another process changed it).
  uint64_t size() const { return capacity_; }
  // Grows the file to at least `min_size` bytes (doubling) and maps the new size.
  Status grow(uint64_t min_size);
  // As grow(), and reserves the new blocks first (files written through a
  // writable mapping, where a full disk would otherwise be a SIGBUS).
  Status grow_allocated(uint64_t min_size, FailSite allocate_site);
  // Writes bytes at offset; the range must lie within what grow() has mapped.
  Status write(uint64_t offset, const void* data, size_t n, FailSite site);
  // Makes every write durable.
  Status sync();
  // The current mapping, writable (files created with writable_mapping only).
  uint8_t* writable_data() const { return current_->writable_data(); }
  const std::string& path() const { return path_; }
  // Records that the file was renamed (names in messages follow).
  void renamed_to(std::string path);
  const std::string& name() const { return name_; }
  int fd() const { return fd_.fd(); }
  Env* env() const { return env_; }

 private:
  MappedFile(Env* env, std::string path, FileHandle fd, bool writable_mapping);
  Status map(uint64_t size, FailSite site);
  Status grow_impl(uint64_t min_size, FailSite allocate_site, bool allocate);

  Env* env_;
  std::string path_;
  std::string name_;  // the file's base name, for messages
  FileHandle fd_;
  bool writable_mapping_;
  uint64_t capacity_ = 0;     // the file's size
  uint64_t mapped_size_ = 0;  // what the newest mapping covers (writer side)
  mutable std::mutex mu_;
  std::shared_ptr<Mapping> current_;  // under mu_
  // What readers bound-check against: the mapping's size, or a stale value
  // under the stale-size regression.
  uint64_t tracked_size_ = 0;
  // Plain copies for the unlocked-grow regression, read without mu_.
  const uint8_t* racy_data_ = nullptr;
  uint64_t racy_size_ = 0;
};

}  // namespace vstore::internal
