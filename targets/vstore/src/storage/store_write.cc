// Writing: add, remove, sync. One writer at a time (write_mu_); readers run
// alongside and see a record only once it is fully written and indexed.
#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_set>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "storage/store_impl.h"
#include "vstore/regression.h"

namespace vstore::internal {

namespace {
// Bytes staged per chunk: bounds the buffers of a huge add.
constexpr size_t kChunkBytes = 16 << 20;
constexpr int kLinkAttempts = 8;
}  // namespace

bool StoreImpl::durably_gone(uint64_t id, uint64_t slot, uint64_t written) const {
  // Removed but uncommitted slots are still LIVE on disk and must stay findable
  // after a crash, so only slots that no longer hold this id live count as gone.
  ReadGuards g;
  g.visible = written;
  g.vectors = vectors_->acquire();
  g.attrs = attrs_->acquire();
  SlotRef ref;
  Status st = read_slot(g, slot, &ref, /*verify_checksum=*/false);
  return !st.ok() || ref.id != id;
}

Status StoreImpl::add(std::span<const Record> records) {
  // Records are written and published under the write lock; linking them into
  // the index, the expensive part, runs after it is released, so that adds from
  // several threads link in parallel.
  uint64_t first = 0, end = 0;
  Status st = add_locked(records, &first, &end);
  link_nodes(first, end);
  return st;
}

void StoreImpl::link_nodes(uint64_t first, uint64_t end) {
  if (first == end || graph_ == nullptr) return;
  HnswGraph* graph = graph_.get();  // stays: compaction waits for linking to finish
  for (uint64_t slot = first; slot < end; ++slot) {
    std::shared_lock state(state_mu_);
    // A fresh snapshot holds the node and the entry point; if the mappings
    // cannot show them (stale-size regression), the node stays unlinked.
    for (int attempt = 0; attempt < kLinkAttempts && !graph->link(graph_snapshot(), static_cast<uint32_t>(slot)); ++attempt) {
    }
  }
  graph->linking_done(end - first);
}

GraphSnapshot StoreImpl::graph_snapshot() const {
  uint64_t visible = visible_slots_.load(std::memory_order_acquire);
  return graph_->snapshot(visible, vectors_->acquire());
}

Status StoreImpl::add_locked(std::span<const Record> records, uint64_t* first_slot, uint64_t* end_slot) {
  std::lock_guard lock(write_mu_);
  *first_slot = *end_slot = visible_slots_.load(std::memory_order_relaxed);
  VSTORE_RETURN_IF_ERROR(check_writable());
  {
    std::vector<uint64_t> sorted_ids;
    sorted_ids.reserve(records.size());
    for (const Record& r : records) sorted_ids.push_back(r.id);
    std::sort(sorted_ids.begin(), sorted_ids.end());
    auto dup = std::adjacent_find(sorted_ids.begin(), sorted_ids.end());
    if (dup != sorted_ids.end()) return Status::Invalid(fmt::format("id {} appears twice in the batch", *dup));
  }
  {
    std::shared_lock state(state_mu_);
    ReadGuards g = acquire_guards();
    for (size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      if (r.vector.size() != dim())
        return Status::Invalid(fmt::format("record {} (id {}): vector has {} values, the store's dimension is {}", i, r.id, r.vector.size(), dim()));
      VSTORE_RETURN_IF_ERROR(check_attributes(r.attributes));
      Result<uint64_t> existing = find_live(g, r.id);
      if (existing.ok()) return Status::Invalid(fmt::format("record {}: id {} already exists", i, r.id));
      if (existing.status().code() != Code::not_found) return existing.status();
    }
  }
  size_t begin = 0;
  while (begin < records.size()) {
    size_t end = begin, bytes = 0;
    while (end < records.size() && (end == begin || bytes < kChunkBytes)) {
      bytes += slot_size_ + 64;
      for (const Attribute& a : records[end].attributes) bytes += a.key.size() + a.value.size();
      ++end;
    }
    Status st = add_chunk(records.subspan(begin, end - begin));
    *end_slot = visible_slots_.load(std::memory_order_relaxed);
    VSTORE_RETURN_IF_ERROR(st);
    begin = end;
  }
  return Status::Ok();
}

Status StoreImpl::add_chunk(std::span<const Record> records) {
  const uint64_t slot_size = slot_size_;
  const uint64_t first = visible_slots_.load(std::memory_order_relaxed);
  uint64_t slots_offset, slots_end;
  if (!checked_mul_add(first, slot_size, kDataStart, &slots_offset) ||
      !checked_mul_add(first + records.size(), slot_size, kDataStart, &slots_end))
    return Status::Exhausted(fmt::format("{}: slot offsets past 2^64 bytes", vectors_->name()));

  // The chunk's bytes are staged in memory first (up to kChunkBytes): under an
  // address-space limit that allocation can fail before any file's growth
  // does, and it is then the same clean resource_exhausted, not an exception
  // out of add() (nothing has been written yet).
  std::string attrs;
  std::vector<uint8_t> slots;
  try {
    attrs.reserve(records.size() * 64);
    slots.assign(records.size() * slot_size, 0);
  } catch (const std::bad_alloc&) {
    return Status::Exhausted(fmt::format("{}: out of memory staging {} records ({} bytes)", vectors_->name(), records.size(), records.size() * slot_size));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    SlotHeader h;
    h.state = kSlotLive;
    h.attr_offset = attrs_end_ + attrs.size();
    h.attr_len = append_attributes(r.attributes, &attrs);
    h.id = r.id;
    h.checksum = slot_checksum(h.id, h.attr_offset, h.attr_len, r.vector.data(), 4ull * dim(), attrs.data() + (attrs.size() - h.attr_len), h.attr_len);
    uint8_t* p = slots.data() + i * slot_size;
    std::memcpy(p, &h, sizeof h);
    std::memcpy(p + sizeof h, r.vector.data(), 4ull * dim());
  }
  // Attributes first, then the slots that point at them; nothing is visible
  // until visible_slots_ moves, so a failure here leaves the store as it was.
  if (!attrs.empty()) {
    VSTORE_RETURN_IF_ERROR(attrs_->grow(kDataStart + attrs_end_ + attrs.size()));
    VSTORE_RETURN_IF_ERROR(attrs_->write(kDataStart + attrs_end_, attrs.data(), attrs.size(), FailSite::mapped_file_append_pwrite));
  }
  VSTORE_RETURN_IF_ERROR(vectors_->grow(slots_end));
  VSTORE_RETURN_IF_ERROR(vectors_->write(slots_offset, slots.data(), slots.size(), FailSite::mapped_file_append_pwrite));
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_add_after_data));
  const uint64_t written = first + records.size();
  auto gone = [this, written](uint64_t id, uint64_t slot) { return durably_gone(id, slot, written); };
  for (size_t i = 0; i < records.size(); ++i) VSTORE_RETURN_IF_ERROR(ids_->insert(records[i].id, first + i, gone));
  if (graph_ != nullptr) {
    VSTORE_RETURN_IF_ERROR(graph_->allocate(first, records.size(), [&](uint64_t i) { return records[i].vector.data(); }));
  }
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_add_before_publish));
  attrs_end_ += attrs.size();
  if (graph_ != nullptr) {
    graph_->publish(first + records.size());
    graph_->linking_started(records.size());  // before readers or sync can see the nodes
  }
  live_count_.fetch_add(records.size(), std::memory_order_acq_rel);
  visible_slots_.store(first + records.size(), std::memory_order_release);
  return Status::Ok();
}

