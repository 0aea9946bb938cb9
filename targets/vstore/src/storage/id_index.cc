#include "storage/id_index.h"

#include <atomic>

#include <fmt/format.h>

#include "failpoint/evaluate.h"

namespace vstore::internal {

namespace {
constexpr uint64_t kBucketSize = 16;
constexpr uint64_t kMinCapacity = 1024;
constexpr uint64_t kMaxCapacity = uint64_t{1} << 36;

uint64_t* bucket_at(uint8_t* base, uint64_t i) { return reinterpret_cast<uint64_t*>(base + kDataStart + i * kBucketSize); }
}  // namespace

Result<std::unique_ptr<MappedFile>> IdIndex::create_file(Env* env, const std::string& path, const StoreIdentity& id, uint64_t capacity) {
  FileHeader h = make_file_header(FileKind::ids, id, kBucketSize, capacity);
  return MappedFile::create(env, path, {reinterpret_cast<const uint8_t*>(&h), sizeof h}, kDataStart + capacity * kBucketSize,
                            /*writable_mapping=*/true, /*preallocate=*/true);
}

Result<std::unique_ptr<IdIndex>> IdIndex::create(Env* env, const std::string& dir, const StoreIdentity& id, uint64_t capacity) {
  uint64_t cap = kMinCapacity;
  while (cap < capacity && cap < kMaxCapacity) cap *= 2;
  std::unique_ptr<IdIndex> index(new IdIndex(env, dir, id));
  VSTORE_ASSIGN_OR_RETURN(index->file_, create_file(env, dir + "/" + data_file_name(FileKind::ids, id.generation), id, cap));
  index->capacity_ = cap;
  return index;
}

Result<std::unique_ptr<IdIndex>> IdIndex::open(Env* env, const std::string& dir, const StoreIdentity& id, bool writable) {
  std::unique_ptr<IdIndex> index(new IdIndex(env, dir, id));
  VSTORE_ASSIGN_OR_RETURN(index->file_, MappedFile::open(env, dir + "/" + data_file_name(FileKind::ids, id.generation), writable));
  MapGuard g = index->file_->acquire();
  FileHeader h;
  VSTORE_RETURN_IF_ERROR(check_file_header(g.bytes(0, 0), g.size(), index->file_->name(), FileKind::ids, id, &h));
  if (h.record_size != kBucketSize)
    return Status::Corrupt(fmt::format("{}: offset {}: bucket size {}, expected {}", index->file_->name(), offsetof(FileHeader, record_size), h.record_size, kBucketSize));
  if (h.capacity < kMinCapacity || h.capacity > kMaxCapacity || (h.capacity & (h.capacity - 1)) != 0)
    return Status::Corrupt(fmt::format("{}: offset {}: capacity {}, expected a power of two from {} to {}", index->file_->name(),
                                       offsetof(FileHeader, capacity), h.capacity, kMinCapacity, kMaxCapacity));
  if (g.size() != kDataStart + h.capacity * kBucketSize)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes; {} buckets need {}", index->file_->name(), g.size(), h.capacity,
                                       kDataStart + h.capacity * kBucketSize));
  index->capacity_ = h.capacity;
  if (writable) index->used_ = index->count_used();
  return index;
}

uint64_t IdIndex::count_used() const {
  // O(capacity), at writer open only: the load factor decides when to grow.
  MapGuard g = file_->acquire();
  const uint8_t* base = g.bytes(kDataStart, capacity_ * kBucketSize);
  uint64_t used = 0;
  for (uint64_t i = 0; i < capacity_; ++i) {
    uint64_t v;
    std::memcpy(&v, base + i * kBucketSize + 8, 8);
    used += v != 0;
  }
  return used;
}

IdIndex::Snapshot IdIndex::snapshot() const {
  Snapshot s;
  std::lock_guard lock(mu_);
  s.guard_ = file_->acquire();
  s.mask_ = capacity_ - 1;
  return s;
}

Status IdIndex::insert(uint64_t id, uint64_t slot, const GoneFn& gone) {
  if ((used_ + 1) * 10 > capacity_ * 7) {
    if (capacity_ >= kMaxCapacity) return Status::Exhausted(fmt::format("{}: the id table is full at {} buckets", name(), capacity_));
    VSTORE_RETURN_IF_ERROR(rehash(capacity_ * 2, gone));
  }
  uint8_t* base = file_->writable_data();
  uint64_t mask = capacity_ - 1;
  uint64_t i = hash(id) & mask;
  for (uint64_t probes = 0; probes <= mask; ++probes, i = (i + 1) & mask) {
    uint64_t* b = bucket_at(base, i);
    uint64_t slot_plus1 = std::atomic_ref<uint64_t>(b[1]).load(std::memory_order_relaxed);
    if (slot_plus1 == 0) {
      std::atomic_ref<uint64_t>(b[0]).store(id, std::memory_order_relaxed);
      std::atomic_ref<uint64_t>(b[1]).store(slot + 1, std::memory_order_release);
      ++used_;
      return Status::Ok();
    }
    if (std::atomic_ref<uint64_t>(b[0]).load(std::memory_order_relaxed) == id && gone(id, slot_plus1 - 1)) {
      std::atomic_ref<uint64_t>(b[1]).store(slot + 1, std::memory_order_release);
      return Status::Ok();
    }
  }
  return Status::Exhausted(fmt::format("{}: no free bucket among {}", name(), capacity_));
}

Status IdIndex::rehash(uint64_t new_capacity, const GoneFn& gone) {
  std::string final_path = dir_ + "/" + data_file_name(FileKind::ids, identity_.generation);
  std::string tmp_path = final_path + ".tmp";
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> fresh, create_file(env_, tmp_path, identity_, new_capacity));
  const uint8_t* old_base = file_->writable_data();
  uint8_t* new_base = fresh->writable_data();
  uint64_t mask = new_capacity - 1, used = 0;
  for (uint64_t i = 0; i < capacity_; ++i) {
    const uint64_t* b = reinterpret_cast<const uint64_t*>(old_base + kDataStart + i * kBucketSize);
    if (b[1] == 0 || gone(b[0], b[1] - 1)) continue;
    uint64_t j = hash(b[0]) & mask;
    while (bucket_at(new_base, j)[1] != 0) j = (j + 1) & mask;
    bucket_at(new_base, j)[0] = b[0];
    bucket_at(new_base, j)[1] = b[1];
    ++used;
  }
  VSTORE_RETURN_IF_ERROR(fresh->sync());
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::id_index_rehash));
  VSTORE_RETURN_IF_ERROR(env_->rename(tmp_path, final_path, FailSite::id_index_rehash_rename));
  fresh->renamed_to(final_path);
  std::lock_guard lock(mu_);
  file_ = std::move(fresh);  // readers holding the old mapping keep it until they let go
  capacity_ = new_capacity;
  used_ = used;
  return Status::Ok();
}

Status IdIndex::sync() { return file_->sync(); }

}  // namespace vstore::internal
