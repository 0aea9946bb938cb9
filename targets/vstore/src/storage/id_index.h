// Internal: the persisted id -> slot table (DIR/ids-G.bin), so that open stays
// O(1) and get(id) is one probe sequence on any size of store.
//
// Open addressing with linear probing over 16-byte buckets {id, slot + 1}
// (slot + 1 == 0: empty). The table is a verified cache: every hit is checked
// against the slot it names (same id, live, within the visible slots), so a
// bucket written by a session that crashed before its commit is harmless. A
// bucket is reused only when its slot is durably gone; otherwise insert takes
// the next empty bucket. The writer writes buckets through a shared mapping of a
// preallocated file (no space errors can arise there), key first and slot last
// with release order; readers load the slot with acquire before the key.
// Thread rule: snapshot() and find from any thread; insert and sync from the writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "storage/format.h"
#include "storage/mapped_file.h"

namespace vstore::internal {

class IdIndex {
 public:
  // Says whether a bucket (id -> slot) points at something durably gone.
  using GoneFn = std::function<bool(uint64_t id, uint64_t slot)>;

  static Result<std::unique_ptr<IdIndex>> create(Env* env, const std::string& dir, const StoreIdentity& id, uint64_t capacity);
  static Result<std::unique_ptr<IdIndex>> open(Env* env, const std::string& dir, const StoreIdentity& id, bool writable);

  // A reader's view: keeps the table's mapping alive while it probes.
  class Snapshot {
   public:
    // Calls accept(slot) for each bucket holding `id`, in probe order, until it
    // returns true; returns whether one did.
    template <typename Accept>
    bool find(uint64_t id, Accept&& accept) const;

   private:
    friend class IdIndex;
    MapGuard guard_;
    uint64_t mask_ = 0;
  };
  Snapshot snapshot() const;

  // Adds id -> slot, growing the table (a new file renamed into place) past 70% load.
  Status insert(uint64_t id, uint64_t slot, const GoneFn& gone);
  Status sync();
  uint64_t capacity() const { return capacity_; }
  uint64_t used() const { return used_; }
  const std::string& name() const { return file_->name(); }

  static uint64_t hash(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    id *= 0xc4ceb9fe1a85ec53ull;
    return id ^ (id >> 33);
  }

 private:
  IdIndex(Env* env, std::string dir, StoreIdentity identity) : env_(env), dir_(std::move(dir)), identity_(identity) {}
  static Result<std::unique_ptr<MappedFile>> create_file(Env* env, const std::string& path, const StoreIdentity& id, uint64_t capacity);
  Status rehash(uint64_t new_capacity, const GoneFn& gone);
  uint64_t count_used() const;

  Env* env_;
  std::string dir_;
  StoreIdentity identity_;
  mutable std::mutex mu_;  // guards file_ swaps against snapshot()
  std::unique_ptr<MappedFile> file_;
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;  // writer only
};

template <typename Accept>
bool IdIndex::Snapshot::find(uint64_t id, Accept&& accept) const {
  const uint8_t* base = guard_.bytes(kDataStart, (mask_ + 1) * 16);
  if (base == nullptr) return false;
  uint64_t i = hash(id) & mask_;
  for (uint64_t probes = 0; probes <= mask_; ++probes, i = (i + 1) & mask_) {
    auto* bucket = const_cast<uint64_t*>(reinterpret_cast<const uint64_t*>(base + i * 16));
    uint64_t slot_plus1 = std::atomic_ref<uint64_t>(bucket[1]).load(std::memory_order_acquire);
    if (slot_plus1 == 0) return false;
    if (std::atomic_ref<uint64_t>(bucket[0]).load(std::memory_order_relaxed) == id && accept(slot_plus1 - 1)) return true;
  }
  return false;
}

}  // namespace vstore::internal
