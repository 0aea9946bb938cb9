// Searching (through the index, or by scanning) and deleting by filter.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "storage/store_impl.h"
#include "vstore/filter.h"
#include "vstore/regression.h"

namespace vstore::internal {

namespace {

uint32_t slot_state(const uint8_t* slot) {
  // The writer's tombstone may land meanwhile; a stale LIVE is a removal not yet seen.
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(reinterpret_cast<const uint32_t*>(slot))).load(std::memory_order_relaxed);
}

}  // namespace

Result<std::vector<SearchHit>> StoreImpl::search(std::span<const float> query, const SearchOptions& options) const {
  if (query.size() != dim())
    return Status::Invalid(fmt::format("the query has {} values, the store's dimension is {}", query.size(), dim()));
  if (options.k == 0) return std::vector<SearchHit>{};
  std::shared_lock lock(state_mu_);
  if (graph_ == nullptr) return exact_search_locked(query, options.k);
  std::vector<Neighbour> found;
  GraphSnapshot snap;
  for (int attempt = 0;; ++attempt) {
    // If the mappings cannot show the entry point (stale-size regression), scan.
    if (attempt == 8) return exact_search_locked(query, options.k);
    snap = graph_snapshot();
    // A result must be a live record now: written LIVE and not removed since.
    auto eligible = [&](uint32_t node) {
      return slot_state(snap.vectors + kDataStart + node * snap.slot_size) == kSlotLive && !pending_removed(node);
    };
    if (graph_->search(snap, query.data(), options.k, options.ef, eligible, &found)) break;
  }
  std::vector<SearchHit> hits;
  hits.reserve(found.size());
  for (const Neighbour& n : found) {
    uint64_t id;
    std::memcpy(&id, snap.vectors + kDataStart + n.node * snap.slot_size + offsetof(SlotHeader, id), sizeof id);
    hits.push_back({id, n.distance});
  }
  return hits;
}

Result<std::vector<SearchHit>> StoreImpl::exact_search(std::span<const float> query, size_t k) const {
  if (query.size() != dim())
    return Status::Invalid(fmt::format("the query has {} values, the store's dimension is {}", query.size(), dim()));
  std::shared_lock lock(state_mu_);
  return exact_search_locked(query, k);
}

Result<std::vector<SearchHit>> StoreImpl::exact_search_locked(std::span<const float> query, size_t k) const {
  std::vector<SearchHit> heap;  // a max-heap of the k nearest so far
  if (k == 0) return heap;
  Distance distance(metric(), dim());
  float q_inv = distance.needs_norms() ? distance.inverse_norm(query.data()) : 0.0f;
  auto farther = [](const SearchHit& a, const SearchHit& b) { return a.distance < b.distance; };
  ReadGuards g = acquire_guards();
  for (uint64_t slot = 0; slot < g.visible; ++slot) {
    if (pending_removed(slot)) continue;
    SlotRef ref;
    Status st = read_slot(g, slot, &ref, /*verify_checksum=*/false);
    if (st.code() == Code::not_found) continue;
    VSTORE_RETURN_IF_ERROR(st);
    float d = distance(query.data(), q_inv, ref.vector, distance.needs_norms() ? distance.inverse_norm(ref.vector) : 0.0f);
    if (heap.size() < k || d < heap.front().distance) {
      heap.push_back({ref.id, d});
      std::push_heap(heap.begin(), heap.end(), farther);
      if (heap.size() > k) {
        std::pop_heap(heap.begin(), heap.end(), farther);
        heap.pop_back();
      }
    }
  }
  std::sort_heap(heap.begin(), heap.end(), farther);
  return heap;
}

Result<uint64_t> StoreImpl::delete_where(const Filter& filter) {
  std::lock_guard lock(write_mu_);
  VSTORE_RETURN_IF_ERROR(check_writable());
  std::vector<uint64_t> slots;
  {
    std::shared_lock state(state_mu_);
    VSTORE_RETURN_IF_ERROR(visit_live(acquire_guards(), [&](const SlotRef& ref) {
      auto lookup = [&ref](std::string_view key) { return find_attribute(ref.attrs, ref.attrs_len, key); };
      if (filter.matches(AttributeLookup(lookup))) slots.push_back(ref.slot);
      return true;
    }));
  }
  if (slots.empty()) return uint64_t{0};
  // One commit holds every removal: a crash before it keeps them all, after it
  // none (MANIFEST lists them until their tombstones are down).
  mark_removed(slots);
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_delete_where_after_mark));
  VSTORE_RETURN_IF_ERROR(sync_locked());
  return static_cast<uint64_t>(slots.size());
}

}  // namespace vstore::internal