Result<uint64_t> StoreImpl::remove(std::span<const uint64_t> ids) {
  std::lock_guard lock(write_mu_);
  VSTORE_RETURN_IF_ERROR(check_writable());
  std::vector<uint64_t> slots;
  {
    std::shared_lock state(state_mu_);
    ReadGuards g = acquire_guards();
    std::unordered_set<uint64_t> seen;
    for (uint64_t id : ids) {
      Result<uint64_t> slot = find_live(g, id);
      if (slot.ok()) {
        if (seen.insert(*slot).second) slots.push_back(*slot);
      } else if (slot.status().code() != Code::not_found) {
        return slot.status();
      }
    }
  }
  if (slots.empty()) return uint64_t{0};
  mark_removed(slots);
  return static_cast<uint64_t>(slots.size());
}

void StoreImpl::mark_removed(const std::vector<uint64_t>& slots) {
  // The index keeps removed nodes as waypoints (their vectors stay until
  // compaction); searches skip them as results.
  std::unique_lock state(state_mu_);
  for (uint64_t s : slots) {
    pending_set_.insert(s);
    pending_order_.push_back(s);
  }
  live_count_.fetch_sub(slots.size(), std::memory_order_acq_rel);
}

Status StoreImpl::apply_tombstones(const std::vector<uint64_t>& slots) {
  const uint32_t dead = kSlotDead;
  for (uint64_t slot : slots) {
    uint64_t offset;
    if (!checked_mul_add(slot, slot_size_, kDataStart, &offset))
      return Status::Corrupt(fmt::format("slot {} lies past 2^64 bytes", slot));
    VSTORE_RETURN_IF_ERROR(vectors_->write(offset, &dead, sizeof dead, FailSite::mapped_file_update_pwrite));
  }
  return vectors_->sync();
}

Status StoreImpl::sync() {
  std::lock_guard lock(write_mu_);
  if (closed_) return Status::Invalid(fmt::format("{}: the store is closed", dir_));
  if (read_only_) return Status::Ok();
  return sync_locked();
}

Status StoreImpl::sync_locked() {
  // A commit never holds a node whose links are half made.
  if (graph_ != nullptr) graph_->wait_until_linked();
  uint64_t visible = visible_slots_.load(std::memory_order_acquire);
  if (visible == manifest_.slot_count && pending_order_.empty() && attrs_end_ == manifest_.attrs_bytes) return Status::Ok();
  if (!regression_enabled(Regression::ack_before_sync)) {
    VSTORE_RETURN_IF_ERROR(attrs_->sync());
    VSTORE_RETURN_IF_ERROR(vectors_->sync());
    VSTORE_RETURN_IF_ERROR(ids_->sync());
  }
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_sync_after_data));
  Manifest next = manifest_;
  next.commit_seq += 1;
  if (graph_ != nullptr) {
    VSTORE_RETURN_IF_ERROR(graph_->commit(next.commit_seq, visible));
    next.graph_bytes = graph_->node_bytes(visible);
  }
  next.slot_count = visible;
  next.live_count = live_count_.load(std::memory_order_acquire);
  next.attrs_bytes = attrs_end_;
  next.pending_removes = pending_order_;
  VSTORE_RETURN_IF_ERROR(write_manifest(env_, dir_, next));
  commit_manifest(next);
  if (graph_ != nullptr) graph_->mark_clean().ignore();  // a failure costs a rebuild at the next open
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_sync_after_commit));
  if (!pending_order_.empty()) {
    // Committed: the tombstones go on disk now; MANIFEST lists them until the
    // next commit, so a crash in between re-applies them at open.
    VSTORE_RETURN_IF_ERROR(apply_tombstones(pending_order_));
    std::unique_lock state(state_mu_);
    pending_set_.clear();
    pending_order_.clear();
  }
  return Status::Ok();
}

Status StoreImpl::append_empty_slots_for_testing(uint64_t n) {
  std::lock_guard lock(write_mu_);
  VSTORE_RETURN_IF_ERROR(check_writable());
  uint64_t first = visible_slots_.load(std::memory_order_relaxed), end;
  if (!checked_mul_add(first + n, slot_size_, kDataStart, &end)) return Status::Invalid("too many slots");
  VSTORE_RETURN_IF_ERROR(vectors_->grow(end));  // ftruncate: sparse, reads as zero (EMPTY)
  if (graph_ != nullptr) {
    // Nodes with no links that nothing links to: never reached, never returned.
    static const std::vector<float> zeros(dim(), 0.0f);
    VSTORE_RETURN_IF_ERROR(graph_->allocate(first, n, [](uint64_t) { return zeros.data(); }));
    graph_->publish(first + n);
  }
  visible_slots_.store(first + n, std::memory_order_release);
  return Status::Ok();
}

}  // namespace vstore::internal
